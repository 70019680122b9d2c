// Response and stream-chunk shapes of the OpenAI/DeepSeek APIs.
import type { Usage } from './usage';

export type FinishReason = 'stop' | 'length' | 'content_filter' | null;

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: { index: number; message: { role: 'assistant'; content: string }; logprobs: null; finish_reason: FinishReason }[];
  usage: Usage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: { index: number; delta: { role?: 'assistant'; content?: string }; logprobs: null; finish_reason: FinishReason }[];
  usage?: Usage | null;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: { index: number; text: string; logprobs: null; finish_reason: FinishReason }[];
  usage?: Usage | null;
}

export interface ModelCard {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Extension: where the model runs and how long its context is. */
  placement?: 'edge' | 'origin';
  context_length?: number;
  description?: string;
}

export interface ModelList {
  object: 'list';
  data: ModelCard[];
}
