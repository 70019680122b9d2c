// Room: tools (model directories). Uploads a model directory to the MODELS R2 bucket with its manifest
// (format "hf"): a Llama-family directory, or a DeepSeek-V3-architecture one (config.json model_type
// deepseek_v3: the edge runs it with engine/deepseek/edge-model.ts; it needs tokenizer.json), with its
// model.edge when there is one (tools/model-native.ts; the manifest names it `native`). Used by
// `npm run -s model -- upload` and `npm start`.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { hfManifest, type HfManifest } from '../dispatch/edge-manifest';
import { isDeepSeekConfig } from '../engine/deepseek/edge-load';
import { weightFiles } from './model-files';
import { NATIVE_FILE } from './model-native';
import { put } from './upload-model';

export interface DirUploadOptions {
  id?: string;
  context?: number;
  maxSessions?: number;
  /** Requests waiting for a session before new ones get 503 (default 4 × maxSessions). */
  maxQueue?: number;
  description?: string;
  /** DeepSeek-V3 dirs with an MTP module: speculative decoding at the edge (default true). */
  mtp?: boolean;
  remote?: boolean;
  persistTo?: string;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Uploads `dir`; returns its manifest. The manifest goes last: a model is listed only once its files are there. */
export function uploadModelDir(dir: string, o: DirUploadOptions = {}): HfManifest {
  const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  const has = (f: string) => files.includes(f);
  const tokenizer = has('tokenizer.json')
    ? 'tokenizer.json'
    : has('tokenizer.bin')
      ? 'tokenizer.bin'
      : null;
  if (!has('config.json') || !tokenizer)
    throw new Error(
      `${dir} is not a model directory (config.json and tokenizer.json or tokenizer.bin)`,
    );
  const deepseek = isDeepSeekConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  if (deepseek && tokenizer !== 'tokenizer.json')
    throw new Error(`${dir}: a DeepSeek-V3 directory needs tokenizer.json`);
  const id = o.id ?? basename(dir.replace(/\/+$/, ''));
  const manifest = hfManifest.parse({
    id,
    format: 'hf',
    config: 'config.json',
    weights: weightFiles(dir),
    native: has(NATIVE_FILE) && !deepseek ? NATIVE_FILE : null,
    tokenizer,
    tokenizer_config: has('tokenizer_config.json') ? 'tokenizer_config.json' : null,
    generation_config: has('generation_config.json') ? 'generation_config.json' : null,
    context_length: o.context,
    max_sessions: o.maxSessions,
    max_queue: o.maxQueue,
    ...(deepseek && o.mtp !== undefined ? { mtp: o.mtp } : {}),
    ...(deepseek && has('draft_vocab.json') ? { draft_vocab: 'draft_vocab.json' } : {}),
    created: Math.floor(Date.now() / 1000),
    owned_by: 'edge-inference',
    description: o.description,
  });
  const log = o.log ?? ((line: string) => console.error(line));
  const sent = [
    manifest.config,
    ...manifest.weights,
    manifest.native,
    tokenizer,
    manifest.tokenizer_config,
    manifest.generation_config,
    manifest.draft_vocab,
  ].filter((f): f is string => !!f);
  for (const f of sent) {
    const type = f.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    put(`${id}/${f}`, join(dir, f), o, type);
    log(`  ${id}/${f} (${mb(statSync(join(dir, f)).size)})`);
  }
  const manifestFile = join(mkdtempSync(join(tmpdir(), 'manifest-')), 'model.json');
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  put(`${id}/model.json`, manifestFile, o, 'application/json');
  return manifest;
}
