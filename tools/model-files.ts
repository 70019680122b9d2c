// Node side of model directories: read one from disk (weights as file streams, the way R2 bodies
// stream in the Worker), read any convertible source into an ImportedModel, and write a directory.
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { Llama2cTokenizer, readLlama2cConfig } from '../engine/index';
import type { ModelDirFiles } from '../engine/llama/model-dir';
import { encodeSafetensors } from '../engine/formats/hf-writer';
import { importGguf } from '../engine/formats/gguf-model';
import { importHfDir, PASSTHROUGH_FILES } from '../engine/formats/import-hf';
import { importLlama2c } from '../engine/formats/import-llama2c';
import type { ImportedModel } from '../engine/formats/imported-model';
import { WEIGHTS_FILE, type ModelDirPlan } from '../engine/formats/model-dir-writer';
import { UsageError } from './cli';

/** A file's bytes as a plain Uint8Array (a Buffer's slice() is a view, which breaks copies). */
export const readBytes = (path: string): Uint8Array => {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

const readJson = (path: string) =>
  existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;

/** The safetensors files of a directory, in name order (shards sort by index). */
export function weightFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
}

export function readModelDir(dir: string): ModelDirFiles {
  const tokenizerBin = join(dir, 'tokenizer.bin');
  const weights = weightFiles(dir);
  if (!weights.length) throw new Error(`${dir} has no .safetensors files`);
  return {
    config: readJson(join(dir, 'config.json')),
    tokenizerJson: readJson(join(dir, 'tokenizer.json')),
    tokenizerBin: existsSync(tokenizerBin) ? readBytes(tokenizerBin) : undefined,
    tokenizerConfig: readJson(join(dir, 'tokenizer_config.json')),
    generationConfig: readJson(join(dir, 'generation_config.json')),
    weights: weights.map((f) => createReadStream(join(dir, f), { highWaterMark: 1 << 20 })),
  };
}

export type SourceKind = 'llama2c' | 'gguf' | 'hf';

export function sourceKind(src: string): SourceKind {
  if (statSync(src).isDirectory()) return 'hf';
  if (src.endsWith('.gguf')) return 'gguf';
  return 'llama2c';
}

/** Any convertible source → an ImportedModel (tensors are read lazily, file by file). */
export async function importSource(
  src: string,
  opts: { tokenizer?: string } = {},
): Promise<ImportedModel> {
  const kind = sourceKind(src);
  if (kind === 'hf') {
    const others = Object.fromEntries(
      PASSTHROUGH_FILES.filter((f) => existsSync(join(src, f))).map((f) => [
        f,
        readBytes(join(src, f)),
      ]),
    );
    return importHfDir(
      readJson(join(src, 'config.json')),
      weightFiles(src).map((f) => readBytes(join(src, f))),
      others,
    );
  }
  if (kind === 'gguf') {
    const header = await gguf(src, { allowLocalFile: true });
    const fd = openSync(src, 'r');
    const read = (offset: number, length: number) => {
      const out = new Uint8Array(length);
      readSync(fd, out, 0, length, offset);
      return out;
    };
    // the descriptor stays open for the converter's lifetime (a CLI: the process exit closes it)
    process.once('exit', () => closeSync(fd));
    return importGguf(header as never, read);
  }
  const checkpoint = readBytes(src);
  const tokenizer = llama2cTokenizerFor(src, checkpoint, opts.tokenizer);
  return importLlama2c(checkpoint, readBytes(tokenizer));
}

/**
 * The tokenizer.bin of a llama2.c checkpoint: `given`, else tokenizer.bin beside it. Its vocabulary
 * must be the model's vocab_size: llama2.c folders hold several (stories260K.bin sits beside the
 * 32000-token tokenizer.bin and its own 512-token tok512.bin), and a wrong one loads but garbles.
 */
export function llama2cTokenizerFor(src: string, checkpoint: Uint8Array, given?: string): string {
  const path = given ?? join(dirname(src), 'tokenizer.bin');
  const vocab = readLlama2cConfig(checkpoint).vocabSize;
  const own = join(dirname(src), `tok${vocab}.bin`);
  const hint = `pass the model's own with --tokenizer <file>${!given && existsSync(own) ? ` (${own} is beside it)` : ''}`;
  if (!existsSync(path))
    throw new UsageError(`no tokenizer for ${basename(src)} at ${path}: ${hint}`);
  const tokens = Llama2cTokenizer.fromBytes(readBytes(path)).vocabSize;
  if (tokens !== vocab)
    throw new UsageError(
      `${path} has ${tokens} tokens but ${basename(src)} has vocab_size ${vocab}: ${hint}`,
    );
  return path;
}

/** Writes the plan into `out` (created); onTensor reports progress in bytes of model.safetensors. */
export function writeModelDir(
  out: string,
  plan: ModelDirPlan,
  onBytes: (written: number, total: number, name?: string) => void = () => {},
): void {
  mkdirSync(out, { recursive: true });
  for (const [name, bytes] of Object.entries(plan.files)) writeFileAt(join(out, name), bytes);
  const fd = openSync(join(out, WEIGHTS_FILE), 'w');
  try {
    const total = plan.tensors.reduce((n, t) => n + t.byteLength, 0);
    let written = 0;
    for (const piece of encodeSafetensors(plan.tensors, plan.metadata)) {
      writeAll(fd, piece.bytes);
      if (piece.tensor) written += piece.bytes.byteLength;
      onBytes(written, total, piece.tensor?.name);
    }
  } finally {
    closeSync(fd);
  }
}

function writeFileAt(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.byteLength;) at += writeSync(fd, bytes, at, bytes.byteLength - at);
}
