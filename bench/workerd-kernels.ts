// The same WASM in Node and in workerd (the runtime the Worker ships in), one thread, in one run:
// 1. Bounds checks: kernels.wasm's probe loops (kernels-wasm/assembly/bench.ts: one scalar i32 load per
//    element, one v128 load per 4, and the loop with no memory access) in Node, in Node with
//    --wasm-enforce-bounds-checks (V8 checks every access in code instead of trapping on guard pages; a
//    child process), and in workerd. If workerd's loads run as slowly as Node's checked ones while its
//    ALU loop runs at Node's speed, workerd's V8 checks bounds in code, and a kernel's loads cost more there.
// 2. Kernel A/B: matvec_q8_0, matvec_q4_0 and matvec_fp8 (2048 × 768, 8 copies of the weights so they
//    stream from DRAM as a forward pass's do) from each kernels.wasm given, interleaved round by round
//    (the order alternating), in workerd and in Node; best of the rounds and each round's ratio to the first build.
// workerd is timed from outside (its clock stands still while a request computes): each request runs a
// few hundred milliseconds of one kernel, and an empty request's round trip is taken off.
//   npx tsx bench/workerd-kernels.ts [--rounds 9] [base.wasm new.wasm ...]   (default: the built kernels.wasm)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';

const built = resolve(
  fileURLToPath(new URL('../kernels-wasm/build/kernels.wasm', import.meta.url)),
);
const KERNELS = ['matvec_q8_0', 'matvec_q4_0', 'matvec_fp8'] as const;
const PROBES = ['bench_loads_i32', 'bench_loads_v128', 'bench_alu'] as const;
type Run = (what: string) => number;

/**
 * A runner over one instance: places x, and at its first kernel 8 copies of random Q8_0/Q4_0/FP8 weights
 * (2048 × 768), in its memory, then runs a kernel or a probe by name. Self-contained (no imports, no closures over this module)
 * because workerd gets it as source text: the same code runs in both runtimes.
 */
function makeRunner(exports: Record<string, unknown>): (what: string) => number {
  const e = exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
  const ROWS = 2048,
    COLS = 768,
    COPIES = 8, // 12 MiB of Q8_0, more than this machine's 8 MiB L3
    PROBE_N = 16384; // 64 KiB: the probe's loads hit L2
  const mem = e.memory,
    base = mem.buffer.byteLength;
  const q8 = ROWS * COLS,
    q4 = q8 / 2,
    f16s = (ROWS * COLS) / 16,
    fp8s = (ROWS / 128) * (COLS / 128) * 4;
  let seed = 1,
    p = base;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const take = (bytes: number) => ((p += bytes), p - bytes);
  const grow = (bytes: number) =>
    mem.grow(Math.ceil((p + bytes - mem.buffer.byteLength) / 65536) + 1);
  const fill = (at: number, bytes: number, f: (i: number) => number) => {
    const u8 = new Uint8Array(mem.buffer, at, bytes);
    for (let i = 0; i < bytes; i++) u8[i] = f(i);
  };
  const f16 = (at: number, count: number) => {
    const v = new Uint16Array(mem.buffer, at, count);
    for (let i = 0; i < count; i++) v[i] = 0x2000 + ((rnd() * 0x1000) | 0);
  };
  grow(8 * COLS * 4 + ROWS * 4 + PROBE_N * 4);
  const x = take(COLS * 4),
    xq = take(4 * COLS * 4),
    out = take(ROWS * 4),
    probe = take(PROBE_N * 4);
  const xv = new Float32Array(mem.buffer, x, COLS);
  for (let i = 0; i < COLS; i++) xv[i] = rnd() * 2 - 1;
  fill(probe, PROBE_N * 4, () => (rnd() * 256) | 0);
  // the weights only where a kernel runs (the probe's instance holds none: an isolate has 128 MB)
  let copies: { w8: number; d8: number; w4: number; d4: number; w: number; s: number }[] = [];
  const place = () => {
    grow(COPIES * (q8 + q4 + q8 + 2 * f16s + fp8s));
    copies = Array.from({ length: COPIES }, () => {
      const w8 = take(q8),
        d8 = take(f16s),
        w4 = take(q4),
        d4 = take(f16s),
        w = take(q8),
        s = take(fp8s);
      fill(w8, q8, () => (rnd() * 256) | 0);
      fill(w4, q4, () => (rnd() * 256) | 0);
      fill(w, q8, () => ((rnd() * 256) | 0) & 0xf7); // no E4M3 NaN codes (0x7f, 0xff)
      f16(d8, f16s / 2);
      f16(d4, f16s / 2);
      const sv = new Float32Array(mem.buffer, s, fp8s / 4);
      for (let i = 0; i < sv.length; i++) sv[i] = 0.001 + rnd() * 0.01;
      return { w8, d8, w4, d4, w, s };
    });
  };
  return (what) => {
    if (what === 'bench_alu') return e.bench_alu(PROBE_N, 20000);
    if (what.startsWith('bench_loads')) return e[what](probe, PROBE_N, 20000);
    if (copies.length === 0) place();
    for (let rep = 0; rep < 256 / COPIES; rep++)
      for (const c of copies) {
        if (what === 'matvec_q8_0') e.matvec_q8_0(out, c.w8, c.d8, x, xq, ROWS, COLS);
        else if (what === 'matvec_q4_0') e.matvec_q4_0(out, c.w4, c.d4, x, xq, ROWS, COLS);
        else if (what === 'matvec_fp8') e.matvec_fp8(out, c.w, c.s, x, ROWS, COLS, 128, 128);
        else return -1;
      }
    return new Float32Array(mem.buffer, out, 1)[0];
  };
}

