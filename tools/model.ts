// `npm run -s model -- <command>`: model directories (DESIGN.md "Model files").
//   convert <src> <out-dir> --quant f32|f16|q8|q4|fp8 [--tokenizer tokenizer.bin] [--no-native]
//       src: a llama2.c .bin (tokenizer.bin beside it), a .gguf (F32/F16/BF16/Q8_0/Q4_0), or an HF directory;
//       also writes model.edge, the weights in the kernels' layout (tools/model-native.ts), unless --no-native
//   native <dir>                writes <dir>/model.edge for a directory converted without it
//   info <dir>                  what the directory holds and what it needs in memory
//   upload <dir> [--id ID] [--context N] [--max-sessions N] [--max-queue N] [--description TEXT] [--mtp on|off] [--remote] [--persist-to DIR]
//       a Llama-family or DeepSeek-V3 (config.json model_type deepseek_v3) directory; --mtp: a DeepSeek
//       checkpoint's MTP speculative decoding at the edge (default on)
import { basename, join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { QUANT_TARGETS, type QuantTarget } from '../engine/formats/hf-writer';
import { planModelDir } from '../engine/formats/model-dir-writer';
import { parseCliArgs, runCli, UsageError } from './cli';
import { describeModelDir } from './model-info';
import { importSource, sourceKind, writeModelDir } from './model-files';
import { uploadModelDir } from './model-upload';
import { NATIVE_FILE, writeNativeFile } from './model-native';

const USAGE = `usage: npm run -s model -- convert <src> <out-dir> --quant f32|f16|q8|q4|fp8 [--tokenizer tokenizer.bin] [--no-native]
       npm run -s model -- native <dir>
       npm run -s model -- info <dir>
       npm run -s model -- upload <dir> [--id ID] [--context N] [--max-sessions N] [--max-queue N] [--description TEXT] [--mtp on|off] [--remote] [--persist-to DIR]`;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function convert(args: string[]): Promise<void> {
  const { values, positionals } = parseCliArgs({
    args,
    allowPositionals: true,
    options: {
      quant: { type: 'string', default: 'f32' },
      tokenizer: { type: 'string' },
      'no-native': { type: 'boolean', default: false },
    },
  });
  const [src, out] = positionals;
  if (!src || !out) throw new UsageError('convert needs <src> and <out-dir>');
  const quant = values.quant as QuantTarget;
  if (!QUANT_TARGETS.includes(quant))
    throw new UsageError(`--quant must be one of ${QUANT_TARGETS.join(', ')}, got ${values.quant}`);
  const started = performance.now();
  const imported = await importSource(src, { tokenizer: values.tokenizer });
  const plan = planModelDir(imported, quant);
  const bar = new SingleBar({
    format: ' {bar} {percentage}% | {done}/{size} | {tensor}',
    hideCursor: true,
    stream: process.stderr,
    barsize: 30,
  });
  const total = plan.tensors.reduce((n, t) => n + t.byteLength, 0);
  bar.start(total, 0, { done: mb(0), size: mb(total), tensor: '' });
  writeModelDir(out, plan, (written, _total, name) =>
    bar.update(written, { done: mb(written), tensor: name ?? '' }),
  );
  bar.stop();
  const c = imported.config;
  console.log(
    `${sourceKind(src)} ${basename(src)} → ${out} (${quant}): ${imported.architecture}, dim ${c.dim}, ${c.nLayers} layers, ` +
      `${c.nHeads}/${c.nKvHeads} heads, vocab ${c.vocabSize}; ${plan.tensors.length} tensors, ${mb(total)} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (!values['no-native']) await native([out]);
}

async function native(args: string[]): Promise<void> {
  const [dir] = args;
  if (!dir) throw new UsageError('native needs <dir>');
  const written = await writeNativeFile(dir);
  console.log(
    'bytes' in written
      ? `${join(dir, NATIVE_FILE)}: ${mb(written.bytes)}, the weights as the kernels read them`
      : `no ${NATIVE_FILE}: ${written.skipped}`,
  );
}

function info(args: string[]): void {
  const [dir] = args;
  if (!dir) throw new UsageError('info needs <dir>');
  console.log(describeModelDir(dir));
}

function upload(args: string[]): void {
  const { values, positionals } = parseCliArgs({
    args,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      context: { type: 'string' },
      'max-sessions': { type: 'string' },
      'max-queue': { type: 'string' },
      description: { type: 'string' },
      mtp: { type: 'string' },
      remote: { type: 'boolean', default: false },
      'persist-to': { type: 'string' },
    },
  });
  const [dir] = positionals;
  if (!dir) throw new UsageError('upload needs <dir>');
  if (values.mtp !== undefined && values.mtp !== 'on' && values.mtp !== 'off')
    throw new UsageError(`--mtp must be on or off, got ${values.mtp}`);
  const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const manifest = uploadModelDir(dir, {
    id: values.id,
    context: int(values.context),
    maxSessions: int(values['max-sessions']),
    maxQueue: int(values['max-queue']),
    description: values.description,
    mtp: values.mtp === undefined ? undefined : values.mtp === 'on',
    remote: values.remote,
    persistTo: values['persist-to'],
  });
  console.log(`uploaded ${manifest.id} to ${values.remote ? 'remote' : 'local'} R2`);
}

runCli('model', USAGE, ([command, ...args]) => {
  if (command === 'convert') return convert(args);
  if (command === 'info') return info(args);
  if (command === 'native') return native(args);
  if (command === 'upload') return upload(args);
  throw new UsageError(
    command ? `unknown command ${command}` : 'give a command: convert, native, info or upload',
  );
});
