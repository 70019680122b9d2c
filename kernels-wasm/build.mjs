// Compiles kernels-wasm/assembly/*.ts to kernels-wasm/build/kernels.wasm with the AssemblyScript compiler.
// Skips the work when the output is newer than every source; prints one line either way.
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'assembly');
const outFile = join(here, 'build', 'kernels.wasm');
// Written beside the output and renamed, so a concurrent reader never sees half a module.
const tmpFile = `${outFile}.${process.pid}.tmp`;

// Memory starts at one page and may grow to the whole 4 GiB wasm32 space; the host grows it.
const ascArgs = [
  join(srcDir, 'index.ts'),
  '-O3', '--enable', 'simd', '--runtime', 'stub', '--noAssert',
  '--initialMemory', '1', '--maximumMemory', '65536',
  '-o', tmpFile,
];

function newestSource() {
  const files = readdirSync(srcDir).filter((f) => f.endsWith('.ts')).map((f) => join(srcDir, f));
  return Math.max(...[fileURLToPath(import.meta.url), ...files].map((f) => statSync(f).mtimeMs));
}

function outputTime() {
  try {
    return statSync(outFile).mtimeMs;
  } catch {
    return -Infinity;
  }
}

if (outputTime() > newestSource()) {
  console.log('build:wasm: kernels.wasm is up to date');
} else {
  mkdirSync(dirname(outFile), { recursive: true });
  const started = Date.now();
  const { default: asc } = await import('assemblyscript/dist/asc.js');
  const { error, stderr } = await asc.main(ascArgs);
  if (error) {
    console.error(stderr.toString());
    console.error(`build:wasm: failed: ${error.message}`);
    process.exit(1);
  }
  renameSync(tmpFile, outFile);
  const bytes = statSync(outFile).size;
  console.log(`build:wasm: built kernels.wasm (${bytes} bytes) in ${Date.now() - started} ms`);
}
