// `npm run -s generate -- --model <model> --prompt "..." --steps N --temperature T [--json]`:
// llama2.c run.c's generate mode on our engine. <model> is a llama2.c checkpoint (tokenizer.bin
// beside it, or --tokenizer), a directory holding one (model.bin), a model directory (config.json,
// safetensors, tokenizer.json or tokenizer.bin: what `npm run -s model -- convert` writes, or a
// Hugging Face download), or a .gguf file (imported in memory as --quant, default: q8 when its
// matrices are Q8_0, q4 when Q4_0, else f32). Steps count forward passes (prompt positions
// included). A llama2.c model stops on BOS and prints byte for byte what run.c prints; other models
// stop on their tokenizer's stop ids (EOS, end of turn). --chat renders the prompt as one user
// message through the model's chat template (tokenizer_config.json), as the API does. A DeepSeek-V3
// directory (model_type deepseek_v3) runs on the origin's WASM model (tools/generate-deepseek.ts), with
// --mtp for self-speculative decoding with its MTP module (--json then adds stats: drafted, accepted).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOS_ID, LlamaModel, runcPrintable } from '../engine/index';
import { QUANT_TARGETS, type QuantTarget } from '../engine/formats/hf-writer';
import type { ImportedModel } from '../engine/formats/imported-model';
import { planModelDir } from '../engine/formats/model-dir-writer';
import { loadModelDir } from '../engine/llama/model-dir';
import type { ChatTemplate } from '../engine/tokenizers/chat-template';
import { createTsKernels } from '../kernels-wasm/index';
import { createNodeKernels } from '../kernels-wasm/node';
import type { KernelBackend } from '../kernels-wasm/types';
import { generateDeepSeek, isDeepSeekDir } from './generate-deepseek';
import { parseCliArgs, runCli, UsageError } from './cli';
import {
  importSource,
  llama2cTokenizerFor,
  readBytes,
  readModelDir,
  weightFiles,
  writeModelDir,
} from './model-files';

const USAGE = `usage: npm run -s generate -- --model <model.bin|dir|model.gguf> [--tokenizer <tokenizer.bin>] [--prompt TEXT]
       [--steps N (256; 0 = context)] [--temperature T (1.0)] [--topp P (0.9)] [--seed S]
       [--chat] [--quant f32|f16|q8|q4|fp8 (.gguf only)] [--context N] [--backend wasm|ts] [--json]
       [--mtp (DeepSeek-V3 directories: speculative decoding with the MTP module)]`;

interface Run {
  token_ids: number[];
  prompt_token_ids: number[];
  generated_token_ids: number[];
  text: string;
  completion: string;
  stop_reason: 'bos' | 'stop' | 'steps';
}

type ModelSource =
  | { kind: 'llama2c'; checkpoint: string; tokenizer?: string }
  | { kind: 'dir'; dir: string }
  | { kind: 'gguf'; file: string };

function modelSource(model: string, tokenizer: string | undefined): ModelSource {
  if (!existsSync(model)) throw new UsageError(`--model ${model} does not exist`);
  if (statSync(model).isDirectory()) {
    if (existsSync(join(model, 'config.json'))) {
      if (!weightFiles(model).length)
        throw new UsageError(`${model} has a config.json but no .safetensors weights`);
      return { kind: 'dir', dir: model };
    }
    const checkpoint = join(model, 'model.bin');
    if (!existsSync(checkpoint))
      throw new UsageError(
        `${model} is neither a model directory (config.json + safetensors) nor holds a llama2.c model.bin`,
      );
    return { kind: 'llama2c', checkpoint, tokenizer };
  }
  if (model.endsWith('.gguf')) return { kind: 'gguf', file: model };
  return { kind: 'llama2c', checkpoint: model, tokenizer };
}

