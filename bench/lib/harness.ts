/**
 * A small side-by-side benchmark harness: every contender of a scenario runs once per round, in an order that
 * rotates each round (so no contender always runs first or last, hot or cold), and each is reported by its median
 * over the rounds and as a ratio to the scenario's floor (the least code that does the job).
 */

export type ContenderKind = 'floor' | 'weft' | 'peer' | 'baseline';

export interface Contender {
  name: string;
  kind: ContenderKind;
  /** Runs the workload once and returns the metric (milliseconds unless the scenario says otherwise). */
  sample: () => Promise<number> | number;
}

export interface Scenario {
  id: string;
  title: string;
  /** Unit of the metric `sample` returns, e.g. `ms`, `B`, `tasks/s`, `us`. */
  unit: string;
  /** Throughput metrics are better when higher; times and bytes when lower. */
  higherIsBetter?: boolean;
  /** The target as written in the issue, shown beside the results, e.g. `weft <= 1.2x floor`. */
  target?: string;
  rounds?: number;
  warmup?: number;
  contenders: Contender[];
}

export interface ResultRow {
  name: string;
  kind: ContenderKind;
  median: number;
  min: number;
  max: number;
  /** median / floor median (for higher-is-better metrics: floor median / median, so > 1 is always worse). */
  ratio: number | undefined;
  samples: number[];
}

export interface ScenarioResult {
  id: string;
  title: string;
  unit: string;
  higherIsBetter: boolean;
  target: string | undefined;
  rows: ResultRow[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds taken by `fn`. */
export async function timeAsync(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Milliseconds of CPU time (user + system, every thread of the process, so GC helper threads count) taken by `fn`.
 * For single-threaded workloads on a shared machine: time other processes take from this one does not count, which
 * wall-clock time would add to whichever contender it happened to fall on.
 */
export async function cpuTimeAsync(fn: () => unknown): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Runs a full GC if node was started with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

export async function runScenario(
  scenario: Scenario,
  log: (line: string) => void = () => {},
): Promise<ScenarioResult> {
  const rounds = scenario.rounds ?? 9;
  const warmup = scenario.warmup ?? 2;
  const { contenders } = scenario;
  const samples = contenders.map(() => [] as number[]);
  for (let round = 0; round < warmup + rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const index = (i + round) % contenders.length;
      collectGarbage();
      const value = await contenders[index]!.sample();
      if (round >= warmup) samples[index]!.push(value);
    }
    log(`  ${scenario.id}: round ${round + 1}/${warmup + rounds}`);
  }
  const higherIsBetter = scenario.higherIsBetter ?? false;
  const medians = samples.map(median);
  const floorIndex = contenders.findIndex((c) => c.kind === 'floor');
  const floor = floorIndex >= 0 ? medians[floorIndex]! : undefined;
  const rows = contenders.map((c, i): ResultRow => {
    const m = medians[i]!;
    return {
      name: c.name,
      kind: c.kind,
      median: m,
      min: Math.min(...samples[i]!),
      max: Math.max(...samples[i]!),
      ratio:
        floor === undefined || floor === 0 || m === 0 ? undefined : higherIsBetter ? floor / m : m / floor,
      samples: samples[i]!,
    };
  });
  return {
    id: scenario.id,
    title: scenario.title,
    unit: scenario.unit,
    higherIsBetter,
    target: scenario.target,
    rows,
  };
}

export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** A markdown table of one scenario. */
export function formatResult(result: ScenarioResult): string {
  const better = result.higherIsBetter ? 'higher is better' : 'lower is better';
  const lines = [
    `#### ${result.title}`,
    '',
    `Median of ${result.rows[0]?.samples.length ?? 0} alternating rounds, ${result.unit} (${better}); ratio = cost relative to the floor (1.00 = as fast as the floor, higher = slower).` +
      (result.target ? ` Target: ${result.target}.` : ''),
    '',
    `| implementation | median (${result.unit}) | min | max | x floor |`,
    '|---|---:|---:|---:|---:|',
  ];
  for (const row of result.rows) {
    const name =
      row.kind === 'weft' ? `**${row.name}**` : row.kind === 'floor' ? `${row.name} (floor)` : row.name;
    const ratio = row.ratio === undefined ? '-' : row.ratio.toFixed(2);
    lines.push(
      `| ${name} | ${formatNumber(row.median)} | ${formatNumber(row.min)} | ${formatNumber(row.max)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}
