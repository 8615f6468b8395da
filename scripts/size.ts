/**
 * Bundle-size budget: each subpath bundled for browsers from the built package (dist/), minified and gzipped, must
 * stay within its budget. Prints a markdown table (the README quotes it).
 *
 *   node --import tsx scripts/size.ts
 */
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');

/** Budgets in bytes, minified + gzipped. */
const budgets: Record<string, number> = {
  'weft/sync': 3_000,
  'weft/channel': 5_500,
  'weft/scheduler': 4_000,
  'weft/pool': 9_000,
  'weft/worker': 3_000,
  'weft/shared': 4_500,
};

let failed = 0;
const rows: string[] = ['| import | minified | min + gzip | budget |', '|---|---:|---:|---:|'];
for (const [subpath, budget] of Object.entries(budgets)) {
  const result = await build({
    stdin: { contents: `export * from '${subpath}';`, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    write: false,
    logLevel: 'silent',
    external: ['node:*'],
  });
  const code = result.outputFiles[0]!.contents;
  const gzipped = gzipSync(code, { level: 9 }).length;
  const ok = gzipped <= budget;
  if (!ok) failed++;
  rows.push(
    `| \`${subpath}\` | ${(code.length / 1024).toFixed(1)} kB | ${(gzipped / 1024).toFixed(2)} kB | ${(budget / 1024).toFixed(1)} kB${ok ? '' : ' **over**'} |`,
  );
}
console.log(rows.join('\n'));
if (failed > 0) {
  console.error(`\nsize: ${failed} subpath(s) over budget`);
  process.exit(1);
}