function parseCli(args: string[]) {
  const { values } = parseCliArgs({
    args,
    options: {
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      prompt: { type: 'string', default: '' },
      steps: { type: 'string', default: '256' },
      temperature: { type: 'string', default: '1.0' },
      topp: { type: 'string', default: '0.9' },
      seed: { type: 'string' },
      chat: { type: 'boolean', default: false },
      quant: { type: 'string' },
      context: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      json: { type: 'boolean', default: false },
      mtp: { type: 'boolean', default: false },
    },
  });
  if (!values.model) throw new UsageError('missing --model');
  const number = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isFinite(n))
      throw new UsageError(`--${name} must be a number, got ${JSON.stringify(text)}`);
    return n;
  };
  if (values.backend !== 'wasm' && values.backend !== 'ts')
    throw new UsageError(`--backend must be wasm or ts, got ${values.backend}`);
  const source = modelSource(values.model, values.tokenizer);
  if (values.quant !== undefined && !QUANT_TARGETS.includes(values.quant as QuantTarget)) {
    throw new UsageError(`--quant must be one of ${QUANT_TARGETS.join(', ')}, got ${values.quant}`);
  }
  if (values.quant !== undefined && source.kind !== 'gguf')
    throw new UsageError(
      '--quant applies to .gguf models only (convert others with `npm run -s model -- convert`)',
    );
  if (values.chat && source.kind === 'llama2c')
    throw new UsageError(
      '--chat needs a model directory or .gguf with a chat template; a llama2.c checkpoint has none',
    );
  const context = values.context === undefined ? undefined : number('context', values.context);
  if (context !== undefined && (!Number.isInteger(context) || context < 2))
    throw new UsageError(`--context must be an integer ≥ 2, got ${values.context}`);
  // run.c clamps: negative temperature means greedy, a top-p outside [0, 1] means 0.9
  const temperature = Math.max(0, number('temperature', values.temperature));
  const topp = number('topp', values.topp);
  return {
    source,
    prompt: values.prompt,
    chat: values.chat,
    quant: values.quant as QuantTarget | undefined,
    context,
    steps: number('steps', values.steps),
    temperature,
    topP: topp < 0 || topp > 1 ? 0.9 : topp,
    seed: values.seed === undefined ? undefined : number('seed', values.seed),
    backend: values.backend,
    json: values.json,
    mtp: values.mtp,
  };
}

interface Loaded {
  model: LlamaModel;
  /** llama2.c: run.c's output (stop on BOS only, run.c's printable filter); else the tokenizer's stops, raw bytes. */
  runc: boolean;
  chatTemplate: ChatTemplate | null;
}

/** .gguf → the quant its matrices hold (lossless), unless --quant says otherwise. */
function ggufQuant(m: ImportedModel, quant: QuantTarget | undefined): QuantTarget {
  if (quant) return quant;
  const formats = new Set(m.tensors.map((t) => t.group?.format).filter((f) => f !== undefined));
  return formats.size === 1 ? [...formats][0]! : 'f32';
}

