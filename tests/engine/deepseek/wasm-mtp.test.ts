// Parity of the WASM MTP module (engine/deepseek/wasm-mtp.ts via WasmDeepSeekModel.draft) with its float64
// reference (engine/deepseek/mtp.ts) on the synthetic FP8 checkpoint with one MTP layer: draft logits after
// a prefill and over decode steps of one and two tokens, and a batched draft over two slots.
import { describe, expect, it } from 'vitest';
import { MtpDrafter } from '../../../engine/deepseek/mtp';
import { nmse } from '../../ops/nmse';
import { DeepSeekReferenceModel } from '../../../engine/deepseek/reference';
import { generateSyntheticDeepSeek } from '../../../engine/deepseek/synthetic';
import { WasmDeepSeekModel } from '../../../engine/deepseek/wasm-model';
import { loadDeepSeekModel } from '../../../engine/deepseek/weights';
import { loadKernelsModule } from '../../../kernels-wasm/node';

const files = generateSyntheticDeepSeek({ seed: 3 }); // 4 layers + 1 MTP layer (MoE), vocab 512
const h = 256;
const module = await loadKernelsModule();
const wasm = (maxSlots = 1) =>
  WasmDeepSeekModel.load(module, files, { maxSeqLen: 32, maxSlots, mtp: true });
const prompt = [0, 17, 300, 42, 9, 511, 128];

describe('WASM MTP module vs the float64 reference (mtp.ts)', () => {
  it('draft logits match after a prefill and over decode steps of 1 and 2 tokens (NMSE < 1e-9)', async () => {
    const ref = new DeepSeekReferenceModel(loadDeepSeekModel(files), { maxSeqLen: 32 });
    const drafter = new MtpDrafter(ref);
    const m = await wasm();
    expect(m.hasMtp).toBe(true);
    // (tokens fed to the main model, the confirmed tokens after each) per step
    const steps: [number[], number[]][] = [
      [prompt, [...prompt.slice(1), 33]],
      [[33], [5]],
      [
        [5, 71],
        [71, 200],
      ],
      [
        [200, 3],
        [3, 450],
      ],
      [[450], [8]],
    ];
    let pos = 0;
    for (const [tokens, next] of steps) {
      const mainRef = ref.forward(tokens, pos);
      const [main] = m.step([{ slot: 0, tokens, startPos: pos, wantLogits: true }]);
      const V = 512;
      expect(nmse(main, mainRef.subarray((tokens.length - 1) * V))).toBeLessThan(1e-9);
      drafter.extend(ref.hidden.subarray(0, tokens.length * h), next, pos);
      const [draft] = m.draft([
        { slot: 0, startPos: pos, hiddenRow: 0, nextTokens: next, wantLogits: true },
      ]);
      const err = nmse(draft, drafter.logits);
      expect(err).toBeLessThan(1e-9); // f32 vs f64 arithmetic through 5 blocks
      pos += tokens.length;
    }
  });

  it('a batched draft over two slots equals each slot drafted alone (NMSE < 1e-11)', async () => {
    const other = [0, 99, 98, 97];
    const both = await wasm(2);
    const [a, b] = [prompt, other];
    both.step([
      { slot: 0, tokens: a, startPos: 0, wantLogits: true },
      { slot: 1, tokens: b, startPos: 0, wantLogits: true },
    ]);
    const drafts = both
      .draft([
        { slot: 0, startPos: 0, hiddenRow: 0, nextTokens: [...a.slice(1), 7], wantLogits: true },
        {
          slot: 1,
          startPos: 0,
          hiddenRow: a.length,
          nextTokens: [...b.slice(1), 9],
          wantLogits: true,
        },
      ])
      .map((d) => Float32Array.from(d));
    for (const [i, p, t] of [
      [0, a, 7],
      [1, b, 9],
    ] as const) {
      const alone = await wasm();
      alone.step([{ slot: 0, tokens: p, startPos: 0, wantLogits: true }]);
      const [d] = alone.draft([
        { slot: 0, startPos: 0, hiddenRow: 0, nextTokens: [...p.slice(1), t], wantLogits: true },
      ]);
      expect(nmse(drafts[i], d)).toBeLessThan(1e-11);
    }
  });

  it('refuses hidden rows the last step did not compute, and draft() without MTP weights', async () => {
    const m = await wasm();
    m.step([{ slot: 0, tokens: [1, 2], startPos: 0, wantLogits: true }]);
    expect(() =>
      m.draft([{ slot: 0, startPos: 0, hiddenRow: 1, nextTokens: [2, 3], wantLogits: true }]),
    ).toThrow(/hidden rows 1..2/);
    const plain = await WasmDeepSeekModel.load(module, files, { maxSeqLen: 8 });
    expect(plain.hasMtp).toBe(false);
    expect(() => plain.draft([])).toThrow(/not placed/);
  });

  it('rowLogits: a verify step rows one at a time equal them all at once; none after draft()', async () => {
    const m = await wasm();
    m.step([{ slot: 0, tokens: prompt, startPos: 0, wantLogits: false }]);
    const verify = { slot: 0, tokens: [33, 5], startPos: prompt.length };
    const both = m.step([{ ...verify, wantLogits: true, allLogits: true }]).map((r) => r.slice());
    const [first] = m.step([{ ...verify, wantLogits: true, firstLogits: true }]);
    expect(nmse(first, both[0])).toBeLessThan(1e-12);
    const [second, again] = m.rowLogits([1, 0]);
    expect(nmse(second, both[1])).toBeLessThan(1e-12);
    expect(nmse(again, both[0])).toBeLessThan(1e-12);
    expect(() => m.rowLogits([2])).toThrow(/not a row of the last step/);
    m.draft([
      { slot: 0, startPos: prompt.length, hiddenRow: 0, nextTokens: [5, 7], wantLogits: true },
    ]);
    expect(() => m.rowLogits([0])).toThrow(/draft\(\) ran/);
  });
});

