/**
 * weft's demo: the same I/O-bound and CPU-bound jobs under each model (sequential, asynchronous concurrency,
 * cooperative scheduling, worker threads), with the time and event-loop delay each caused, and the verdict the
 * numbers support.
 *
 *   npm run demo                 (about 20-40 s on 2 cores)
 *   npm run demo -- --quick      (a few seconds)
 */
import { runDemo, type Measurement, type Progress } from './measure.js';
import { verdicts } from './verdict.js';

const quick = process.argv.includes('--quick') || process.env.WEFT_EXAMPLE_QUICK === '1';
const tty = process.stderr.isTTY === true;

function bar(label: string): Progress {
  let current = label;
  let total = 1;
  let last = -1;
  const draw = (done: number) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    if (filled === last) return;
    last = filled;
    process.stderr.write(`\r  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${current.padEnd(52)}`);
  };
  return {
    start(name, units) {
      if (!tty) {
        process.stderr.write(`  running: ${name}\n`);
        return;
      }
      if (last >= 0) process.stderr.write('\n');
      current = name;
      total = Math.max(1, units);
      last = -1;
      draw(0);
    },
    advance(done) {
      if (tty) draw(Math.min(done, total));
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

function table(rows: Measurement[]): string {
  // The cross-process row is the CPU job too: compared with the fastest CPU row.
  const group = (r: Measurement) => (r.job === 'cluster' ? 'cpu' : r.job);
  const best = new Map<string, number>();
  for (const row of rows) best.set(group(row), Math.min(best.get(group(row)) ?? Infinity, row.ms));
  const header = ['job', 'model', 'time', 'vs fastest', 'loop delay p99', 'loop delay max'];
  const body = rows.map((r) => [
    r.job === 'io' ? 'I/O-bound' : 'CPU-bound',
    r.label,
    `${Math.round(r.ms).toLocaleString('en-US')} ms`,
    `${(r.ms / best.get(group(r))!).toFixed(2)}x`,
    `${r.loopDelayP99.toFixed(1)} ms`,
    `${r.loopDelayMax.toFixed(1)} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  return [
    line(header),
    '|' + widths.map((w, i) => (i < 2 ? '-' : '') + '-'.repeat(w + 1) + (i < 2 ? '' : ':')).join('|') + '|',
    ...body.map(line),
  ].join('\n');
}

console.log('weft demo: one I/O-bound and one CPU-bound job, run under each model.\n');
const result = await runDemo({ quick, progress: bar('') });
const { settings } = result;
console.log(
  `\nI/O job: ${settings.requests} requests to a local server that answers after ${settings.latencyMs} ms.` +
    `\nCPU job: ${settings.cpuUnits} units of ~${settings.unitMs} ms of hashing. Pool: ${settings.threads} worker threads` +
    ` (start-up ${Math.round(result.poolStartupMs)} ms, not counted). Machine: ${result.cores} cores, Node ${process.version}.\n`,
);
console.log(table(result.measurements));
if (result.clusterSkipped !== undefined) console.log(`\n${result.clusterSkipped}`);
console.log('\nVerdict:');
for (const verdict of verdicts(result)) console.log(`- ${verdict.text}`);
