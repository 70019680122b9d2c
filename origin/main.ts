// `npm run origin -- --model <dir | synthetic:preset> [--port N]`: loads the model, starts the HTTP
// server, and prints its URL once it accepts requests.
import { serve } from '@hono/node-server';
import { StartupError } from './backend/select';
import { parseOriginArgs, USAGE, UsageError } from './options';
import { createOrigin } from './start';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  const options = parseOriginArgs(argv);
  const started = Date.now();
  const origin = await createOrigin(options);
  const server = serve(
    { fetch: origin.app.fetch, hostname: options.host, port: options.port },
    (info) => {
      console.log(
        `origin: ${origin.summary}; ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      console.log(`origin: listening on http://${options.host}:${info.port}`);
    },
  );
  const stop = () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref(); // open streams do not hold a shutdown
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  if (err instanceof UsageError) {
    console.error(err.message);
    process.exit(2);
  }
  if (err instanceof StartupError) {
    console.error(`origin: ${err.message}`);
    process.exit(1);
  }
  console.error('origin: failed to start:', err);
  process.exit(1);
});
