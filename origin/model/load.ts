// Where the origin's model comes from: a directory in the Hugging Face layout (config.json +
// *.safetensors, tokenizer.json + tokenizer_config.json), or `synthetic:<preset>` generated in memory
// with DeepSeek-V3's real tokenizer. Returns the checkpoint's files (each backend loads them its own
// way: the CPU backend into WASM memory, the WebGPU one through engine/deepseek/weights.ts), its
// config, the tokenizer and the id the API serves the model under.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DRAFT_VOCAB_FILE } from '../../engine/deepseek/draft-vocab';
import { generateSyntheticDeepSeek } from '../../engine/deepseek/synthetic';
import { parseDeepSeekConfig, type DeepSeekConfig } from '../../engine/deepseek/config';
import type { OriginTokenizer } from './byte-tokenizer';
import { checkModelFiles } from './check-files';
import { SYNTHETIC_PRESETS } from './presets';
import { deepSeekV3TokenizerDir, loadOriginTokenizer } from './tokenizer';

export interface OriginModel {
  id: string;
  /** config.json and *.safetensors, by name (and draft_vocab.json when there is one). */
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

/**
 * Generated checkpoints under KEEP_GENERATED_BYTES, by preset and seed: tests build many tiny origins in
 * one process, and drawing tiny's 33M embedding and lm_head weights takes seconds each time. Larger
 * presets are not kept (a served model would hold a second copy for its lifetime). Loading only reads
 * the files.
 */
const generated = new Map<string, Record<string, Uint8Array>>();
const KEEP_GENERATED_BYTES = 96 * 2 ** 20;

function generate(preset: string, seed: number): Record<string, Uint8Array> {
  const key = `${preset}#${seed}`;
  const kept = generated.get(key);
  if (kept) return kept;
  const files = generateSyntheticDeepSeek({ config: SYNTHETIC_PRESETS[preset].config, seed });
  const bytes = Object.values(files).reduce((n, f) => n + f.byteLength, 0);
  if (bytes <= KEEP_GENERATED_BYTES) generated.set(key, files);
  return files;
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
      files: generate(preset, seed),
      source: `${spec} (seed ${seed}, generated in memory)`,
      tokenizerDir: deepSeekV3TokenizerDir(),
    };
  }
  const dir = resolve(spec);
  const names = readdirSync(dir).filter(
    (f) => f === 'config.json' || f === DRAFT_VOCAB_FILE || f.endsWith('.safetensors'),
  );
  if (!names.includes('config.json')) throw new Error(`${dir} has no config.json`);
  const files: Record<string, Uint8Array> = {};
  for (const name of names) {
    // A plain Uint8Array view, not the Buffer itself: Buffer#slice() shares memory, and the safetensors
    // reader copies BF16 data with slice().
    const buf = readFileSync(join(dir, name));
    files[name] = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  checkModelFiles(dir, files);
  return { id: basename(dir), files, source: dir, tokenizerDir: dir };
}

/** Hex SHA-256 over a checkpoint's files, names and bytes in name order: OriginModel.weightsDigest. */
export function filesDigest(files: Record<string, Uint8Array>): string {
  const digest = createHash('sha256');
  for (const name of Object.keys(files).sort())
    digest.update(`${name}\n${files[name].byteLength}\n`).update(files[name]);
  return digest.digest('hex');
}

export function loadOriginModel(spec: string, opts: LoadModelOptions = {}): OriginModel {
  const { id, files, source, tokenizerDir } = readModelFiles(spec, opts.seed);
  const c = parseDeepSeekConfig(JSON.parse(new TextDecoder().decode(files['config.json'])));
  return {
    id,
    files,
    config: c,
    tokenizer: loadOriginTokenizer(tokenizerDir, c),
    // the weights only: a draft vocabulary changes which drafts are tried, never a KV row, so both
    // tiers name the same checkpoint with or without one (dispatch/checkpoint-digest.ts)
    weightsDigest: filesDigest(
      Object.fromEntries(Object.entries(files).filter(([name]) => name !== 'draft_vocab.json')),
    ),
    source,
  };
}
