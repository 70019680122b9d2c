// The command line of every CLI here (tools/, origin/main.ts, bench/run.ts), in one place:
// `--help` prints the usage on stdout and exits 0; a bad flag or argument is one line on stderr
// and exit 2; any other failure is one line and exit 1 (DEBUG=1 adds the stack, for bugs).
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: reported as one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util's parseArgs, with its errors (unknown flag, missing value) as UsageErrors. */
export function parseCliArgs<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError(firstSentence(err.message));
    throw err;
  }
}

// parseArgs goes on to explain `--` quoting, which no flag here needs
const firstSentence = (message: string) => message.split('. ')[0];

const isParseArgsError = (err: unknown): err is Error =>
  err instanceof Error && String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');

/** `--help` or `-h` before any `--` (after it, arguments are the command's data). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  return flags.includes('--help') || flags.includes('-h');
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

/** Runs `main` on the arguments after the script name, with the conventions above. */
export function runCli(
  name: string,
  usage: string,
  main: (argv: string[]) => unknown,
  argv: string[] = process.argv.slice(2),
): void {
  if (wantsHelp(argv)) {
    process.stdout.write(`${usage.trimEnd()}\n`);
    process.exit(0);
  }
  Promise.resolve()
    .then(() => main(argv))
    .catch((err: unknown) => {
      const usageError = err instanceof UsageError || isParseArgsError(err);
      const text = err instanceof Error ? err.message : String(err);
      const message = isParseArgsError(err) ? firstSentence(text) : text;
      const hint = usageError ? ' (see --help)' : '';
      process.stderr.write(`${name}: ${oneLine(message) || 'bad arguments'}${hint}\n`);
      if (process.env.DEBUG && err instanceof Error && err.stack) console.error(err.stack);
      process.exit(usageError ? 2 : 1);
    });
}
