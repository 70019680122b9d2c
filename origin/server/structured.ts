// Structured output and tools on the origin: the request's grammar (protocol/structured-output.ts,
// the Worker's own rules and 400s) over this model's vocabulary, built once per tokenizer, and the
// generic tool prompt (the origin renders chats with the plain template).
import { renderPlainTemplate } from '../../engine/chat-template';
import { Vocab } from '../../engine/grammar/index';
import type { Constraint } from '../../engine/sampling/constraint';
import type { ChatCompletionRequest } from '../../protocol/requests';
import { constraintOf, offeredTools, structureOf } from '../../protocol/structured-output';
import { GENERIC_TOOL_SYNTAX, type ToolSyntax } from '../../protocol/tool-calls';
import { withGenericToolPrompt } from '../../protocol/tool-prompt';
import type { OriginTokenizer } from '../model/byte-tokenizer';

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
  constraint?: () => Constraint;
  toolSyntax?: ToolSyntax;
}

/** The chat's prompt and constraint; throws the same 400s as the Worker. */
export function originChat(
  req: ChatCompletionRequest,
  tokenizer: OriginTokenizer,
  vocabSize: number,
): OriginChat {
  const tools = offeredTools(req);
  const prompt = renderPlainTemplate(withGenericToolPrompt(req.messages, tools));
  const structure = structureOf(req, GENERIC_TOOL_SYNTAX);
  if (!structure) return { prompt };
  const vocab = originVocab(tokenizer, vocabSize);
  return {
    prompt,
    constraint: () => constraintOf(structure, vocab),
    ...(structure.tools ? { toolSyntax: structure.tools } : {}),
  };
}
