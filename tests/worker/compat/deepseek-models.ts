// The edge model the DeepSeek drop-in tests call: a random-weight Qwen2-style model in R2 whose
// byte-level tokenizer has DeepSeek-V3's FIM tokens and `<think>`/`</think>` as added tokens, and
// whose chat template opens a think block when told `thinking` (as DeepSeek-V3.1's does).
// The registry (tests/worker/dispatch/origins-service.ts) names it `deepseek-chat`.
import { env } from 'cloudflare:workers';
import { llamaConfig } from '../../../engine/index';
import { planModelDir } from '../../../engine/formats/model-dir-writer';
import { safetensorsBytes } from '../../../engine/formats/hf-writer';
import { syntheticHfModel } from '../../engine/formats/hf-reference';
import { byteLevelTokenizer } from '../../engine/tokenizers/fixtures';

export const FIM_MODEL = 'tiny-fim';
export const FIM_TOKENS = ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'];

const TEMPLATE =
  "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% if thinking is defined and thinking %}{{ '<think>\\n' }}{% endif %}{% endif %}";

/** The tokenizer files: ids 266..268 are the FIM tokens, 269 and 270 the think tags. */
export function fimTokenizer() {
  const tok = byteLevelTokenizer();
  const json = structuredClone(tok.tokenizerJson);
  [...FIM_TOKENS, '<think>', '</think>'].forEach((content, i) =>
    json.added_tokens.push({ ...json.added_tokens[0], id: 266 + i, content, special: i < 3 }),
  );
  return { json, config: { ...tok.tokenizerConfig, chat_template: TEMPLATE } };
}

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

export async function seedFimModel(): Promise<void> {
  const config = {
    ...llamaConfig({
      dim: 64,
      hiddenDim: 128,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 272,
      seqLen: 256,
    }),
    ropeTheta: 1e6,
    normEps: 1e-6,
    qkvBias: true,
  };
  const tok = fimTokenizer();
  const m = syntheticHfModel(config, 'qwen2', 7, {
    'tokenizer.json': enc(tok.json),
    'tokenizer_config.json': enc(tok.config),
  });
  const plan = planModelDir(m, 'q8');
  const files: Record<string, Uint8Array> = {
    ...plan.files,
    'model.safetensors': safetensorsBytes(plan.tensors, plan.metadata),
  };
  for (const [name, bytes] of Object.entries(files))
    await env.MODELS.put(`${FIM_MODEL}/${name}`, bytes);
  const manifest = {
    id: FIM_MODEL,
    format: 'hf',
    weights: ['model.safetensors'],
    tokenizer: 'tokenizer.json',
    tokenizer_config: 'tokenizer_config.json',
    created: 1_700_000_000,
    owned_by: 'tests',
    description: 'random-weight Qwen2-style model with FIM and think tokens',
  };
  await env.MODELS.put(`${FIM_MODEL}/model.json`, JSON.stringify(manifest));
}
