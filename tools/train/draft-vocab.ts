// tools/train: the MTP draft's vocabulary (engine/deepseek/draft-vocab.ts) — the N most frequent token
// ids of the training split corpus.ts wrote (work/train.u32; ties to the lower id), as the model
// directory's draft_vocab.json. Held-out text never enters it.
//   npx tsx tools/train/draft-vocab.ts [model dir, default models/pystd-mla-moe] [work dir] [--size 2048]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: '2048' } },
});
const [modelDir = 'models/pystd-mla-moe', workDir = 'tools/train/work'] = positionals;
const vocabSize = (
  JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as {
    vocab_size: number;
  }
).vocab_size;
const bytes = readFileSync(join(workDir, 'train.u32'));
const train = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const counts = new Float64Array(vocabSize);
for (const id of train) counts[id]++;
const ranked = Array.from({ length: vocabSize }, (_, i) => i).sort(
  (a, b) => counts[b] - counts[a] || a - b,
);
const size = Math.min(Number(values.size), vocabSize);
const ids = ranked.slice(0, size);
const covered = ids.reduce((n, id) => n + counts[id], 0) / train.length;
const out = {
  description:
    `The ${size} most frequent token ids of the training split (${train.length} tokens; ` +
    `${(100 * covered).toFixed(1)}% of them): the ids the MTP draft's head scores.`,
  command: `npx tsx tools/train/draft-vocab.ts ${modelDir} ${workDir} --size ${size}`,
  ids,
};
writeFileSync(join(modelDir, 'draft_vocab.json'), JSON.stringify(out) + '\n');
console.log(out.description);
