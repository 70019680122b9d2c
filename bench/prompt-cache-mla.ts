// Prompt-cache latent (MLA) entries: bytes per cached token of each codec and what a restore costs
// in logits, on the origin's CPU backend over synthetic DeepSeek-V3-shaped models (real
// latents of a 256-token prompt), plus DeepSeek-V3's own shape (61 layers × (512 + 64)) on random
// latents, measured and projected from per-value costs. Run alone: npx tsx bench/prompt-cache-mla.ts
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { generateSyntheticDeepSeek } from '../engine/deepseek/synthetic';
import {
  HEADER_BYTES,
  LATENT_CODEC_NAMES,
  decodeLatentEntrySync,
  encodeLatentEntrySync,
  latentPayloadBytes,
  type LatentCodecName,
  type LatentShape,
  type SyncDeflate,
} from '../engine/prompt-cache/index';
import { CpuBackend } from '../origin/backend/cpu-backend';
import { SYNTHETIC_PRESETS } from '../origin/model/presets';
import {
  latentBlockCodec,
  PREFIX_CACHE_CODECS,
  type PrefixCacheCodec,
} from '../origin/scheduler/latent-blocks';
import { PrefixCache, promptBlockKeys } from '../origin/scheduler/prefix-cache';
import { randomLatents } from '../tests/engine/prompt-cache/helpers';

const zlib: SyncDeflate = {
  deflate: (b) => deflateRawSync(b),
  inflate: (b, limit) => inflateRawSync(b, { maxOutputLength: limit }),
};
const BLOCKS = 4,
  TAIL = 8,
  DECODE = 32;
const HASH = new Uint8Array(32).fill(7);

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

interface Row {
  codec: PrefixCacheCodec;
  bytesPerToken: number;
  maxDelta: number;
  agree: number;
}

/** Cold greedy run, then each codec's restore of the prompt's blocks, teacher-forced with the cold tokens. */
async function modelRows(
  preset: string,
  gemm: 'fp8' | 'dequantized',
): Promise<{ rows: Row[]; logitStd: number; medianGap: number }> {
  const files = generateSyntheticDeepSeek({ config: SYNTHETIC_PRESETS[preset].config, seed: 1 });
  const backend = await CpuBackend.create(files, {
    maxSlots: 2,
    maxSeqLen: 512,
    maxStepTokens: 512,
    gemm,
  });
  const V = backend.vocabSize,
    n = BLOCKS * 64 + TAIL;
  const prompt = Array.from({ length: n }, (_, i) => 3 + ((i * 37 + 11) % (V - 3)));
  const a = backend.allocate()!,
    b = backend.allocate()!;
  const run = async (slot: number, from: number, forced?: number[]) => {
    let [logits] = await backend.step([
      { slot, tokens: prompt.slice(from), startPos: from, wantLogits: true },
    ]);
    const out: { logits: Float64Array; token: number }[] = [];
    for (let j = 0; j <= DECODE; j++) {
      out.push({ logits: Float64Array.from(logits), token: argmax(logits) });
      if (j < DECODE)
        [logits] = await backend.step([
          { slot, tokens: [forced?.[j] ?? out[j].token], startPos: n + j, wantLogits: true },
        ]);
    }
    return out;
  };
  const cold = await run(a, 0);
  const keys = await promptBlockKeys(
    { tenantSalt: 'bench', modelId: preset, weightsDigest: '0'.repeat(64) },
    prompt,
  );
  const rows: Row[] = [];
  for (const codec of PREFIX_CACHE_CODECS) {
    const cache = new PrefixCache(
      2 ** 30,
      codec === 'exact' ? undefined : latentBlockCodec(backend.latents, codec),
    );
    keys.forEach((key, i) => cache.insert(key, backend.saveKv(a, i * 64, 64)));
    cache.lookup(keys).forEach((r, i) => backend.restoreKv(b, i * 64, r));
    const warm = await run(
      b,
      BLOCKS * 64,
      cold.map((c) => c.token),
    );
    let maxDelta = 0,
      agree = 0;
    warm.forEach((w, j) => {
      for (let v = 0; v < V; v++)
        maxDelta = Math.max(maxDelta, Math.abs(w.logits[v] - cold[j].logits[v]));
      if (w.token === cold[j].token) agree++;
    });
    rows.push({ codec, bytesPerToken: cache.bytes / (cache.blocks * 64), maxDelta, agree });
  }
  const all = cold.flatMap((c) => Array.from(c.logits)),
    mean = all.reduce((s, x) => s + x, 0) / all.length;
  const gaps = cold
    .map((c) => {
      const sorted = Array.from(c.logits).sort((x, y) => y - x);
      return sorted[0] - sorted[1];
    })
    .sort((x, y) => x - y);
  return {
    rows,
    logitStd: Math.sqrt(all.reduce((s, x) => s + (x - mean) ** 2, 0) / all.length),
    medianGap: gaps[gaps.length >> 1],
  };
}

