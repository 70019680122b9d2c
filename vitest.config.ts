// Two projects: `node` (kernels, engine, CLI, tools) and `workers` (the Worker inside workerd).
import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { fixtures } from './tests/worker/fixtures-service.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/worker/**'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              serviceBindings: { FIXTURES: fixtures as never },
              // Tests inside workerd cannot see the host's environment: CI must not skip golden tests.
              bindings: { CI: process.env.CI ?? '' },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['tests/worker/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
