// The engine's public surface: what the Worker, the origin and the tools import.
export type { LlamaConfig } from './llama/config';
export { llamaConfig } from './llama/config';
export {
  CheckpointError,
  parseLlama2cCheckpoint,
  readLlama2cConfig,
  llama2cFloatCount,
  type Llama2cCheckpoint,
  type LlamaWeights,
} from './llama/llama2c-checkpoint';
export {
  BOS_ID,
  EOS_ID,
  Llama2cTokenizer,
  TokenizerError,
  runcPrintable,
  type EncodeOptions,
} from './tokenizers/llama2c-tokenizer';
export { Sampler, XorShiftRng, argmax, softmaxF32, type SamplerOptions } from './sampling/sampler';
export {
  forward,
  allocSession,
  uploadWeights,
  type DeviceWeights,
  type SessionBuffers,
} from './llama/forward';
export { SessionPool } from './session-pool';
export { TextStream } from './text-stream';
export {
  LlamaModel,
  type GenerateOptions,
  type GeneratedToken,
  type GenerationResult,
  type KvCapture,
  type LlamaModelOptions,
} from './llama/model';
export * from './prompt-cache/index';
export {
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  encodeLlama2cTokenizer,
  STORIES15M_SHAPE,
  STORIES110M_SHAPE,
  type SyntheticShape,
} from './llama/synthetic';
export {
  loadModelDir,
  type LoadedModel,
  type ModelDirFiles,
  type ModelDirOptions,
} from './llama/model-dir';
export { loadHfWeights, ModelLoadError } from './llama/hf-weights';
export {
  parseHfConfig,
  hfConfigJson,
  HfConfigError,
  type HfModelConfig,
  type HfArchitecture,
} from './formats/hf-config';
export { HfTokenizer } from './tokenizers/hf-tokenizer';
export { ChatTemplate, ChatTemplateError, chatTemplateSource } from './tokenizers/chat-template';
export type { TextTokenizer } from './tokenizers/types';
