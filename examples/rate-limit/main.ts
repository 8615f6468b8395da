/**
 * A polite crawler: at most RATE requests in any window of WINDOW_MS (a RateLimiter) and at most IN_FLIGHT at once
 * (a Semaphore), against a local server that enforces the rate and fails loudly when it is exceeded.
 *
 * The server (127.0.0.1, random port) counts the requests that arrive in every sliding window of WINDOW_MS and
 * answers 429 to any request above RATE, as a rate-limited API would. The crawler must fetch the whole site without
 * a single 429. For contrast, the same site is then hit with only the concurrency limit, and the server refuses.
 *
 *   npx tsx examples/rate-limit/main.ts
 *   WEFT_EXAMPLE_QUICK=1 npx tsx examples/rate-limit/main.ts   (smaller site, a shorter window, about 3 s)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimiter, Semaphore } from 'weftjs/sync';

const quick = process.env.WEFT_EXAMPLE_QUICK === '1';
const PAGES = quick ? 40 : 100; // pages on the site
const RATE = 10; // requests the server accepts in any window
const WINDOW_MS = quick ? 500 : 1_000;
/**
 * The server sees a request a little after the crawler admitted it, and not always equally late (here both share one
 * event loop, on a machine that may be busy), so two requests admitted exactly a window apart may arrive closer. The
 * crawler keeps this much margin, as any client of a rate-limited API should.
 */
const MARGIN_MS = quick ? 250 : 200;
const IN_FLIGHT = 4; // requests in flight at most
const LATENCY_MS = 20; // each response takes this long

// --- The server: page n links to pages 3n+1 .. 3n+3; at most RATE requests in any WINDOW_MS ------------------------

interface SiteServer {
  server: Server;
  origin: string;
  /** Requests answered 429 since the last reset. */
  refused: () => number;
  /** The most requests that arrived in any sliding window of WINDOW_MS since the last reset. */
  busiestWindow: () => number;
  /** Forgets the requests so far; `loud` reports every refused request on stderr. */
  reset: (loud: boolean) => void;
}

async function startSite(): Promise<SiteServer> {
  let arrivals: number[] = []; // arrival times of the requests accepted, oldest first
  let busiest = 0;
  let refused = 0;
  let loud = true;
  const server = createServer((request, response) => {
    if (request.url === '/robots.txt') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nCrawl-delay: 0.1\n');
      return; // not counted: only pages are rate limited
    }
    const now = performance.now();
    const inWindow = arrivals.filter((t) => t > now - WINDOW_MS).length;
    if (inWindow >= RATE) {
      refused++;
      if (loud)
        console.error(`server: request ${request.url} is number ${inWindow + 1} in ${WINDOW_MS} ms: 429`);
      response.writeHead(429, { 'retry-after': '1' }).end();
      return;
    }
    arrivals.push(now);
    busiest = Math.max(busiest, inWindow + 1);
    const page = Number(/^\/page\/(\d+)$/.exec(request.url ?? '')?.[1] ?? -1);
    setTimeout(() => {
      if (!(page >= 0 && page < PAGES)) {
        response.writeHead(404).end();
        return;
      }
      const links = [1, 2, 3].map((k) => 3 * page + k).filter((n) => n < PAGES);
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<h1>Page ${page}</h1>${links.map((n) => `<a href="/page/${n}">${n}</a>`).join(' ')}`);
    }, LATENCY_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    refused: () => refused,
    busiestWindow: () => busiest,
    reset: (beLoud) => {
      arrivals = [];
      busiest = refused = 0;
      loud = beLoud;
    },
  };
}

// --- The crawler ----------------------------------------------------------------------------------------------------

/** Fetches one page and returns the links on it; a 429 is an error, loudly. */
async function fetchLinks(url: string, signal: AbortSignal): Promise<string[]> {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const html = await response.text();
  return [...html.matchAll(/href="([^"]+)"/g)].map((match) => new URL(match[1]!, url).href);
}

/**
 * Crawls breadth-first from `start`. A request first takes one of the IN_FLIGHT slots, then waits for its turn in
 * the rate limiter, and starts the moment it is admitted: the slot is taken first so that the time of admission is
 * the time the request goes out (the other way round, a call admitted by the rate limiter could wait for a slot and
 * then go out together with later ones).
 */
async function crawl(
  start: string,
  slots: Semaphore,
  rate: RateLimiter,
  signal: AbortSignal,
): Promise<Set<string>> {
  const seen = new Set<string>([start]);
  const visit = async (url: string): Promise<void> => {
    const links = await slots.run(() => rate.run(() => fetchLinks(url, signal), { signal }), { signal });
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
  const rate = new RateLimiter({ limit: RATE, interval: WINDOW_MS + MARGIN_MS });
  const slots = new Semaphore(IN_FLIGHT);
  const deadline = AbortSignal.timeout(quick ? 10_000 : 60_000);

  // A polite crawler reads robots.txt first, here on each of its IN_FLIGHT connections: this also warms up the HTTP
  // client, whose first requests take far longer than the others (loading the client, opening connections). Such a
  // delay at the start of a window would bunch the requests behind it together at the server.
  const robots = await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => (await fetch(`${site.origin}/robots.txt`)).text()),
  );
  console.log(`robots.txt: ${robots[0]!.trim().replace(/\n/g, '; ')}`);

  const started = performance.now();
  const pages = await crawl(`${site.origin}/page/0`, slots, rate, deadline);
  const elapsed = performance.now() - started;

  const perSecond = (PAGES / elapsed) * 1_000;
  console.log(`crawled ${pages.size} pages in ${elapsed.toFixed(0)} ms (${perSecond.toFixed(1)} requests/s)`);
  console.log(
    `server: busiest ${WINDOW_MS} ms window had ${site.busiestWindow()} requests (limit ${RATE}), ` +
      `${site.refused()} refused`,
  );
  if (site.refused() > 0 || site.busiestWindow() > RATE) throw new Error('the rate limit was exceeded');
  if (pages.size !== PAGES) throw new Error(`expected ${PAGES} pages, crawled ${pages.size}`);

  // For contrast: the same number of requests with only the concurrency limit. The server refuses most of them.
  site.reset(false);
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS)); // let the polite crawl's window pass
  const statuses = await Promise.all(
    Array.from({ length: 3 * RATE }, (_, page) =>
      slots.run(async () => (await fetch(`${site.origin}/page/${page}`)).status),
    ),
  );
  const rude = statuses.filter((status) => status === 429).length;
  console.log(`without the rate limiter: ${rude} of ${statuses.length} requests refused with 429`);
  if (rude === 0) throw new Error('the server did not enforce its limit: the check above proves nothing');
  // The idle limiter keeps no timer: the process ends once the server is closed.
  console.log(`rate limiter idle: ${rate.available} of ${rate.limit} available, ${rate.pending} waiting`);
} finally {
  site.server.closeAllConnections();
  await new Promise<void>((resolve) => site.server.close(() => resolve()));
}
