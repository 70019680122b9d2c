// Where the origin's model comes from: a directory in the Hugging Face layout (config.json +
// *.safetensors, tokenizer.json + tokenizer_config.json), or `synthetic:<preset>` generated in memory
// with DeepSeek-V3's real tokenizer. Returns the loaded weights, the tokenizer and the id the API serves
// the model under.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { generateSyntheticDeepSeek } from '../../engine/deepseek/synthetic';
import { loadDeepSeekModel, type DeepSeekWeights } from '../../engine/deepseek/weights';
import type { OriginTokenizer } from './byte-tokenizer';
import { SYNTHETIC_PRESETS } from './presets';
import { deepSeekV3TokenizerDir, loadOriginTokenizer } from './tokenizer';

export interface OriginModel {
  id: string;
  weights: DeepSeekWeights;
  tokenizer: OriginTokenizer;
  /** Hex SHA-256 over the checkpoint's files (names and bytes, in name order): names the weights' version. */
  weightsDigest: string;
  /** Where it was loaded from, for the startup line. */
  source: string;
}

export interface LoadModelOptions {
  /** FP8 projections stay FP8 ('fp8', default) or become f32 at load ('dequantized'). */
  gemm?: 'fp8' | 'dequantized';
  /** Seed of a synthetic model (default 1). */
  seed?: number;
}

/** The weights' files of `synthetic:<preset>` or of a model directory, and where its tokenizer files are. */
export function readModelFiles(
  spec: string,
  seed = 1,
): { id: string; files: Record<string, Uint8Array>; source: string; tokenizerDir: string } {
  if (spec.startsWith('synthetic:')) {
    const preset = spec.slice('synthetic:'.length);
    const p = SYNTHETIC_PRESETS[preset];
    if (!p)
      throw new Error(
        `unknown synthetic preset '${preset}' (have: ${Object.keys(SYNTHETIC_PRESETS).join(', ')})`,
      );
    return {
      id: `synthetic-${preset}`,
      files: generateSyntheticDeepSeek({ config: p.config, seed }),
      source: `${spec} (seed ${seed}, generated in memory)`,
      tokenizerDir: deepSeekV3TokenizerDir(),
    };
  }
  const dir = resolve(spec);
  const names = readdirSync(dir).filter((f) => f === 'config.json' || f.endsWith('.safetensors'));
  if (!names.includes('config.json')) throw new Error(`${dir} has no config.json`);
  const files: Record<string, Uint8Array> = {};
  for (const name of names) {
    // A plain Uint8Array view, not the Buffer itself: Buffer#slice() shares memory, and the safetensors
    // reader copies BF16 data with slice().
    const buf = readFileSync(join(dir, name));
    files[name] = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return { id: basename(dir), files, source: dir, tokenizerDir: dir };
}

export function loadOriginModel(spec: string, opts: LoadModelOptions = {}): OriginModel {
  const { id, files, source, tokenizerDir } = readModelFiles(spec, opts.seed);
  const weights = loadDeepSeekModel(files, { gemm: opts.gemm ?? 'fp8' });
  const c = weights.config;
  const digest = createHash('sha256');
  for (const name of Object.keys(files).sort())
    digest.update(`${name}\n${files[name].byteLength}\n`).update(files[name]);
  return {
    id,
    weights,
    tokenizer: loadOriginTokenizer(tokenizerDir, c),
    weightsDigest: digest.digest('hex'),
    source,
  };
}
