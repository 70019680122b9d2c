// The Worker entry: builds the app from its bindings and exports it. Nothing else lives here.
import kernels from '../kernels-wasm/build/kernels.wasm';
import { createApp } from '../routes/app';

export default createApp({ kernels });
