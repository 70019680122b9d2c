// Compiles kernels-wasm/assembly/*.ts with the AssemblyScript compiler into kernels-wasm/build/:
// kernels.wasm (entry index.ts, SIMD) and kernels-relaxed.wasm (entry relaxed.ts: the same exports plus the
// relaxed-SIMD kernels, for hosts whose WebAssembly.validate accepts it — the Worker).
// Skips an output when it is newer than every source; prints one line per output either way.
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'assembly');

// Memory starts at the static data's size (the f16 decode table: 5 pages) and may grow to the whole 4 GiB
// wasm32 space; the host grows it.
const targets = [
  { name: 'kernels.wasm', entry: 'index.ts', features: ['--enable', 'simd'] },
  {
    name: 'kernels-relaxed.wasm',
    entry: 'relaxed.ts',
    features: ['--enable', 'simd', '--enable', 'relaxed-simd'],
  },
];

function newestSource() {
  const files = readdirSync(srcDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(srcDir, f));
  return Math.max(...[fileURLToPath(import.meta.url), ...files].map((f) => statSync(f).mtimeMs));
}

function outputTime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -Infinity;
  }
}

for (const { name, entry, features } of targets) {
  const outFile = join(here, 'build', name);
  if (outputTime(outFile) > newestSource()) {
    console.log(`build:wasm: ${name} is up to date`);
    continue;
  }
  // Written beside the output and renamed, so a concurrent reader never sees half a module.
  const tmpFile = `${outFile}.${process.pid}.tmp`;
  mkdirSync(dirname(outFile), { recursive: true });
  const started = Date.now();
  const { default: asc } = await import('assemblyscript/dist/asc.js');
  const { error, stderr } = await asc.main([
    join(srcDir, entry),
    '-O3',
    ...features,
    '--runtime',
    'stub',
    '--noAssert',
    '--maximumMemory',
    '65536',
    '-o',
    tmpFile,
  ]);
  if (error) {
    console.error(stderr.toString());
    console.error(`build:wasm: failed: ${error.message}`);
    process.exit(1);
  }
  renameSync(tmpFile, outFile);
  console.log(
    `build:wasm: built ${name} (${statSync(outFile).size} bytes) in ${Date.now() - started} ms`,
  );
}
