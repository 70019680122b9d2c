// The Worker entry: builds the app from its bindings and exports it (and the Durable Object
// classes its bindings name). Nothing else lives here.
import kernels from '../kernels-wasm/build/kernels.wasm';
import { createApp } from '../routes/app';

export { RateLimiter } from '../billing/rate-limiter-object';

export default createApp({ kernels });
