// The SDK must run in Node, Workers and browsers: Web APIs only, and no runtime import of zod or
// of anything outside sdk/ (protocol/ is imported for types alone).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../sdk');
const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
  (f) => f.endsWith('.ts') && !f.endsWith('.config.ts'),
);

it.each(files)('%s uses Web APIs only', (file) => {
  const source = readFileSync(join(root, file), 'utf8');
  expect(source).not.toMatch(/from ['"]node:|require\(|\bBuffer\b|process\.env/);
  for (const [, what, from] of source.matchAll(
    /^(import|export)(?! type)[^'"]*from ['"]([^'"]+)['"]/gm,
  )) {
    expect(
      from.startsWith('./') || (from.startsWith('../') && !from.includes('protocol')),
      `${file}: ${what} from ${from}`,
    ).toBe(true);
  }
});