/** Deflated payload bytes per (layer, position) of each codec on random latents of `shape`, entry bytes per token, ms per block. */
function randomBlock(
  shape: LatentShape,
): Map<
  LatentCodecName,
  { perLayerToken: number; perToken: number; encodeMs: number; decodeMs: number }
> {
  const rows = randomLatents(shape, 0, 64, 11, true); // the codec tests' latents (f64; the CPU origin holds f32 rows)
  const out = new Map();
  for (const codec of LATENT_CODEC_NAMES) {
    let entry = encodeLatentEntrySync(rows, codec, HASH, zlib);
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) entry = encodeLatentEntrySync(rows, codec, HASH, zlib);
    const t1 = performance.now();
    for (let i = 0; i < 3; i++)
      decodeLatentEntrySync(entry, { chainHash: HASH, shape, start: 0, count: 64 }, zlib);
    const t2 = performance.now();
    out.set(codec, {
      perLayerToken: (entry.length - HEADER_BYTES) / (shape.nLayers * 64),
      perToken: entry.length / 64,
      encodeMs: (t1 - t0) / 3,
      decodeMs: (t2 - t1) / 3,
    });
  }
  return out;
}

export async function benchPromptCacheMla(log: (line: string) => void = () => {}): Promise<string> {
  const out: string[] = [];
  const V3: LatentShape = { nLayers: 61, kvLoraRank: 512, ropeDim: 64 };
  log('random latents: one layer of DeepSeek-V3 widths (per-value costs), then all 61 layers');
  const layer = randomBlock({ ...V3, nLayers: 1 }),
    v3 = randomBlock(V3);
  const v3Values = V3.nLayers * (V3.kvLoraRank + V3.ropeDim);
  out.push(
    `DeepSeek-V3 (61 layers × (512 + 64) latents per token), random latents, 64-token blocks:`,
    '',
    '| codec | payload B/token before deflate | deflated B per (layer, token), 1 layer | analytic B/token (61 × that + header / 64) | measured B/token, 61-layer entry | vs bf16 latents | encode ms/block | decode ms/block |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const codec of LATENT_CODEC_NAMES) {
    const m = v3.get(codec)!,
      per = layer.get(codec)!.perLayerToken;
    out.push(
      `| ${codec} | ${(latentPayloadBytes(V3, 64, codec) / 64).toFixed(0)} | ${per.toFixed(1)} | ${(V3.nLayers * per + HEADER_BYTES / 64).toFixed(0)} | ${m.perToken.toFixed(0)} | ${(m.perToken / (2 * v3Values)).toFixed(3)} | ${m.encodeMs.toFixed(0)} | ${m.decodeMs.toFixed(0)} |`,
    );
  }
  out.push(
    '',
    `(bf16 latents: ${2 * v3Values} B/token; exact f32 rows as the CPU origin holds them: ${4 * v3Values} B/token.)`,
  );
  for (const preset of ['tiny', 'small']) {
    for (const gemm of ['dequantized', 'fp8'] as const) {
      log(`synthetic ${preset}, --gemm ${gemm}`);
      const { rows, logitStd, medianGap } = await modelRows(preset, gemm);
      const c = SYNTHETIC_PRESETS[preset].config,
        exact = rows[0].bytesPerToken;
      out.push(
        '',
        `synthetic:${preset} (${c.numHiddenLayers} layers × (${c.kvLoraRank} + ${c.qkRopeHeadDim})), --gemm ${gemm}: ${BLOCKS} blocks restored, ${DECODE + 1} positions teacher-forced; cold logits std ${logitStd.toFixed(2)}, median top-1/top-2 gap ${medianGap.toFixed(3)}`,
        '',
        '| codec | B/token held | blocks per MiB | vs exact f32 | max abs Δlogit | greedy agreement |',
        '| --- | ---: | ---: | ---: | ---: | ---: |',
      );
      for (const r of rows) {
        out.push(
          `| ${r.codec} | ${r.bytesPerToken.toFixed(1)} | ${(2 ** 20 / (64 * r.bytesPerToken)).toFixed(1)} | ${(exact / r.bytesPerToken).toFixed(2)}x | ${r.maxDelta.toExponential(2)} | ${r.agree}/${DECODE + 1} |`,
        );
      }
    }
  }
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await benchPromptCacheMla((l) => console.error(l)));
}
