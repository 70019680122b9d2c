// Chat messages → prompt text. Models without a chat template get the documented plain template:
// the text of every message, in order, joined by a newline, with no role markers. A single user
// message therefore prompts the model with exactly its text, as a base model expects.

export interface TemplateMessage {
  role: string;
  content: string | { type: 'text'; text: string }[] | null;
}

export function messageText(content: TemplateMessage['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => part.text).join('');
}

export function renderPlainTemplate(messages: TemplateMessage[]): string {
  return messages
    .map((m) => messageText(m.content))
    .filter((t) => t.length > 0)
    .join('\n');
}
