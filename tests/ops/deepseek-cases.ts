// The DeepSeek ops' rows of the one table (table.ts) (FP8 matvec/matmul are in quant-cases.ts): awkward
// head counts and widths, one position and many, every router method, MoE batches where some experts get
// no token and some get several, ragged FP8 blocks in the expert MLPs.
import { opCase, type Case } from './case';
import {
  DS_NMSE,
  mlaSpec,
  moeSpec,
  ropeSpec,
  routeSpec,
  type MoeShape,
  type RouteShape,
} from './deepseek-specs';

const route = (s: Partial<RouteShape>) =>
  opCase(
    'moeRoute',
    routeSpec,
    {
      experts: 16,
      topK: 4,
      nGroup: 4,
      topkGroup: 2,
      method: 'noaux_tc',
      scoring: 'sigmoid',
      tokens: 9,
      ...s,
    },
    0,
  );
const moe = (s: Partial<MoeShape>, bench = false) =>
  opCase(
    'moe',
    moeSpec,
    {
      hidden: 64,
      inter: 48,
      experts: 8,
      topK: 2,
      nGroup: 4,
      topkGroup: 2,
      shared: true,
      tokens: 5,
      block: 32,
      ...s,
    },
    DS_NMSE,
    bench,
  );

export const deepSeekCases: Case[] = [
  ...[
    [1, 4, 2, 4, 8, 1],
    [3, 5, 6, 7, 13, 3],
    [4, 64, 32, 64, 64, 17],
    [2, 16, 8, 24, 67, 64],
    [16, 128, 64, 128, 512, 33],
  ].map(([heads, nope, rope, v, latent, nPos]) =>
    opCase('mlaAttention', mlaSpec, { heads, nope, rope, v, latent, nPos }, DS_NMSE),
  ),
  opCase(
    'mlaAttention',
    mlaSpec,
    { heads: 16, nope: 128, rope: 64, v: 128, latent: 512, nPos: 1024 },
    DS_NMSE,
    true,
  ),

  route({}),
  route({ method: 'group_limited_greedy' }),
  route({ method: 'greedy', nGroup: 1, topkGroup: 1, topK: 6 }),
  route({ scoring: 'softmax', experts: 12, nGroup: 3, topkGroup: 1, topK: 2 }),
  route({ experts: 256, topK: 8, nGroup: 8, topkGroup: 4, tokens: 3 }), // DeepSeek-V3's router

  moe({ tokens: 1 }),
  moe({ tokens: 5 }),
  moe({ tokens: 13, hidden: 67, inter: 29, block: 16 }), // ragged blocks, 13 tokens over 8 experts
  moe({ tokens: 33, experts: 16, topK: 4, shared: false }),
  moe({ tokens: 64, hidden: 256, inter: 128, experts: 16, topK: 4, block: 128 }, true), // the synthetic model's MoE layer

  ...[
    [1, 2, 2, 0],
    [4, 96, 32, 7],
    [5, 13, 6, 100],
    [128, 192, 64, 4095],
  ].map(([count, stride, dim, pos]) =>
    opCase('ropePairs', ropeSpec, { count, stride, dim, pos }, 0),
  ),
];
