// Structured output and tools on the origin: the request's grammar (protocol/structured-output.ts,
// the Worker's own rules and 400s) over this model's vocabulary, built once per tokenizer, and the
// chat's prompt with its tools (plan.ts chatPrompt: the Worker's rendering, with this tokenizer's
// template).
import { Vocab } from '../../engine/grammar/index';
import type { Constraint } from '../../engine/sampling/constraint';
import { ThinkGate } from '../../engine/sampling/think-gate';
import type { ChatCompletionRequest } from '../../protocol/requests';
import { constraintOf, offeredTools, structureOf } from '../../protocol/structured-output';
import { toolSyntaxOfTemplate } from '../../protocol/chat-prompt';
import type { ToolSyntax } from '../../protocol/tool-calls';
import type { OriginTokenizer } from '../model/byte-tokenizer';
import { chatPrompt } from './plan';

const vocabs = new WeakMap<OriginTokenizer, Vocab>();

/** Each id's bytes (BOS and specials empty: never allowed in constrained text), EOS the end token. */
export function originVocab(tokenizer: OriginTokenizer, vocabSize: number): Vocab {
  let v = vocabs.get(tokenizer);
  if (!v) {
    const tokens = Array.from({ length: vocabSize }, (_, id) =>
      id === tokenizer.bosId ? new Uint8Array(0) : tokenizer.decode(id).slice(),
    );
    v = new Vocab(tokens, tokenizer.eosId === null ? [] : [tokenizer.eosId], vocabSize);
    vocabs.set(tokenizer, v);
  }
  return v;
}

export interface OriginChat {
  prompt: string;
  /** False for a chat template's text: the template writes its own BOS. */
  bos: boolean;
  constraint?: () => Constraint;
  toolSyntax?: ToolSyntax;
  /** The answer opens with a think block, split off as `reasoning_content` (think.ts). */
  reasoning: boolean;
}

/** The chat's prompt and constraint; throws the same 400s as the Worker. */
export function originChat(
  req: ChatCompletionRequest,
  tokenizer: OriginTokenizer,
  vocabSize: number,
): OriginChat {
  const { text, bos, reasoning } = chatPrompt(
    tokenizer,
    req.messages,
    req.thinking?.type,
    offeredTools(req),
  );
  const structure = structureOf(req, toolSyntaxOfTemplate(tokenizer.chatTemplate));
  if (!structure) return { prompt: text, bos, reasoning };
  const vocab = originVocab(tokenizer, vocabSize);
  const grammar = () => constraintOf(structure, vocab);
  return {
    prompt: text,
    bos,
    reasoning,
    // a reasoning answer's think block is free; the grammar holds from `</think>` on
    constraint: reasoning ? () => new ThinkGate(grammar(), vocab) : grammar,
    ...(structure.tools ? { toolSyntax: structure.tools } : {}),
  };
}
