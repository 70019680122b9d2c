// Room: engine/deepseek (edge). A random-weight DeepSeek-V3-architecture model directory small enough for
// a Worker isolate: DeepSeek-V3's 129,280-id vocabulary alone makes a 33M-parameter embedding + head at
// hidden 128 (f32 in WASM memory: 132 MB, over the isolate's 128 MB), so this one reads with a byte-level
// BPE (256 byte ids, no merges) plus DeepSeek's special tokens and its chat template, and keeps the
// architecture's shape otherwise (MLA, shared + routed MoE, FP8 128×128 blocks, one MTP layer). Files:
// config.json, model.safetensors, tokenizer.json, tokenizer_config.json — `npm run -s model -- upload`.
import type { DeepSeekConfig } from './config';
import { generateSyntheticDeepSeek } from './synthetic';

/** DeepSeek-V3's special tokens the chat template writes, in id order after the 256 byte ids. */
export const EDGE_SPECIALS = [
  '<｜begin▁of▁sentence｜>',
  '<｜end▁of▁sentence｜>',
  '<｜User｜>',
  '<｜Assistant｜>',
  '<think>',
  '</think>',
  '<｜fim▁hole｜>',
  '<｜fim▁begin｜>',
  '<｜fim▁end｜>',
];
const BOS = 256,
  EOS = 257;

/** 256 bytes + the specials, padded to a multiple of 8 (the ids past the specials are never sampled as text). */
export const EDGE_VOCAB = 272;

/** The edge shape: the synthetic `small` layout (4 layers, 16 experts top-4 + 1 shared, hidden 256) with one MTP layer. */
export const EDGE_DEEPSEEK_CONFIG: Partial<DeepSeekConfig> = {
  vocabSize: EDGE_VOCAB,
  maxPositionEmbeddings: 2048,
  numNextnPredictLayers: 1,
  bosTokenId: BOS,
  eosTokenId: EOS,
};

/** GPT-2's bytes_to_unicode(): byte → the printable char standing for it. */
function byteChar(b: number): string {
  const keep = (x: number) =>
    (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
  let n = 0;
  for (let x = 0; x < b; x++) if (!keep(x)) n++;
  return String.fromCharCode(keep(b) ? b : 256 + n);
}

const byteLevel = {
  type: 'ByteLevel',
  add_prefix_space: false,
  trim_offsets: false,
  use_regex: false,
};

export function edgeTokenizerJson(): object {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[byteChar(b)] = b;
  const added = EDGE_SPECIALS.map((content, i) => ({
    id: 256 + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/** DeepSeek-V3's chat template, without tool calls: {bos}{system}<｜User｜>…<｜Assistant｜>…<｜end▁of▁sentence｜>. */
const CHAT_TEMPLATE =
  "{% set ns = namespace(system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{%- endif %}{%- endfor %}" +
  '{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}' +
  "{%- if message['role'] == 'user' %}{{'<｜User｜>' + message['content']}}{%- endif %}" +
  "{%- if message['role'] == 'assistant' %}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- endif %}" +
  "{%- endfor -%}{% if add_generation_prompt %}{{'<｜Assistant｜>'}}{% endif %}";

export function edgeTokenizerConfig(): object {
  return {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: EDGE_SPECIALS[0],
    eos_token: EDGE_SPECIALS[1],
    pad_token: EDGE_SPECIALS[1],
    tokenizer_class: 'LlamaTokenizerFast',
    chat_template: CHAT_TEMPLATE,
  };
}

/** The whole directory, by file name; `config` changes the edge shape (e.g. numNextnPredictLayers: 0). */
export function syntheticDeepSeekEdgeDir(
  opts: { config?: Partial<DeepSeekConfig>; seed?: number } = {},
): Record<string, Uint8Array> {
  const enc = (v: object) => new TextEncoder().encode(JSON.stringify(v));
  const files = generateSyntheticDeepSeek({
    config: { ...EDGE_DEEPSEEK_CONFIG, ...opts.config },
    seed: opts.seed,
  });
  const config = JSON.parse(new TextDecoder().decode(files['config.json']));
  return {
    // transformers' name for the architecture: the edge registry dispatches on it
    'config.json': enc({
      ...config,
      model_type: 'deepseek_v3',
      architectures: ['DeepseekV3ForCausalLM'],
    }),
    'model.safetensors': files['model.safetensors'],
    'tokenizer.json': enc(edgeTokenizerJson()),
    'tokenizer_config.json': enc(edgeTokenizerConfig()),
  };
}
