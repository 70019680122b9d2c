// The restore path on the real stories260K model: a golden sequence's first blocks are captured
// from a cold run, encoded, decoded and restored; greedy decoding must then give the golden tokens.
// Teacher-forced logits (restored vs cold) give each codec's max logit difference, printed.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BLOCK_TOKENS,
  CODEC_NAMES,
  LlamaModel,
  allocSession,
  cacheableBlocks,
  restoredTokens,
  decodeEntry,
  encodeEntry,
  forward,
  kvShapeOf,
  parseLlama2cCheckpoint,
  readKvRows,
  sliceKvRows,
  uploadWeights,
  writeKvRows,
  type CodecName,
  type GqaKvRows,
} from '../../../engine/index';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { collect, loadStories, type GoldenCase } from '../helpers';

const stories = loadStories();
const greedyCases = stories?.cases.filter((c) => c.temperature === 0) ?? [];
/** Prompt lengths: 2 or 3 blocks restored, then 1 or 22 tokens computed (128: the whole prompt restored, its last token computed). */
const splits = (c: GoldenCase) => (c.token_ids.length > 250 ? [150, 192] : [128, 129]);

/** The blocks of `prefix` through `codec` (encode → decode), as restore rows. */
async function throughCodec(rows: GqaKvRows, codec: CodecName): Promise<GqaKvRows[]> {
  const out: GqaKvRows[] = [];
  for (let start = 0; start < rows.count; start += BLOCK_TOKENS) {
    const block = sliceKvRows(rows, start, BLOCK_TOKENS);
    const hash = new Uint8Array(32).fill(start / BLOCK_TOKENS);
    const decoded = await decodeEntry(await encodeEntry(block, codec, hash), {
      chainHash: hash,
      shape: block,
      start,
      count: BLOCK_TOKENS,
    });
    if (!decoded.ok) throw new Error(decoded.reason);
    out.push(decoded.rows);
  }
  return out;
}

/** Greedy continuation of `prefix` to the golden length, optionally restoring/capturing the cached blocks. */
async function continuation(
  model: LlamaModel,
  c: GoldenCase,
  prefix: number,
  cache: { restore?: GqaKvRows[]; capture?: (r: GqaKvRows) => void } = {},
) {
  const blocks = cacheableBlocks(prefix);
  const gen = model.generate(c.token_ids.slice(0, prefix), {
    maxTokens: c.token_ids.length - prefix,
    temperature: 0,
    topP: 1,
    stopAtEos: false,
    restore: cache.restore,
    capture: cache.capture && { from: 0, to: blocks * BLOCK_TOKENS, rows: cache.capture },
  });
  return collect(gen);
}

