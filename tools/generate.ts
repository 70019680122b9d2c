// `npm run -s generate -- --model <file-or-dir> --prompt "..." --steps N --temperature T [--json]`:
// llama2.c run.c's generate mode on our engine. Steps count forward passes (prompt positions
// included), generation stops on BOS, and stdout is byte for byte what run.c prints.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { BOS_ID, LlamaModel, runcPrintable } from '../engine/index';
import { createTsKernels } from '../kernels-wasm/index';
import { createNodeKernels } from '../kernels-wasm/node';
import type { KernelBackend } from '../kernels-wasm/types';

const USAGE = `usage: npm run -s generate -- --model <model.bin|dir> [--tokenizer <tokenizer.bin>] [--prompt TEXT]
       [--steps N (256; 0 = seq_len)] [--temperature T (1.0)] [--topp P (0.9)] [--seed S]
       [--backend wasm|ts] [--json]`;

interface Run {
  token_ids: number[];
  prompt_token_ids: number[];
  generated_token_ids: number[];
  text: string;
  completion: string;
  stop_reason: 'bos' | 'steps';
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      prompt: { type: 'string', default: '' },
      steps: { type: 'string', default: '256' },
      temperature: { type: 'string', default: '1.0' },
      topp: { type: 'string', default: '0.9' },
      seed: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.model) throw new UsageError(values.help ? '' : 'missing --model');
  const number = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(text)}`);
    return n;
  };
  if (values.backend !== 'wasm' && values.backend !== 'ts') throw new UsageError(`--backend must be wasm or ts, got ${values.backend}`);
  const isDir = statSync(values.model).isDirectory();
  const model = isDir ? join(values.model, 'model.bin') : values.model;
  // run.c clamps: negative temperature means greedy, a top-p outside [0, 1] means 0.9
  const temperature = Math.max(0, number('temperature', values.temperature));
  const topp = number('topp', values.topp);
  return {
    model,
    tokenizer: values.tokenizer ?? join(dirname(model), 'tokenizer.bin'),
    prompt: values.prompt,
    steps: number('steps', values.steps),
    temperature,
    topP: topp < 0 || topp > 1 ? 0.9 : topp,
    seed: values.seed === undefined ? undefined : number('seed', values.seed),
    backend: values.backend,
    json: values.json,
  };
}

class UsageError extends Error {}

/** run.c generate(): prompt tokens are printed as they are forced, sampled ones as they come. */
async function generate(model: LlamaModel, cli: ReturnType<typeof parseCli>, print: (bytes: Uint8Array) => void): Promise<Run> {
  const { seqLen } = model.config;
  const steps = cli.steps <= 0 || cli.steps > seqLen ? seqLen : cli.steps;
  const promptIds = model.tokenizer.encode(cli.prompt, { bos: true, eos: false });
  const tokenIds = [BOS_ID];
  const emit = (next: number) => {
    print(runcPrintable(model.tokenizer.decodePiece(tokenIds[tokenIds.length - 1], next)));
    tokenIds.push(next);
  };
  for (const id of promptIds.slice(1, steps + 1)) emit(id);
  let stopReason: Run['stop_reason'] = 'steps';
  let completion = '';
  const maxTokens = steps - (promptIds.length - 1);
  if (maxTokens > 0) {
    const options = { maxTokens, temperature: cli.temperature, topP: cli.topP, seed: cli.seed, stopAtEos: false };
    for await (const token of model.generate(promptIds, options)) {
      if (token.id === BOS_ID) {
        stopReason = 'bos';
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

async function main(): Promise<void> {
  const cli = parseCli();
  const backend: KernelBackend = cli.backend === 'ts' ? createTsKernels() : await createNodeKernels();
  const model = LlamaModel.fromLlama2c(backend, readFileSync(cli.model), readFileSync(cli.tokenizer), { id: cli.model });
  const chunks: Uint8Array[] = [];
  const started = performance.now();
  const run = await generate(model, cli, (bytes) => (cli.json ? chunks.push(bytes.slice()) : process.stdout.write(bytes)));
  if (cli.json) {
    run.text = new TextDecoder().decode(Buffer.concat(chunks));
    process.stdout.write(JSON.stringify(run) + '\n');
  } else {
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`achieved tok/s: ${((run.token_ids.length - 1) / seconds).toFixed(2)}\n`);
  }
}

main().catch((err) => {
  if (err instanceof UsageError) {
    if (err.message) console.error(`generate: ${err.message}`);
    console.error(USAGE);
    process.exit(2);
  }
  console.error(`generate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