const wasmImports = { env: { abort: () => {} } };
const instantiate = (bytes: Buffer) =>
  new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), wasmImports).exports;

/** One Miniflare isolate holding every build; GET /<build>/<what> runs it once. */
async function startWorkerd(
  builds: Buffer[],
): Promise<{ run: (b: number, w: string) => Promise<number>; stop: () => Promise<void> }> {
  const script = [
    ...builds.map((_, i) => `import k${i} from './k${i}.wasm';`),
    // tsx's transform names inner arrow functions through a helper of its own
    'const __name = (f) => f;',
    `const makeRunner = ${makeRunner.toString()};`,
    `const imports = { env: { abort() {} } };`,
    `const runners = [${builds.map((_, i) => `makeRunner(new WebAssembly.Instance(k${i}, imports).exports)`).join(', ')}];`,
    `export default { async fetch(req) { const [, b, what] = new URL(req.url).pathname.split('/');`,
    `  return new Response(b === 'empty' ? '0' : String(runners[Number(b)](what))); } };`,
  ].join('\n');
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: [
        { type: 'ESModule', path: 'worker.mjs', contents: script },
        ...builds.map((contents, i) => ({
          type: 'CompiledWasm' as const,
          path: `k${i}.wasm`,
          contents,
        })),
      ],
      compatibilityDate: '2026-08-01',
    }),
  );
  await mf.ready;
  const get = async (path: string) => {
    const t0 = performance.now();
    const res = await mf.dispatchFetch(`http://bench${path}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`workerd ${path}: ${res.status} ${text.slice(0, 200)}`);
    return { ms: performance.now() - t0, value: Number(text) };
  };
  let trip = Infinity;
  for (let i = 0; i < 20; i++) trip = Math.min(trip, (await get('/empty/x')).ms);
  return {
    run: async (b, what) => {
      const { ms, value } = await get(`/${b}/${what}`);
      if (value === -1) throw new Error(`workerd: no ${what}`);
      return Math.max(0, ms - trip);
    },
    stop: () => mf.dispose(),
  };
}

function timeLocal(run: Run, what: string): number {
  const t0 = performance.now();
  run(what);
  return performance.now() - t0;
}

/** Best of `rounds` of each probe, in this process. */
function probeHere(rounds: number): Record<string, number> {
  const run = makeRunner(instantiate(readFileSync(built)));
  return Object.fromEntries(
    PROBES.map((p) => [p, Math.min(...Array.from({ length: rounds }, () => timeLocal(run, p)))]),
  );
}

const fmt = (ms: number) => ms.toFixed(1);

/** The probe and the kernel A/B as markdown; `files` are kernels.wasm builds (default: the built one). */
export async function benchWorkerdKernels(
  opts: { rounds?: number; files?: string[] } = {},
): Promise<string> {
  const rounds = opts.rounds ?? 9;
  const files = (opts.files?.length ? opts.files : [built]).map((f) =>
    relative(process.cwd(), resolve(f)),
  );
  const builds = files.map((f) => readFileSync(f));
  const load0 = loadavg()[0];
  const out: string[] = [];
  // the probe runs on the built kernels.wasm (a base build may predate its loops), placed after the builds
  const probe = builds.length;
  const workerd = await startWorkerd([...builds, readFileSync(built)]);
  try {
    // 1. the probe: Node, Node with checks in code (a child: V8 flags are per process), workerd
    const node = probeHere(rounds);
    const checked = JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--wasm-enforce-bounds-checks',
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          '--probe-only',
          '--rounds',
          String(rounds),
        ],
        { encoding: 'utf8' },
      ),
    ) as Record<string, number>;
    const inWorkerd: Record<string, number> = {};
    for (const p of PROBES) {
      let best = Infinity;
      for (let r = 0; r < rounds; r++) best = Math.min(best, await workerd.run(probe, p));
      inWorkerd[p] = best;
    }
    out.push(`Bounds-check probe (${relative(process.cwd(), built)}), best of ${rounds}, ms:`, '');
    out.push('| loop | Node | Node, bounds checked in code | workerd | workerd / Node |');
    out.push('| --- | ---: | ---: | ---: | ---: |');
    for (const p of PROBES)
      out.push(
        `| ${p} | ${fmt(node[p])} | ${fmt(checked[p])} | ${fmt(inWorkerd[p])} | ${(inWorkerd[p] / node[p]).toFixed(2)}× |`,
      );

    // 2. the kernels, each build, interleaved; Node instances in this process
    const local = builds.map((b) => makeRunner(instantiate(b)));
    const key = (side: string, k: string, b: number) => `${side}:${k}:${b}`;
    const bests = new Map<string, number>(),
      ratios = new Map<string, number[]>();
    for (let r = 0; r < rounds; r++) {
      const order = builds.map((_, i) => i);
      if (r % 2) order.reverse();
      for (const k of KERNELS)
        for (const side of ['workerd', 'Node'] as const) {
          const t: number[] = [];
          for (const b of order) {
            const ms = side === 'workerd' ? await workerd.run(b, k) : timeLocal(local[b], k);
            t[b] = ms;
            bests.set(key(side, k, b), Math.min(bests.get(key(side, k, b)) ?? Infinity, ms));
          }
          for (let b = 1; b < builds.length; b++)
            ratios.set(key(side, k, b), [...(ratios.get(key(side, k, b)) ?? []), t[0] / t[b]]);
        }
    }
    out.push(
      '',
      `Kernels, 256 matvecs of 2048 × 768 over 8 weight copies, best of ${rounds} rounds, ms (speed-up: build 0's time / this build's, per round):`,
      '',
    );
    out.push(
      '| kernel | build | workerd | Node | workerd / Node | speed-up vs build 0, workerd | speed-up vs build 0, Node |',
    );
    out.push('| --- | --- | ---: | ---: | ---: | --- | --- |');
    for (const k of KERNELS)
      files.forEach((f, b) => {
        const w = bests.get(key('workerd', k, b))!,
          n = bests.get(key('Node', k, b))!;
        const rs = (side: string) =>
          b === 0
            ? ''
            : ratios
                .get(key(side, k, b))!
                .map((x) => x.toFixed(2))
                .join(', ');
        out.push(
          `| ${k} | ${f} | ${fmt(w)} | ${fmt(n)} | ${(w / n).toFixed(2)}× | ${rs('workerd')} | ${rs('Node')} |`,
        );
      });
    out.push('', `Load average ${load0.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end.`);
    return out.join('\n');
  } finally {
    await workerd.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { rounds: { type: 'string', default: '9' }, 'probe-only': { type: 'boolean' } },
  });
  const rounds = Number(values.rounds);
  // the child of the probe's checked run: its timings as JSON
  if (values['probe-only']) console.log(JSON.stringify(probeHere(rounds)));
  else console.log(await benchWorkerdKernels({ rounds, files: positionals }));
}
