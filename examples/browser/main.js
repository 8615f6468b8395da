// The demo page: one CPU-heavy job run three ways while requestAnimationFrame moves a box, measuring how long each
// run takes and the longest gap between two frames while it runs.
import { WorkerPool } from 'weftjs/pool';
import { Scheduler } from 'weftjs/scheduler';
import { countPrimes, countPrimesCooperatively } from './primes.js';

const quick = new URLSearchParams(location.search).has('quick');
const LIMIT = quick ? 4_000_000 : 8_000_000;
const CHUNKS = 32;
const THREADS = navigator.hardwareConcurrency || 4;

const $ = (selector) => document.querySelector(selector);
const status = $('#status');
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));

// The animation. The box's position is a function of time, so a frozen main thread shows as a box that stands
// still and then jumps. While a run is measured, every frame's gap to the one before is recorded.
const box = $('#box');
const track = box.parentElement;
let lastFrame = performance.now();
let recording = null;
function frame(now) {
  if (recording !== null) recording.push(now - lastFrame);
  lastFrame = now;
  const span = track.clientWidth - box.offsetWidth - 12;
  const phase = (now / 1200) % 2;
  box.style.transform = `translateX(${(phase < 1 ? phase : 2 - phase) * span}px)`;
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

const scheduler = new Scheduler();
const pool = new WorkerPool({
  worker: new URL('./worker.js', import.meta.url),
  minThreads: THREADS,
  maxThreads: THREADS,
  idleTimeout: Infinity,
});

function chunks() {
  const size = Math.ceil(LIMIT / CHUNKS);
  return Array.from({ length: CHUNKS }, (_, i) => [i * size, Math.min(LIMIT, (i + 1) * size)]);
}

const modes = {
  // Blocks the page until it is done: no frame, no click, no input in the meantime.
  main: () => countPrimes(0, LIMIT),
  // Same thread, but the task hands control back to the browser every few milliseconds.
  scheduler: () => scheduler.spawn(() => countPrimesCooperatively(0, LIMIT)),
  // Other threads: the page only sends the chunks and adds up the counts.
  pool: async () => {
    const counts = await Promise.all(chunks().map((range) => pool.run('countPrimes', range)));
    return counts.reduce((sum, count) => sum + count, 0);
  },
};

const results = {};

async function measure(name) {
  const row = $(`tr[data-row="${name}"]`);
  row.querySelector('[data-field="time"]').textContent = 'running…';
  status.textContent = `running: ${name}`;
  // Let the browser paint the status before the job starts (the main-thread run would hide it otherwise).
  await nextFrame();
  await nextFrame();
  const gaps = (recording = []);
  const start = performance.now();
  const primes = await modes[name]();
  const time = performance.now() - start;
  await nextFrame(); // the frame that ends a freeze carries its gap
  recording = null;
  results[name] = { time, longestGap: Math.max(0, ...gaps), frames: gaps.length, primes, gaps };
  render();
  return results[name];
}

const format = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

function render() {
  const scale = Math.max(500, ...Object.values(results).map((r) => r.time));
  for (const [name, r] of Object.entries(results)) {
    const row = $(`tr[data-row="${name}"]`);
    row.querySelector('[data-field="time"]').textContent = format(r.time);
    const gap = row.querySelector('[data-field="gap"]');
    gap.textContent = format(r.longestGap);
    gap.className = `num ${r.longestGap > 100 ? 'bad' : 'good'}`;
    row.querySelector('[data-field="frames"]').textContent = String(r.frames);
    row.querySelector('[data-field="result"]').textContent = r.primes.toLocaleString('en-US');
    drawGaps(row.querySelector('canvas'), r.gaps, scale);
  }
}

// One bar per frame, as wide as the time it lasted (on a time axis shared by the three rows) and as tall as its gap
// on a log scale (a 16 ms frame is visible, 250 ms and more fill the height); red when the page froze.
function drawGaps(canvas, gaps, scale) {
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const full = Math.log1p(250 / 4);
  let x = 0;
  for (const gap of gaps) {
    const w = (gap / scale) * width;
    const h = Math.max(2, Math.min(1, Math.log1p(gap / 4) / full) * (height - 2));
    context.fillStyle = gap > 100 ? '#d9534f' : gap > 34 ? '#e0a030' : '#4caf7a';
    context.fillRect(x, height - h, Math.max(1, w - 0.5), h);
    x += w;
  }
}

const buttons = [...document.querySelectorAll('button')];
async function exclusive(job) {
  for (const button of buttons) button.disabled = true;
  try {
    await job();
    status.textContent = 'done';
  } catch (error) {
    status.textContent = `failed: ${error.message}`;
    throw error;
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

async function runAll() {
  for (const name of ['main', 'scheduler', 'pool']) await measure(name);
  return results;
}

for (const button of document.querySelectorAll('button[data-mode]')) {
  button.addEventListener('click', () => void exclusive(() => measure(button.dataset.mode)));
}
$('#all').addEventListener('click', () => void exclusive(runAll));

$('#limit').textContent = LIMIT.toLocaleString('en-US');
$('#pool-how').textContent = `weftjs/pool: ${CHUNKS} chunks on ${THREADS} module workers`;
$('#isolation').textContent = crossOriginIsolated
  ? 'This page is cross-origin isolated (COOP/COEP): the pool shares its task table with the workers.'
  : 'This page is not cross-origin isolated: the pool still runs in parallel, sending each worker one task at a time.';

// The test suite drives the page through this.
window.demo = { runAll: () => exclusive(runAll).then(() => results), results };

// Start the workers (and load their module) before anything is measured.
status.textContent = 'starting workers…';
await Promise.all(Array.from({ length: THREADS }, () => pool.run('countPrimes', [0, 10])));
status.textContent = 'ready';
