/**
 * I/O-bound work on one thread: a crawler that keeps at most LIMIT requests in flight with a Semaphore.
 *
 * It starts a real HTTP server on 127.0.0.1 (random port) that serves a small site with simulated latency and
 * counts how many requests it is handling at once, crawls the site breadth-first, and prints what happened:
 * pages fetched, the server's peak concurrency against the limit, and the time taken against a sequential crawl.
 *
 *   npx tsx examples/io-bound/main.ts
 *   WEFT_EXAMPLE_QUICK=1 npx tsx examples/io-bound/main.ts   (smaller site, well under 5 s)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Semaphore } from 'weftjs/sync';

const quick = process.env.WEFT_EXAMPLE_QUICK === '1';
const PAGES = quick ? 60 : 300; // pages on the site
const LATENCY_MS = quick ? [10, 30] : [20, 80]; // each response takes this long (min, max)
const LIMIT = 8; // requests in flight at most

// --- The server: a site of PAGES pages, page n links to pages 3n+1 .. 3n+3 ----------------------------------------

interface SiteServer {
  server: Server;
  origin: string;
  peak: () => number;
  served: () => number;
}

function latencyFor(page: number): number {
  const [min, max] = LATENCY_MS as [number, number];
  return min + ((page * 7919) % (max - min + 1)); // deterministic "random" latency per page
}

async function startSite(): Promise<SiteServer> {
  let inFlight = 0;
  let peak = 0;
  let served = 0;
  const server = createServer((request, response) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    const page = Number(/^\/page\/(\d+)$/.exec(request.url ?? '')?.[1] ?? -1);
    setTimeout(
      () => {
        inFlight--;
        served++;
        if (!(page >= 0 && page < PAGES)) {
          response.writeHead(404).end();
          return;
        }
        const links = [1, 2, 3].map((k) => 3 * page + k).filter((n) => n < PAGES);
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(`<h1>Page ${page}</h1>${links.map((n) => `<a href="/page/${n}">${n}</a>`).join(' ')}`);
      },
      latencyFor(Math.max(page, 0)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, peak: () => peak, served: () => served };
}

// --- The crawler ----------------------------------------------------------------------------------------------------

/** Fetches one page and returns the links on it. */
async function fetchLinks(url: string, signal: AbortSignal): Promise<string[]> {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const html = await response.text();
  return [...html.matchAll(/href="([^"]+)"/g)].map((match) => new URL(match[1]!, url).href);
}

/**
 * Crawls breadth-first from `start`. Every page is fetched inside `requests.run`, so no more than the
 * semaphore's capacity are in flight; the whole crawl gives up when `signal` aborts.
 */
async function crawl(start: string, requests: Semaphore, signal: AbortSignal): Promise<Set<string>> {
  const seen = new Set<string>([start]);
  const visit = async (url: string): Promise<void> => {
    const links = await requests.run(() => fetchLinks(url, signal), { signal });
    const fresh = links.filter((link) => !seen.has(link));
    for (const link of fresh) seen.add(link);
    await Promise.all(fresh.map(visit));
  };
  await visit(start);
  return seen;
}

// --- Main -------------------------------------------------------------------------------------------------------------

const site = await startSite();
try {
  const requests = new Semaphore(LIMIT);
  const deadline = AbortSignal.timeout(quick ? 4_000 : 30_000);

  const started = performance.now();
  const pages = await crawl(`${site.origin}/page/0`, requests, deadline);
  const elapsed = performance.now() - started;

  let sequential = 0;
  for (let page = 0; page < PAGES; page++) sequential += latencyFor(page);

  console.log(`crawled ${pages.size} pages with ${site.served()} requests`);
  console.log(`peak requests in flight at the server: ${site.peak()} (limit ${LIMIT})`);
  console.log(
    `took ${elapsed.toFixed(0)} ms; one request at a time would take at least ${sequential} ms ` +
      `(${(sequential / elapsed).toFixed(1)}x faster)`,
  );
  if (site.peak() > LIMIT) throw new Error('the limit was exceeded');
  if (pages.size !== PAGES) throw new Error(`expected ${PAGES} pages, crawled ${pages.size}`);

  // One more request, holding a permit across several awaits with `using`: released at the end of the block.
  {
    using _permit = await requests.acquire(1, { timeout: 1_000 });
    const check = await fetch(`${site.origin}/page/0`, { signal: deadline });
    console.log(
      `health check: HTTP ${check.status} (${requests.available} of ${requests.capacity} permits free)`,
    );
    await check.text();
  }
} finally {
  site.server.closeAllConnections();
  await new Promise<void>((resolve) => site.server.close(() => resolve()));
}
