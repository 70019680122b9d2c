// The usage dashboard in a real headless Chromium against the real Worker (`npm start`): after a
// few priced requests, the page's charts must show the ledger's numbers (latency percentiles too),
// and the screenshot must have the bars and dots painted.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../tools/paths';
import { chromiumPath } from './chromium';

const executablePath = chromiumPath();

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

interface Report {
  data: {
    date: string;
    model: string;
    prompt_tokens: number;
    completion_tokens: number;
    cost: { total: number };
    latency: Record<'ttft_ms' | 'decode_tokens_per_second', { p50: number; p95: number } | null>;
  }[];
  totals: {
    requests: number;
    total_tokens: number;
    prompt_tokens: number;
    prompt_cache_hit_tokens: number;
    cost: { total: number };
  };
}

/** Pixels of one colour in a PNG, counted by the browser itself (no image library here), on a blank page. */
async function countColour(
  page: Page,
  png: Buffer,
  rgb: [number, number, number],
): Promise<number> {
  return page.evaluate(
    async ({ b64, rgb }) => {
      const bitmap = await createImageBitmap(
        await (await fetch(`data:image/png;base64,${b64}`)).blob(),
      );
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (
          Math.abs(data[i] - rgb[0]) +
            Math.abs(data[i + 1] - rgb[1]) +
            Math.abs(data[i + 2] - rgb[2]) <
          12
        )
          n++;
      return n;
    },
    { b64: png.toString('base64'), rgb },
  );
}

describe.skipIf(!executablePath)('usage dashboard in headless Chromium', () => {
  const persist = mkdtempSync(join(tmpdir(), 'edge-dashboard-'));
  let child: ReturnType<typeof spawn>;
  let browser: Browser;
  let url = '';
  let model = '';
  const key = 'sk-dashboard-test-key';

  beforeAll(async () => {
    const port = await freePort();
    child = spawn('npm', ['start'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), PERSIST_TO: persist, DEV_API_KEY: key },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`npm start not ready in 150 s:\n${log}`)),
        150_000,
      );
      const onData = (d: Buffer) => {
        log += d.toString();
        const m = log.match(/Ready: (http:\/\/\S+)\/v1 {2}\(edge models?: ([^),;]+)[,;)]/);
        if (m && log.includes(`API key: ${key}`)) {
          [url, model] = [m[1], m[2]];
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`npm start exited (${code}):\n${log}`)));
    });
    browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (child?.pid) process.kill(-child.pid, 'SIGTERM');
    rmSync(persist, { recursive: true, force: true });
  });

  it('charts the key’s real spend, tokens by model and cache-hit share', async () => {
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    for (const max_tokens of [24, 48]) {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          model,
          messages: [{ role: 'user', content: 'Once upon a time' }],
          max_tokens,
          temperature: 0,
        }),
      });
      expect(res.status).toBe(200);
    }
    const report = (await (await fetch(`${url}/v1/usage`, { headers: auth })).json()) as Report;
    expect(report.totals.requests).toBe(2);
    expect(report.totals.cost.total).toBeGreaterThan(0);

    const page = await browser.newPage({ viewport: { width: 1300, height: 700 } });
    await page.goto(`${url}/dashboard#key=${key}`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });
    expect(page.url()).not.toContain(key); // the key leaves the address bar

    const values = (selector: string) =>
      page.$$eval(selector, (els) => els.map((e) => Number(e.getAttribute('data-value'))));
    const spend = await values('[data-chart="spend"] rect[data-value]');
    expect(spend.reduce((a, b) => a + b, 0)).toBe(report.totals.cost.total);
    const today = report.data[0].date;
    expect(
      Number(
        await page.getAttribute(`[data-chart="spend"] rect[data-date="${today}"]`, 'data-value'),
      ),
    ).toBe(report.totals.cost.total);
    expect(
      await values(
        `[data-chart="tokens-by-model"] rect[data-model="${model}"][data-kind="prompt"]`,
      ),
    ).toEqual([report.data[0].prompt_tokens]);
    expect(
      await values(
        `[data-chart="tokens-by-model"] rect[data-model="${model}"][data-kind="completion"]`,
      ),
    ).toEqual([report.data[0].completion_tokens]);
    expect(await page.textContent('[data-chart="tokens-by-model"] [data-label="tokens"]')).toBe(
      String(report.totals.total_tokens),
    );
    expect(await values('[data-chart="cache-hit-share"] rect[data-kind="hit"]')).toEqual([
      report.totals.prompt_cache_hit_tokens,
    ]);
    // Latency: one p50 and one p95 dot per chart for today's model, at the report's values.
    for (const [chart, measure] of [
      ['ttft', 'ttft_ms'],
      ['decode-tps', 'decode_tokens_per_second'],
    ] as const) {
      const expected = report.data[0].latency[measure];
      expect(expected, `${measure} of ${JSON.stringify(report.data[0])}`).not.toBeNull();
      for (const kind of ['p50', 'p95'] as const)
        expect(
          await values(
            `[data-chart="${chart}"] circle[data-model="${model}"][data-date="${today}"][data-kind="${kind}"]`,
          ),
        ).toEqual([expected![kind]]);
    }
    expect(await page.textContent('#requests')).toBe('2');
    expect(await page.textContent('#tokens')).toBe(String(report.totals.total_tokens));
    expect(await page.textContent('#balance')).toMatch(/^9\.99\d* USD$/);

    const shot = await page.screenshot({ fullPage: true });
    const file = join(tmpdir(), 'edge-dashboard.png');
    writeFileSync(file, shot);
    console.log(`dashboard screenshot: ${file}`);
    // The bars were painted, not just put in the DOM: blue (spend, prompt tokens) and orange (output).
    const spendChart = await page.locator('[data-chart="spend"]').screenshot();
    const modelChart = await page.locator('[data-chart="tokens-by-model"]').screenshot();
    const blank = await browser.newPage(); // the dashboard's CSP rightly forbids data: fetches
    expect(await countColour(blank, spendChart, [0x2f, 0x6f, 0xde])).toBeGreaterThan(500);
    expect(await countColour(blank, modelChart, [0xf0, 0x8a, 0x24])).toBeGreaterThan(200);
    // The first model's colour fills its p50 dot (a radius-4 circle: some tens of pixels, device-scaled).
    const ttftChart = await page.locator('[data-chart="ttft"]').screenshot();
    expect(await countColour(blank, ttftChart, [0x2f, 0x6f, 0xde])).toBeGreaterThan(20);
  });
});
