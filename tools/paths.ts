// Where things are on disk (Node only): the repo root and the shared test models.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `../shared/models` beside the checkout (override with SHARED_MODELS_DIR). */
export const sharedModelsDir =
  process.env.SHARED_MODELS_DIR ?? resolve(repoRoot, '../shared/models');

export interface Stories260k {
  checkpoint: string;
  tokenizer: string;
  golden: string;
}

/** The real tiny model, or null when this clone has no shared folder. */
export function findStories260k(): Stories260k | null {
  const files = {
    checkpoint: resolve(sharedModelsDir, 'stories260K.bin'),
    tokenizer: resolve(sharedModelsDir, 'tok512.bin'),
    golden: resolve(sharedModelsDir, 'stories260K.golden.json'),
  };
  return Object.values(files).every((f) => existsSync(f)) ? files : null;
}
