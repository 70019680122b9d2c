// `npm run origin -- --model <dir | synthetic:preset> [--port N]`: loads the model, starts the HTTP
// server, and prints its URL once it accepts requests.
import { serve } from '@hono/node-server';
import { runCli } from '../tools/cli';
import { parseOriginArgs, USAGE } from './options';
import { createOrigin } from './start';

async function main(argv: string[]): Promise<void> {
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

// a StartupError (no WebGPU adapter, a model that does not load) is its one line, exit 1
runCli('origin', USAGE, main);