describe('a draft vocabulary (draft_vocab.json, engine/deepseek/draft-vocab.ts)', () => {
  const ids = [511, 0, 17, 300, 42, 9, 128, 7, 64];
  const withVocab = (list: unknown) => ({
    ...files,
    'draft_vocab.json': new TextEncoder().encode(JSON.stringify({ ids: list })),
  });
  const draftOf = async (f: Record<string, Uint8Array>, draftVocab = true) => {
    const m = await WasmDeepSeekModel.load(module, f, { maxSeqLen: 32, mtp: true, draftVocab });
    m.step([{ slot: 0, tokens: prompt, startPos: 0, wantLogits: false }]);
    const next = [...prompt.slice(1), 5];
    const [d] = m.draft([
      { slot: 0, startPos: 0, hiddenRow: 0, nextTokens: next, wantLogits: true },
    ]);
    return { m, d: d.slice() };
  };

  it('draft logits: the full head`s on the listed ids, -Infinity elsewhere', async () => {
    const full = await draftOf(files);
    const listed = await draftOf(withVocab(ids));
    expect(full.m.draftVocabSize).toBe(512);
    expect(listed.m.draftVocabSize).toBe(ids.length);
    const on = Float32Array.from(ids, (id) => listed.d[id]);
    expect(
      nmse(
        on,
        Float32Array.from(ids, (id) => full.d[id]),
      ),
    ).toBeLessThan(1e-12);
    const off = listed.d.filter((_, id) => !ids.includes(id));
    expect(off).toHaveLength(512 - ids.length);
    expect(off.every((x) => x === -Infinity)).toBe(true);
    // draftVocab: false ignores the file
    const ignored = await draftOf(withVocab(ids), false);
    expect(ignored.m.draftVocabSize).toBe(512);
    expect(nmse(ignored.d, full.d)).toBeLessThan(1e-12);
  });

  it('refuses ids outside the vocabulary, repeated ids, and a file without ids', async () => {
    for (const [list, why] of [
      [[1, 512], /512 is not a new token id of 0..511/],
      [[3, 3], /3 is not a new token id/],
      [[], /non-empty array/],
      [['7'], /"7" is not a new token id/],
    ] as const)
      await expect(draftOf(withVocab(list))).rejects.toThrow(why);
  });
});
