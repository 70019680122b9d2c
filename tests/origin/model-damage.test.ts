// A damaged checkpoint never reaches a request: the real origin process, started on a copy of the trained
// model (models/pystd-mla-moe) with its model.safetensors truncated, its header overwritten, one byte of
// its data flipped (caught by manifest.json's sha256) or its MTP layer half removed, or with a draft
// vocabulary that does not parse or names an id outside the vocabulary, prints one line that names the
// file and exits 1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyModel, originExit, withoutTensors } from './model-copy';

const root = mkdtempSync(join(tmpdir(), 'origin-damage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts the origin on the copy and returns its one stderr line (asserting exit 1, nothing else printed). */
async function startupError(
  name: string,
  edit: (b: Uint8Array) => Uint8Array,
  more: Parameters<typeof copyModel>[1] = {},
): Promise<string> {
  const dir = copyModel(join(root, name), { 'model.safetensors': edit, ...more });
  const { code, stdout, stderr } = await originExit(['--model', dir, '--backend', 'cpu']);
  expect(code).toBe(1);
  expect(stdout).toBe('');
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^origin: /);
  return lines[0];
}

describe('origin: a damaged model.safetensors is a one-line startup error', () => {
  it('truncated', async () => {
    const line = await startupError('truncated', (b) => b.subarray(0, b.byteLength >> 1));
    expect(line).toContain(join(root, 'truncated', 'model.safetensors'));
    expect(line).toMatch(/is damaged: .*run past the data section/);
  });

  it('header overwritten', async () => {
    const line = await startupError('header', (b) => {
      const c = b.slice();
      c.fill(0x7b, 8, 64); // '{' × 56: not JSON
      return c;
    });
    expect(line).toMatch(/model\.safetensors is damaged: header is not valid UTF-8 JSON/);
  });

  it('one byte of the data flipped: the manifest sha256 catches what parses', async () => {
    const line = await startupError('flipped', (b) => {
      const c = b.slice();
      c[c.byteLength - 1000] ^= 0x40;
      return c;
    });
    expect(line).toMatch(/model\.safetensors is damaged: its sha256 \w+… differs from manifest/);
  });

  it('the MTP layer half there (config says one): damage, not absence', async () => {
    // without manifest.json (the rewritten file would not match it), so the loader's own check speaks
    const line = await startupError(
      'half-mtp',
      (b) => withoutTensors(b, (n) => n === 'model.layers.4.enorm.weight'),
      { 'manifest.json': () => null },
    );
    expect(line).toBe('origin: checkpoint lacks tensor model.layers.4.enorm.weight');
  });

  it('draft_vocab.json not JSON, or listing an id outside the vocabulary', async () => {
    const same = (b: Uint8Array) => b;
    const text = (t: string) => () => t;
    const notJson = await startupError('vocab-json', same, {
      'draft_vocab.json': text('{"ids": ['),
    });
    expect(notJson).toContain(join(root, 'vocab-json', 'draft_vocab.json'));
    expect(notJson).toMatch(/draft_vocab\.json is damaged: /);
    const outside = await startupError('vocab-id', same, {
      'draft_vocab.json': text('{"ids": [5, 20755]}'),
    });
    expect(outside).toBe('origin: draft_vocab.json: 20755 is not a new token id of 0..20754');
  });
});
