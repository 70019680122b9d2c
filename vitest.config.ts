// Two projects: `node` (kernels, engine, CLI, tools) and `workers` (the Worker inside workerd).
import { defineConfig } from 'vitest/config';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { fixtures } from './tests/worker/fixtures-service.ts';
import { dispatchTestRegistry, originsService } from './tests/worker/dispatch/origins-service.ts';

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
              // ORIGINS starts and kills real origin processes for tests/worker/dispatch (MODEL_REGISTRY names their ports).
              serviceBindings: { FIXTURES: fixtures as never, ORIGINS: originsService as never },
              // Tests inside workerd cannot see the host's environment: CI must not skip golden tests.
              // ADMIN_SECRET turns the admin API on; TEST_MIGRATIONS: tests/worker/billing/setup.ts applies them to D1.
              bindings: {
                CI: process.env.CI ?? '',
                ADMIN_SECRET: 'test-admin-secret',
                TEST_MIGRATIONS: await readD1Migrations('./migrations'),
                MODEL_REGISTRY: dispatchTestRegistry,
                // The prefill origins' --internal-secret (origins-service.ts), named by pystd-pd's tier.
                PREFILL_SECRET: 'edge-prefill-secret',
              },
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
