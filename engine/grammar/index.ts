// Grammar room: constrained decoding. A JSON Schema (or json_object, or a composition for tool
// calls) becomes a Grammar; a TokenMatcher per sequence gives the token mask before each step.
export { GrammarError } from './errors';
export {
  compileGrammar,
  compileJsonObject,
  compileSchema,
  toolCallSpec,
  Grammar,
  type GrammarOptions,
  type GrammarSpec,
  type ToolSpec,
} from './grammar';
export { TokenMatcher, applyMask } from './matcher';
export { computeMask, referenceMask, type MaskCache } from './mask';
export { Vocab, vocabBytes, byteLevelVocab } from './vocab';
