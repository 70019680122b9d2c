// `npm run origin -- --model <dir | synthetic:preset> [--port N]`: loads the model, starts the HTTP
// server, and prints its URL once it accepts requests.
import { serve } from '@hono/node-server';
import { parseOriginArgs } from './options';
import { createOrigin } from './start';

async function main(): Promise<void> {
  let options;
  try {
    options = parseOriginArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const started = Date.now();
  const origin = await createOrigin(options);
  const server = serve({ fetch: origin.app.fetch, hostname: options.host, port: options.port }, (info) => {
    console.log(`origin: ${origin.summary}; ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`origin: listening on http://${options.host}:${info.port}`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref(); // open streams do not hold a shutdown
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error('origin: failed to start:', err);
  process.exit(1);
});
