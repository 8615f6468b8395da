/**
 * weft in a real headless Chromium: pages import the built package (dist/) through an import map and run scenarios
 * whose results come back here to be asserted. Runs once per `npm test` (skipped in the Node 22/24 re-runs), and is
 * skipped with a clear message only where Chromium cannot start.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startStaticServer, type StaticServer } from './server.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const inMatrix = process.env.WEFT_NODE_MATRIX !== undefined;
const launched = inMatrix ? { ok: false as const, why: 'browser tests run once, on the main Node version' } : await launchChromium();
if (!launched.ok) console.warn(`browser tests skipped: ${launched.why}`);

describe.skipIf(!launched.ok)('in Chromium', () => {
  let browser: Browser;
  let server: StaticServer;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = (launched as { browser: Browser }).browser;
    server = await startStaticServer(root);
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`${server.origin}/isolated/tests/browser/pages/index.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const run = (name: string) =>
    page.evaluate((scenario) => (window as unknown as { weftScenarios: Record<string, () => Promise<unknown>> }).weftScenarios[scenario]!(), name);

  it('weft/sync: Semaphore bounds concurrency in FIFO order, aborts leave no trace, limit and Mutex work', async () => {
    const result = (await run('semaphore')) as Record<string, unknown>;
    expect(result).toEqual({
      peak: 3,
      ordered: true,
      aborted: 'AbortError',
      pendingAfterAbort: 0,
      available: 3,
      log: [1, 2, 3],
      mapped: [2, 4, 6, 8],
    });
  });

  it('weft/channel: values arrive once and in order, select picks the ready case', async () => {
    const result = (await run('channel')) as Record<string, unknown>;
    expect(result).toEqual({
      count: 100,
      inOrder: true,
      selected: { index: 1, value: 'from b', ok: true },
      none: { index: -1, ok: false },
      aSize: 0,
    });
  });

  it('weft/scheduler: requestAnimationFrame keeps firing during cooperative CPU work', async () => {
    const result = (await run('scheduler')) as { result: boolean; frames: number; framesDuringBlock: number };
    expect(result.result).toBe(true);
    // 600 ms of cooperative work at 60 Hz is ~36 frames; a blocking loop of the same length lets ~1 through.
    expect(result.frames).toBeGreaterThan(10);
    expect(result.framesDuringBlock).toBeLessThanOrEqual(2);
  });

  it('raised no uncaught page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
