// A model's chat template (tokenizer_config.json `chat_template`, Jinja) rendered with
// @huggingface/jinja, the renderer transformers.js uses: what the model was trained to read.
import { Template } from '@huggingface/jinja';
import { messageText, renderPlainTemplate, type TemplateMessage } from '../chat-template';

export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

export class ChatTemplate {
  private readonly template: Template;

  /** `specials`: bos_token, eos_token, … as the template names them. */
  constructor(
    readonly source: string,
    private readonly specials: Record<string, string> = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (err) {
      throw new ChatTemplateError(
        `chat template does not parse: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /**
   * The prompt text for `messages`, ending with the assistant's turn opened (add_generation_prompt).
   * `vars`: more template variables (`thinking`, `enable_thinking`).
   */
  render(
    messages: TemplateMessage[],
    addGenerationPrompt = true,
    vars: Record<string, unknown> = {},
  ): string {
    try {
      return this.template.render({
        ...this.specials,
        ...vars,
        messages: messages.map((m) => ({ role: m.role, content: messageText(m.content) })),
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (err) {
      // raise_exception() in a template is how models reject a conversation (e.g. roles out of order)
      throw new ChatTemplateError(err instanceof Error ? err.message : String(err));
    }
  }
}

/** The default template of a tokenizer_config.json: a string, or the entry named "default" of a list. */
export function chatTemplateSource(tokenizerConfig: unknown): string | null {
  const t = (tokenizerConfig as { chat_template?: unknown } | null)?.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const entry = t.find((e) => e?.name === 'default') ?? t[0];
    return typeof entry?.template === 'string' ? entry.template : null;
  }
  return null;
}

/** How a chat is turned into a prompt beyond its messages. */
export interface ChatPromptOptions {
  /** The request's `thinking.type`, when it has one. */
  thinking?: 'enabled' | 'disabled';
  /** The model reasons (registry flag, or the request's switch: dispatch/placement.ts). */
  reasoning: boolean;
}

const OPEN_THINK_AT_END = /<think>\s*$/;

/**
 * A chat's prompt: the template (or the plain one) over the messages with the assistant's turn
 * opened. A last assistant message with `prefix: true` is continued: the messages before it are
 * rendered with the generation prompt, then its text is appended raw (DeepSeek's prefix
 * completion). DeepSeek-V3.1's and Qwen3's templates read `thinking` / `enable_thinking`; a
 * template that opens `<think>` makes the answer a reasoning one, unless thinking is disabled, in
 * which case the block is closed empty (as DeepSeek-V3.1's non-thinking prompt does). A prefix
 * continues the answer itself: its think block, if any, is closed first.
 */
export function renderChatPrompt(
  template: ChatTemplate | null,
  messages: (TemplateMessage & { prefix?: boolean | null })[],
  opts: ChatPromptOptions,
): { prompt: string; reasoning: boolean } {
  const last = messages.at(-1);
  const prefix =
    last?.prefix === true && last.role === 'assistant' ? messageText(last.content) : null;
  if (!template)
    return { prompt: renderPlainTemplate(messages), reasoning: prefix === null && opts.reasoning };
  const said = opts.thinking !== undefined || opts.reasoning;
  const vars = said ? { thinking: opts.reasoning, enable_thinking: opts.reasoning } : {};
  let prompt = template.render(prefix === null ? messages : messages.slice(0, -1), true, vars);
  const opens = OPEN_THINK_AT_END.test(prompt);
  let reasoning = opts.thinking !== 'disabled' && (opts.reasoning || opens);
  if (opens && (!reasoning || prefix !== null)) prompt = prompt.replace(/\s*$/, '\n\n</think>\n\n');
  if (prefix !== null) {
    prompt += prefix;
    reasoning = false;
  }
  return { prompt, reasoning };
}
