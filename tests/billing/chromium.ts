// Finds a Chromium for playwright-core, installing Debian's `chromium` when it is missing and
// this machine can (root with apt-get). Outside CI a machine that cannot is skipped, with the
// reason printed; in CI it is an error.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

const found = () =>
  [process.env.CHROMIUM_PATH, ...CANDIDATES].find((p): p is string => !!p && existsSync(p)) ?? null;

function aptInstall(): string | null {
  if (process.getuid?.() !== 0) return 'not root, so cannot apt-get install chromium';
  if (spawnSync('apt-get', ['--version']).status !== 0)
    return 'no apt-get here to install chromium';
  console.warn('installing Debian chromium for the dashboard test (apt-get install chromium)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      env,
      encoding: 'utf8',
      timeout: 300_000,
    });
  let run = install();
  if (run.status !== 0) {
    spawnSync('apt-get', ['update'], { env, timeout: 300_000 });
    run = install();
  }
  return run.status === 0
    ? null
    : `apt-get install chromium failed: ${(run.stderr ?? '').slice(-400)}`;
}

/** The browser's path, or null (after printing why) when this machine has none and is not CI. */
export function chromiumPath(): string | null {
  const existing = found();
  if (existing) return existing;
  const problem = aptInstall();
  const installed = found();
  if (installed) return installed;
  const reason = `skipped: no Chromium for the dashboard screenshot test (${problem ?? 'installed, but not found'}); set CHROMIUM_PATH`;
  if (process.env.CI) throw new Error(`CI must run the dashboard test: ${reason}`);
  console.warn(reason);
  return null;
}
