// The int8 KV cache's rows of the one table (table.ts): awkward head sizes (tails of the 4- and 8-wide
// loops), grouped-query heads, one position and many; the 2048-position rows are the long contexts the
// int8 cache is for. Plain code, no Node imports.
import { opCase, type Case } from './case';
import { attentionKv8Spec, quantizeKv8Spec } from './kv8-specs';

// f32 sums as in attention (1e-10), plus attention_kv8's i16 rounding of q (relative 1/65534 per value)
const dots = 1e-8;

export const kv8Cases: Case[] = [
  ...[
    [1, 1],
    [3, 5],
    [4, 8],
    [7, 13],
    [12, 64],
    [1, 300],
  ].map(([groups, group]) =>
    opCase('quantizeKv8', quantizeKv8Spec, { groups, group }, 0, { twin: 0 }),
  ),
  ...[
    [1, 1, 8, 1],
    [2, 1, 6, 3],
    [4, 2, 12, 7],
    [6, 6, 48, 17],
    [8, 4, 8, 33],
    [12, 4, 64, 100],
  ].map(([nHeads, nKvHeads, headDim, nPos]) =>
    opCase('attentionKv8', attentionKv8Spec, { nHeads, nKvHeads, headDim, nPos }, dots),
  ),
  opCase(
    'attentionKv8',
    attentionKv8Spec,
    { nHeads: 12, nKvHeads: 4, headDim: 64, nPos: 2048 },
    dots,
    true,
  ),
  opCase(
    'attentionKv8',
    attentionKv8Spec,
    { nHeads: 12, nKvHeads: 12, headDim: 64, nPos: 1024 },
    dots,
    true,
  ),
];