describe.skipIf(!stories)('restore on stories260K goldens', () => {
  let model: LlamaModel;
  beforeAll(async () => {
    model = LlamaModel.fromLlama2c(
      await createNodeKernels(),
      stories!.checkpoint,
      stories!.tokenizer,
      { maxSessions: 1 },
    );
  });

  for (const c of greedyCases) {
    for (const prefix of splits(c)) {
      it(`${JSON.stringify(c.prompt)} steps=${c.steps}, ${prefix}-token prompt: cold = golden = restored (f32, f16, int8)`, async () => {
        let captured: GqaKvRows | null = null;
        const cold = await continuation(model, c, prefix, { capture: (r) => (captured = r) });
        expect(cold.tokens.map((t) => t.id)).toEqual(c.token_ids.slice(prefix));
        expect(captured).toMatchObject({ start: 0, count: cacheableBlocks(prefix) * BLOCK_TOKENS });
        for (const codec of ['f32', 'f16', 'int8'] as const) {
          const warm = await continuation(model, c, prefix, {
            restore: await throughCodec(captured!, codec),
          });
          expect(
            warm.tokens.map((t) => t.id),
            codec,
          ).toEqual(c.token_ids.slice(prefix));
          expect(warm.text).toBe(cold.text);
          expect(warm.result.cachedTokens).toBe(restoredTokens(cacheableBlocks(prefix), prefix));
        }
        // the lossy codecs are reported, not held to the goldens: the first token where they part from them
        const parts: string[] = [];
        for (const codec of ['fp8', 'int8-head', 'int4', 'kv4'] as const) {
          const warm = (
            await continuation(model, c, prefix, { restore: await throughCodec(captured!, codec) })
          ).tokens.map((t) => t.id);
          const at = warm.findIndex((id, i) => id !== c.token_ids[prefix + i]);
          parts.push(`${codec} ${at < 0 ? 'same' : `differs from token ${at} of ${warm.length}`}`);
        }
        console.log(
          `greedy after restore, ${JSON.stringify(c.prompt)} ${prefix}-token prompt: ${parts.join(', ')}`,
        );
      });
    }
  }

  it('max |logit difference| restored vs cold, teacher-forced over the golden continuations', async () => {
    const { config, weights } = parseLlama2cCheckpoint(stories!.checkpoint);
    const k = await createNodeKernels();
    const w = uploadWeights(k, weights);
    const [cold, warm] = [allocSession(k, config), allocSession(k, config)];
    const maxDiff = Object.fromEntries(CODEC_NAMES.map((n) => [n, 0])) as Record<CodecName, number>;
    const greedySame = Object.fromEntries(CODEC_NAMES.map((n) => [n, true])) as Record<
      CodecName,
      boolean
    >;
    let closestCall = Infinity; // the smallest top-1 minus top-2 logit of the cold run: what a lossy codec must not cross
    for (const c of greedyCases) {
      const prefix = splits(c)[0];
      const cached = cacheableBlocks(prefix) * BLOCK_TOKENS;
      const from = cached - 1; // as generate() does when the whole prompt was restored: its last row is computed again
      const coldLogits: Float32Array[] = [];
      c.token_ids.forEach((t, pos) => {
        const logits = forward(k, config, w, cold, t, pos);
        if (pos < from) return;
        const l = k.f32(logits, config.vocabSize).slice();
        const sorted = [...l].sort((a, b) => b - a);
        closestCall = Math.min(closestCall, sorted[0] - sorted[1]);
        coldLogits.push(l);
      });
      const captured = readKvRows(k, config, cold, 0, cached);
      for (const codec of CODEC_NAMES) {
        for (const rows of await throughCodec(captured, codec)) writeKvRows(k, config, warm, rows);
        for (let pos = from; pos < c.token_ids.length; pos++) {
          const logits = k.f32(
            forward(k, config, w, warm, c.token_ids[pos], pos),
            config.vocabSize,
          );
          const ref = coldLogits[pos - from];
          let argmaxRef = 0,
            argmax = 0;
          for (let i = 0; i < ref.length; i++) {
            maxDiff[codec] = Math.max(maxDiff[codec], Math.abs(logits[i] - ref[i]));
            if (ref[i] > ref[argmaxRef]) argmaxRef = i;
            if (logits[i] > logits[argmax]) argmax = i;
          }
          if (argmax !== argmaxRef) greedySame[codec] = false;
        }
      }
    }
    console.log(
      `stories260K, restored vs cold, max |Δlogit| over ${greedyCases.length} golden continuations:`,
      CODEC_NAMES.map(
        (n) => `${n} ${maxDiff[n].toExponential(2)} (argmax ${greedySame[n] ? 'same' : 'DIFFERS'})`,
      ).join(', '),
      `; closest greedy call of the cold run: top-1 − top-2 = ${closestCall.toExponential(2)}`,
    );
    expect(kvShapeOf(config)).toEqual({ nLayers: 5, nKvHeads: 4, headDim: 8 });
    expect(maxDiff.f32).toBe(0); // lossless: bit-identical logits
    expect(maxDiff.f16).toBeLessThan(0.05);
    expect(maxDiff.int8).toBeLessThan(0.1);
    expect(greedySame.f16 && greedySame.int8).toBe(true);
    expect(maxDiff.int4).toBeLessThan(1.5); // 1.10 when measured: reported, not held to the goldens
    expect(maxDiff.kv4).toBeLessThan(1.5); // 1.00 when measured, at a quarter of f16's bytes: reported, not held to the goldens
  });
});
