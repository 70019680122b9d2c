// `npm run bench`: every benchmark in one run, printed as markdown for bench/RESULTS.md.
// The engine bench always runs; the kernel bench (bench/kernels.ts) when that file is present.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { benchEngine, engineTable } from './engine';

async function main(): Promise<void> {
  const log = (line: string) => console.error(line);
  const started = performance.now();
  console.log(`## ${new Date().toISOString().slice(0, 10)} — \`npm run bench\` at ${gitHead()}`);
  console.log(`\nNode ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, single thread; load average at start ${loadavg()[0].toFixed(1)}.\n`);
  console.log('### Engine: decode, synthetic random-weight f32 models (llama2.c shapes)\n');
  console.log(engineTable(await benchEngine({ log })));
  const kernelsFile = new URL('./kernels.ts', import.meta.url);
  if (existsSync(kernelsFile)) {
    const { benchKernels } = await import(kernelsFile.href);
    console.log('\n### Kernels\n');
    console.log(await benchKernels());
  }
  console.log(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

/** The commit measured, marked dirty when the working tree has changes. */
function gitHead(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} (+ uncommitted changes)` : head;
  } catch {
    return 'an unknown commit';
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
