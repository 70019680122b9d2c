// Room: origin/model. A checkpoint directory is checked whole before anything is placed, so a damaged
// file is the origin's one-line startup error (exit 1), never a failure inside a request: config.json
// parses; every safetensors file parses (header, offsets, sizes: a truncated or overwritten file fails
// here); and where the directory has a manifest.json listing sha256 per file (tools/train writes one),
// each loaded file matches it (a flipped byte in the data section parses fine and would serve wrong
// tokens). Hugging Face downloads have no manifest.json: the structural checks are what they get.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../engine/formats/safetensors';
import { StartupError } from '../backend/select';

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** files: config.json and *.safetensors of `dir`, by name. Throws a StartupError naming the file. */
export function checkModelFiles(dir: string, files: Record<string, Uint8Array>): void {
  for (const [name, bytes] of Object.entries(files)) {
    try {
      if (name.endsWith('.safetensors')) readSafetensors(bytes);
      else if (name.endsWith('.json')) JSON.parse(new TextDecoder().decode(bytes)); // config, draft_vocab
    } catch (err) {
      throw new StartupError(`${join(dir, name)} is damaged: ${reason(err)}`);
    }
  }
  const listed = manifestDigests(dir);
  for (const [name, bytes] of Object.entries(files)) {
    const want = listed[name];
    if (typeof want !== 'string') continue;
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== want)
      throw new StartupError(
        `${join(dir, name)} is damaged: its sha256 ${got.slice(0, 12)}… differs from manifest.json's ` +
          `${want.slice(0, 12)}… (or the manifest is stale)`,
      );
  }
}

/** manifest.json's sha256 by file name; none when there is no manifest or it lists no digests. */
function manifestDigests(dir: string): Record<string, unknown> {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return {};
  try {
    const sha = (JSON.parse(readFileSync(path, 'utf8')) as { sha256?: unknown }).sha256;
    return sha && typeof sha === 'object' ? (sha as Record<string, unknown>) : {};
  } catch (err) {
    throw new StartupError(`${path} is damaged: ${reason(err)}`);
  }
}
