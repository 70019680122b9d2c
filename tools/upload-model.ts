// Uploads a llama2.c model (checkpoint + tokenizer) to the MODELS R2 bucket with its manifest.
// Local Miniflare R2 (what `wrangler dev` serves) by default; `--remote` for the real bucket.
//   npm run -s upload-model -- --id stories260k --checkpoint m.bin --tokenizer tok.bin [--description ..] [--remote]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeManifest } from '../dispatch/edge-manifest';
import { parseCliArgs, runCli, UsageError } from './cli';
import { repoRoot } from './paths';

const BUCKET = 'edge-inference-models';

export interface UploadOptions {
  id: string;
  checkpoint: string;
  tokenizer: string;
  description?: string;
  remote?: boolean;
  persistTo?: string;
}

/** `wrangler r2 object put` of one file into the models bucket (local Miniflare R2 unless opts.remote). */
export function put(
  key: string,
  file: string,
  opts: Pick<UploadOptions, 'remote' | 'persistTo'>,
  contentType: string,
): void {
  const args = [
    'r2',
    'object',
    'put',
    `${BUCKET}/${key}`,
    '--file',
    file,
    '--content-type',
    contentType,
  ];
  args.push(opts.remote ? '--remote' : '--local');
  if (opts.persistTo) args.push('--persist-to', opts.persistTo);
  const run = spawnSync(join(repoRoot, 'node_modules/.bin/wrangler'), args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}`,
      WRANGLER_SEND_METRICS: 'false',
    },
    encoding: 'utf8',
  });
  if (run.status !== 0)
    throw new Error(`wrangler r2 object put ${key} failed:\n${run.stdout}\n${run.stderr}`);
}

/**
 * The context a llama2.c checkpoint was built for: seq_len, the 7th int32 of its header (dim, hidden_dim,
 * n_layers, n_heads, n_kv_heads, vocab_size, seq_len); null when the file is too short to hold one.
 */
export function llama2cContext(header: Uint8Array): number | null {
  if (header.byteLength < 28) return null;
  const seqLen = new DataView(header.buffer, header.byteOffset, 28).getInt32(24, true);
  return seqLen > 0 ? seqLen : null;
}

function readHeader(file: string): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const b = new Uint8Array(28);
    return b.subarray(0, readSync(fd, b, 0, 28, 0));
  } finally {
    closeSync(fd);
  }
}

export function uploadModel(opts: UploadOptions): void {
  const manifest = edgeManifest.parse({
    id: opts.id,
    format: 'llama2c',
    checkpoint: 'model.bin',
    tokenizer: 'tokenizer.bin',
    context_length: llama2cContext(readHeader(opts.checkpoint)),
    created: Math.floor(Date.now() / 1000),
    owned_by: 'edge-inference',
    description: opts.description,
  });
  const manifestFile = join(mkdtempSync(join(tmpdir(), 'manifest-')), 'model.json');
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  put(`${opts.id}/model.bin`, opts.checkpoint, opts, 'application/octet-stream');
  put(`${opts.id}/tokenizer.bin`, opts.tokenizer, opts, 'application/octet-stream');
  // The manifest goes last: a model is listed only once its files are there.
  put(`${opts.id}/model.json`, manifestFile, opts, 'application/json');
}

const USAGE = `usage: npm run -s upload-model -- --id <id> --checkpoint <model.bin> --tokenizer <tokenizer.bin>
       [--description TEXT] [--remote] [--persist-to DIR]
  Uploads a llama2.c model and its manifest to the R2 bucket ${BUCKET}: local (what wrangler dev
  serves) unless --remote. Model directories go up with \`npm run -s model -- upload\`.`;

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli('upload-model', USAGE, (args) => {
    const { values } = parseCliArgs({
      args,
      options: {
        id: { type: 'string' },
        checkpoint: { type: 'string' },
        tokenizer: { type: 'string' },
        description: { type: 'string' },
        remote: { type: 'boolean', default: false },
        'persist-to': { type: 'string' },
      },
    });
    const missing = (['id', 'checkpoint', 'tokenizer'] as const).filter((k) => !values[k]);
    if (missing.length) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
    for (const file of [values.checkpoint!, values.tokenizer!])
      if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
    uploadModel({
      id: values.id!,
      checkpoint: values.checkpoint!,
      tokenizer: values.tokenizer!,
      description: values.description,
      remote: values.remote,
      persistTo: values['persist-to'],
    });
    console.log(
      `uploaded ${values.id} to ${values.remote ? 'remote' : 'local'} R2 bucket ${BUCKET}`,
    );
  });
}
