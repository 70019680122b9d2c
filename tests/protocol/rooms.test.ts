// Each room imports only what DESIGN.md lets it: protocol/ is shared by routes/, origin/ and sdk/,
// so it and origin/ never reach into the Worker's routes/; dispatch/ is reached from routes/, never
// the other way round; the Worker's rooms never import the Node origin or the WebGPU kernels.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file imports or re-exports (static and dynamic), as a repo path. */
export function importsOf(file: string, text = readFileSync(join(root, file), 'utf8')): string[] {
  // `from '…'`, `import '…'` and `import('…')`.
  const specs = [...text.matchAll(/\b(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map(
    (m) => m[1],
  );
  return specs.map((s) => relative(root, resolve(root, dirname(file), s)).replaceAll('\\', '/'));
}

/** `file → module` for each import of a file under `from` that lands under one of `forbidden`. */
function violations(from: string, forbidden: string[]): string[] {
  return tsFiles(from).flatMap((file) =>
    importsOf(file)
      .filter((mod) => forbidden.some((room) => mod === room || mod.startsWith(`${room}/`)))
      .map((mod) => `${file} → ${mod}`),
  );
}

describe('rooms', () => {
  it('finds imports of every form (so an empty list below means something)', () => {
    const text = [
      "import { a } from '../routes/x';",
      "import type { B } from '../routes/y/index';",
      "export { c } from './z';",
      "const m = await import('../routes/w');",
      "import '../routes/side-effect';",
    ].join('\n');
    expect(importsOf('origin/server/app.ts', text)).toEqual([
      'origin/routes/x',
      'origin/routes/y/index',
      'origin/server/z',
      'origin/routes/w',
      'origin/routes/side-effect',
    ]);
    expect(importsOf('origin/server/app.ts', "import { x } from '../../routes/app';")).toEqual([
      'routes/app',
    ]);
    expect(tsFiles('origin').length).toBeGreaterThan(10);
  });

  it('origin/ never imports routes/', () => {
    expect(violations('origin', ['routes'])).toEqual([]);
  });

  it('protocol/ imports none of the apps that share it', () => {
    expect(violations('protocol', ['routes', 'dispatch', 'origin', 'billing', 'worker'])).toEqual(
      [],
    );
  });

  it('dispatch/ never imports routes/ or origin/', () => {
    expect(violations('dispatch', ['routes', 'origin'])).toEqual([]);
  });

  it("the Worker's rooms never import the Node origin or the WebGPU kernels", () => {
    for (const room of ['worker', 'routes', 'dispatch'])
      expect(violations(room, ['origin', 'kernels-gpu'])).toEqual([]);
  });
});
