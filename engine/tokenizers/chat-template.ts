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

  /** The template renders tools (HF's `tools` variable): it is given them and tool turns as they are. */
  get supportsTools(): boolean {
    return /\btools\b/.test(this.source);
  }

  /** The template renders assistant `tool_calls` and `tool` turns (DeepSeek-V3's: without `tools`). */
  get rendersToolCalls(): boolean {
    return this.source.includes('tool_calls');
  }

  /** The template's tool-call syntax is Qwen/Hermes `<tool_call>` JSON. */
  get hermesToolCalls(): boolean {
    return this.source.includes('<tool_call>');
  }

  /**
   * The prompt text for `messages`, ending with the assistant's turn opened (add_generation_prompt).
   * `extra`: more template variables (`tools`, `thinking`, `enable_thinking`); a message's
   * tool_calls and tool_call_id go to the template as they are.
   */
  render(
    messages: (TemplateMessage & { tool_calls?: unknown; tool_call_id?: unknown })[],
    addGenerationPrompt = true,
    extra: Record<string, unknown> = {},
  ): string {
    try {
      return this.template.render({
        ...this.specials,
        ...extra,
        messages: messages.map(({ role, content, tool_calls, tool_call_id }) => ({
          role,
          // a call's content stays null: templates test `content is none` (DeepSeek-V3's)
          content: tool_calls && content === null ? null : messageText(content),
          ...(tool_calls ? { tool_calls } : {}),
          ...(tool_call_id ? { tool_call_id } : {}),
        })),
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
 * continues the answer itself: its think block, if any, is closed first. `render` turns messages
 * into text (with `vars` for the template): by default the template or the plain template; the
 * tool-aware one is protocol/chat-prompt.ts.
 */
export function renderChatPrompt<M extends TemplateMessage & { prefix?: boolean | null }>(
  template: ChatTemplate | null,
  messages: M[],
  opts: ChatPromptOptions,
  render: (messages: M[], vars: Record<string, unknown>) => string = (m, vars) =>
    template ? template.render(m, true, vars) : renderPlainTemplate(m),
): { prompt: string; reasoning: boolean } {
  const last = messages.at(-1);
  const prefix =
    last?.prefix === true && last.role === 'assistant' ? messageText(last.content) : null;
  // the plain template joins every message's text: a prefix message's already ends the prompt
  if (!template)
    return { prompt: render(messages, {}), reasoning: prefix === null && opts.reasoning };
  const said = opts.thinking !== undefined || opts.reasoning;
  const vars = said ? { thinking: opts.reasoning, enable_thinking: opts.reasoning } : {};
  let prompt = render(prefix === null ? messages : messages.slice(0, -1), vars);
  const opens = OPEN_THINK_AT_END.test(prompt);
  let reasoning = opts.thinking !== 'disabled' && (opts.reasoning || opens);
  if (opens && (!reasoning || prefix !== null)) prompt = prompt.replace(/\s*$/, '\n\n</think>\n\n');
  if (prefix !== null) {
    prompt += prefix;
    reasoning = false;
  }
  return { prompt, reasoning };
}
