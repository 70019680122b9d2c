// bench/pd.ts's model and prompts: a model directory (the trained models/pystd-mla-moe) or
// synthetic:<preset>, the id its origin serves it under, and prompts of an exact token count in its own
// tokenizer: slices of Python standard-library code (eplb-prompts.ts's held-out files), each seed at its
// own place, so no two prompts share a prefix. (Letters of `textOf` were ~2 V3 tokens per 4 letters: the
// "1024–1984-token" prompts of the first runs were about half that.)
import { parseDeepSeekConfig, type DeepSeekConfig } from '../engine/deepseek/config';
import { SYNTHETIC_DEEPSEEK_CONFIG } from '../engine/deepseek/synthetic';
import { readModelFiles } from '../origin/model/load';
import { SYNTHETIC_PRESETS } from '../origin/model/presets';
import { deepSeekV3TokenizerDir, loadOriginTokenizer } from '../origin/model/tokenizer';
import { setText } from './eplb-prompts';

export interface BenchModel {
  /** What --model takes. */
  spec: string;
  /** The id requests name. */
  id: string;
  /** Long prompts' token counts: 1024–1984, or half to all of a shorter context (less 64). */
  longTokens: [number, number];
  /** The calibration prompt (a lone one's TTFT sets the arrival rate): 1536 tokens, or 3/4 of the context. */
  loneTokens: number;
  /** Text of `n` tokens (± 1 where a slice's edges re-merge), different for each seed. */
  textOf(n: number, seed: number): string;
}

/** The model's id, config and tokenizer directory, without generating a synthetic model's weights. */
function describe(spec: string): { id: string; config: DeepSeekConfig; tokenizerDir: string } {
  if (spec.startsWith('synthetic:')) {
    const preset = SYNTHETIC_PRESETS[spec.slice('synthetic:'.length)];
    if (!preset) throw new Error(`unknown synthetic preset in ${spec}`);
    const config = { ...SYNTHETIC_DEEPSEEK_CONFIG, ...preset.config };
    return { id: spec.replace(':', '-'), config, tokenizerDir: deepSeekV3TokenizerDir() };
  }
  const { id, files, tokenizerDir } = readModelFiles(spec);
  const config = parseDeepSeekConfig(JSON.parse(new TextDecoder().decode(files['config.json'])));
  return { id, config, tokenizerDir };
}

export function benchModel(spec: string): BenchModel {
  const { id, config, tokenizerDir } = describe(spec);
  const tok = loadOriginTokenizer(tokenizerDir, config);
  const ids = tok.encode(setText('code'), { bos: false });
  const ctx = config.maxPositionEmbeddings;
  const utf8 = new TextDecoder();
  return {
    spec,
    id,
    longTokens: [Math.min(1024, ctx / 2), Math.min(2048, ctx) - 64],
    loneTokens: Math.min(1536, (3 * ctx) / 4),
    textOf(n, seed) {
      const at = (seed * 7919 * 61) % (ids.length - n);
      const parts = ids.slice(at, at + n).map((t) => tok.decode(t));
      const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) bytes.set(p, (o += p.length) - p.length);
      return utf8.decode(bytes);
    },
  };
}
