/**
 * Bundle-size budget: each entry point bundled for browsers from the built package (dist/), minified and gzipped,
 * must stay within its budget. Two figures per entry: everything it exports (`export * from 'weftjs/sync'`), and the
 * largest single export alone (`export { Semaphore } from 'weftjs/sync'`), which is what an app that imports one
 * primitive pays. Nothing is marked external, so an entry that reaches a Node built-in (`node:*`) fails here too:
 * every entry must bundle for browsers. Prints a markdown table (the README quotes it).
 *
 *   node --import tsx scripts/size.ts
 */
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');

interface Budget {
  /** Everything the entry exports. */
  all: number;
  /** The largest single export, where it has a budget of its own. */
  one?: number;
}

/** Budgets in bytes, minified + gzipped: a few percent over the measured sizes, so growth is a deliberate choice. */
const budgets: Record<string, Budget> = {
  weftjs: { all: 29_400 },
  'weftjs/sync': { all: 6_050, one: 3_250 },
  'weftjs/channel': { all: 5_600 },
  'weftjs/scheduler': { all: 5_900 },
  'weftjs/pool': { all: 11_800 },
  'weftjs/worker': { all: 4_950 },
  'weftjs/shared': { all: 7_650 },
  'weftjs/redis': { all: 12_800 },
};

interface Measured {
  minified: number;
  gzipped: number;
  exports: string[];
}

async function measure(contents: string): Promise<Measured> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const output = Object.values(result.metafile.outputs)[0]!;
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, exports: output.exports };
}

/** kB as bundle-size tools count them (1 kB = 1000 bytes). */
const kB = (bytes: number, digits = 2): string => `${(bytes / 1000).toFixed(digits)} kB`;

let failed = 0;
const rows: string[] = [
  '| import | minified | min + gzip | budget | largest single export (min + gzip) |',
  '|---|---:|---:|---:|---|',
];
for (const [subpath, budget] of Object.entries(budgets)) {
  let all: Measured;
  try {
    all = await measure(`export * from '${subpath}';`);
  } catch (error) {
    failed++;
    const first = (error as { errors?: { text: string }[] }).errors?.[0]?.text ?? String(error);
    rows.push(
      `| \`${subpath}\` | – | – | ${kB(budget.all, 1)} | **does not bundle for browsers**: ${first} |`,
    );
    continue;
  }
  let largest = { name: '', gzipped: 0 };
  for (const name of all.exports) {
    const one = await measure(`export { ${name} } from '${subpath}';`);
    if (one.gzipped > largest.gzipped) largest = { name, gzipped: one.gzipped };
  }
  const allOk = all.gzipped <= budget.all;
  const oneOk = budget.one === undefined || largest.gzipped <= budget.one;
  if (!allOk) failed++;
  if (!oneOk) failed++;
  const oneBudget =
    budget.one === undefined ? '' : ` (budget ${kB(budget.one, 1)}${oneOk ? '' : ' **over**'})`;
  rows.push(
    `| \`${subpath}\` | ${kB(all.minified, 1)} | ${kB(all.gzipped)} | ${kB(budget.all, 1)}${allOk ? '' : ' **over**'} ` +
      `| \`${largest.name}\` ${kB(largest.gzipped)}${oneBudget} |`,
  );
}
console.log(rows.join('\n'));
if (failed > 0) {
  console.error(`\nsize: ${failed} budget(s) exceeded or entries that do not bundle for browsers`);
  process.exit(1);
}
