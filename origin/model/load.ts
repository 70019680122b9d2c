// Where the origin's model comes from: a directory in the Hugging Face layout (config.json +
// *.safetensors), or `synthetic:<preset>` generated in memory. Returns the checkpoint's files (each
// backend loads them its own way: the CPU backend into WASM memory, the WebGPU one through
// engine/deepseek/weights.ts), its config, the tokenizer and the id the API serves the model under.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { generateSyntheticDeepSeek } from '../../engine/deepseek/synthetic';
import { parseDeepSeekConfig, type DeepSeekConfig } from '../../engine/deepseek/config';
import { ByteTokenizer, type OriginTokenizer } from './byte-tokenizer';
import { SYNTHETIC_PRESETS } from './presets';

export interface OriginModel {
  id: string;
  /** config.json and *.safetensors, by name. */
  files: Record<string, Uint8Array>;
  config: DeepSeekConfig;
  tokenizer: OriginTokenizer;
  /** Hex SHA-256 over the checkpoint's files (names and bytes, in name order): names the weights' version. */
  weightsDigest: string;
  /** Where it was loaded from, for the startup line. */
  source: string;
}

export interface LoadModelOptions {
  /** Seed of a synthetic model (default 1). */
  seed?: number;
}

/** The files of `synthetic:<preset>` or of a model directory. */
export function readModelFiles(
  spec: string,
  seed = 1,
): { id: string; files: Record<string, Uint8Array>; source: string } {
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
  return { id: basename(dir), files, source: dir };
}

export function loadOriginModel(spec: string, opts: LoadModelOptions = {}): OriginModel {
  const { id, files, source } = readModelFiles(spec, opts.seed);
  const c = parseDeepSeekConfig(JSON.parse(new TextDecoder().decode(files['config.json'])));
  const digest = createHash('sha256');
  for (const name of Object.keys(files).sort())
    digest.update(`${name}\n${files[name].byteLength}\n`).update(files[name]);
  return {
    id,
    files,
    config: c,
    tokenizer: new ByteTokenizer(c.vocabSize, c.bosTokenId, c.eosTokenId),
    weightsDigest: digest.digest('hex'),
    source,
  };
}
