// `npm run build:sdk`: one ESM bundle plus bundled declarations in dist/sdk, for any runtime.
import { defineConfig } from 'tsdown';

export default defineConfig({
  entry: { index: './index.ts' },
  outDir: '../dist/sdk',
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  clean: true,
});
