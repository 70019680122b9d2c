// Two projects: `node` (kernels, engine, CLI, tools) and `workers` (the Worker inside workerd).
import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-plugin';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/worker/**'],
          pool: 'forks',
          testTimeout: 60_000,
        },
      },
      {
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
        test: {
          name: 'workers',
          include: ['tests/worker/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