async function loadModel(
  backend: KernelBackend,
  cli: ReturnType<typeof parseCli>,
): Promise<Loaded> {
  const src = cli.source;
  if (src.kind === 'llama2c') {
    const checkpoint = readBytes(src.checkpoint);
    const tokenizer = llama2cTokenizerFor(src.checkpoint, checkpoint, src.tokenizer);
    const model = LlamaModel.fromLlama2c(backend, checkpoint, readFileSync(tokenizer), {
      id: src.checkpoint,
      maxSessions: 1,
    });
    return { model, runc: true, chatTemplate: null };
  }
  const opts = {
    id: src.kind === 'dir' ? src.dir : src.file,
    maxSessions: 1,
    contextLength: cli.context,
  };
  if (src.kind === 'dir') {
    const { model, chatTemplate } = await loadModelDir(backend, readModelDir(src.dir), opts);
    return { model, runc: false, chatTemplate };
  }
  // .gguf: imported into a model directory of its own quant in a temporary folder, loaded, removed
  const imported = await importSource(src.file);
  const tmp = mkdtempSync(join(tmpdir(), 'generate-gguf-'));
  try {
    writeModelDir(tmp, planModelDir(imported, ggufQuant(imported, cli.quant)));
    const { model, chatTemplate } = await loadModelDir(backend, readModelDir(tmp), opts);
    return { model, runc: false, chatTemplate };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** run.c generate(): prompt tokens are printed as they are forced, sampled ones as they come. */
async function generate(
  { model, runc, chatTemplate }: Loaded,
  cli: ReturnType<typeof parseCli>,
  print: (bytes: Uint8Array) => void,
): Promise<Run> {
  const { seqLen } = model.config;
  const { tokenizer } = model;
  const steps = cli.steps <= 0 || cli.steps > seqLen ? seqLen : cli.steps;
  const promptIds = cli.chat
    ? tokenizer.encode(
        chatTemplate ? chatTemplate.render([{ role: 'user', content: cli.prompt }]) : cli.prompt,
        { bos: !chatTemplate },
      )
    : tokenizer.encode(cli.prompt, { bos: true, eos: false });
  if (!promptIds.length)
    throw new UsageError(
      'the prompt encodes to no tokens: give --prompt text (this tokenizer has no BOS)',
    );
  if (promptIds.length > steps)
    process.stderr.write(
      `generate: the prompt has ${promptIds.length} tokens, more than --steps ${steps}: only its first ${steps} are shown\n`,
    );
  const printable = runc ? runcPrintable : (bytes: Uint8Array) => bytes;
  // a leading BOS is not printed (run.c); a tokenizer without BOS prints its first token too
  const bos = promptIds[0] === tokenizer.bosId;
  const tokenIds = bos ? [promptIds[0]] : [];
  const emit = (next: number) => {
    print(
      printable(tokenizer.decodePiece(tokenIds.length ? tokenIds[tokenIds.length - 1] : -1, next)),
    );
    tokenIds.push(next);
  };
  for (const id of promptIds.slice(tokenIds.length, steps + 1)) emit(id);
  let stopReason: Run['stop_reason'] = 'steps';
  let completion = '';
  const maxTokens = steps - (promptIds.length - 1);
  if (maxTokens > 0) {
    const options = {
      maxTokens,
      temperature: cli.temperature,
      topP: cli.topP,
      seed: cli.seed,
      stopAtEos: !runc,
    };
    for await (const token of model.generate(promptIds, options)) {
      if (runc && token.id === BOS_ID) {
        stopReason = 'bos';
        break;
      }
      if (!runc && tokenizer.stopIds.includes(token.id)) {
        stopReason = 'stop';
        completion += token.text;
        break;
      }
      emit(token.id);
      completion += token.text;
    }
  }
  print(new Uint8Array([0x0a]));
  return {
    token_ids: tokenIds,
    prompt_token_ids: promptIds,
    generated_token_ids: tokenIds.slice(promptIds.length),
    text: '',
    completion,
    stop_reason: stopReason,
  };
}

async function main(args: string[]): Promise<void> {
  const cli = parseCli(args);
  const deepSeek = cli.source.kind === 'dir' && isDeepSeekDir(cli.source.dir);
  if (cli.mtp && !deepSeek) throw new UsageError('--mtp needs a DeepSeek-V3 model directory');
  if (deepSeek) return mainDeepSeek(cli, (cli.source as { dir: string }).dir);
  const backend: KernelBackend =
    cli.backend === 'ts' ? createTsKernels() : await createNodeKernels();
  const loaded = await loadModel(backend, cli);
  const chunks: Uint8Array[] = [];
  const started = performance.now();
  const run = await generate(loaded, cli, (bytes) =>
    cli.json ? chunks.push(bytes.slice()) : process.stdout.write(bytes),
  );
  if (cli.json) {
    run.text = new TextDecoder().decode(Buffer.concat(chunks));
    process.stdout.write(JSON.stringify(run) + '\n');
  } else {
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`achieved tok/s: ${((run.token_ids.length - 1) / seconds).toFixed(2)}\n`);
  }
}

/** The DeepSeek-V3 path: its own forward (the origin's), printing the text, or the run as JSON. */
async function mainDeepSeek(cli: ReturnType<typeof parseCli>, dir: string): Promise<void> {
  const started = performance.now();
  const run = await generateDeepSeek(dir, cli);
  if (cli.json) return void process.stdout.write(JSON.stringify(run) + '\n');
  process.stdout.write(`${cli.prompt}${run.text}\n`);
  const seconds = (performance.now() - started) / 1000;
  const stats = run.stats ? `, MTP drafts accepted ${run.stats.accepted}/${run.stats.drafted}` : '';
  process.stderr.write(
    `achieved tok/s: ${(run.generated_token_ids.length / seconds).toFixed(2)}${stats}\n`,
  );
}

runCli('generate', USAGE, main);
