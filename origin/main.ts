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
  // Idle keep-alive connections outlive the clients' (the Worker's, undici's ~4 s): a client must drop
  // an idle connection before this server does, or a request sent as it closes fails ("other side
  // closed") with nothing to retry on. Node's 5 s default raced undici's reuse in tests/origin.
  Object.assign(server, { keepAliveTimeout: 65_000, headersTimeout: 66_000 });
  const stop = () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref(); // open streams do not hold a shutdown
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// a StartupError (no WebGPU adapter, a model that does not load) is its one line, exit 1
runCli('origin', USAGE, main);
