/**
 * Type-checks every ```ts block under an `@example` tag in src/ (the examples users copy from the API docs).
 * Each block becomes a module of its own under .cache/doc-examples/, compiled against the sources with the project's
 * strict settings; errors are reported at the example's line in the source file.
 *
 *   node --import tsx scripts/check-doc-examples.ts
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, '.cache', 'doc-examples');

interface Example {
  file: string;
  /** 1-based line in `file` of the example's first code line. */
  line: number;
  code: string;
  out: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function extract(file: string): Omit<Example, 'out'>[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Omit<Example, 'out'>[] = [];
  let inExample = false;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.replace(/^\s*\*\s?/, '');
    if (/^\s*\/\*\*/.test(lines[i]!) || /\*\/\s*$/.test(lines[i]!)) inExample = false;
    if (/^@example\b/.test(text)) inExample = true;
    else if (/^@\w+/.test(text)) inExample = false;
    if (!inExample || !/^```(ts|typescript)\s*$/.test(text.trim())) continue;
    const start = i + 1;
    const body: string[] = [];
    for (i = start; i < lines.length; i++) {
      const line = lines[i]!.replace(/^\s*\*\s?/, '');
      if (line.trim() === '```') break;
      body.push(line);
    }
    found.push({ file, line: start + 1, code: body.join('\n') });
  }
  return found;
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const examples: Example[] = [];
for (const file of sourceFiles(path.join(root, 'src'))) {
  for (const example of extract(file)) {
    const name = `${path.relative(path.join(root, 'src'), file).replace(/[\\/]/g, '__').replace(/\.ts$/, '')}__L${example.line}.ts`;
    const out = path.join(outDir, name);
    writeFileSync(out, `${example.code}\nexport {};\n`);
    examples.push({ ...example, out });
  }
}

const subpaths = ['sync', 'channel', 'scheduler', 'pool', 'shared', 'worker'];
const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts', 'lib.esnext.disposable.d.ts'],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  types: ['node'],
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  skipLibCheck: true,
  noEmit: true,
  baseUrl: root,
  paths: {
    weftjs: ['src/index.ts'],
    ...Object.fromEntries(subpaths.map((s) => [`weft/${s}`, [`src/${s}/index.ts`]])),
  },
};
const program = ts.createProgram(
  examples.map((e) => e.out),
  options,
);
const byOut = new Map(examples.map((e) => [path.resolve(e.out), e]));
let errors = 0;
for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
  const file = diagnostic.file?.fileName;
  const example = file === undefined ? undefined : byOut.get(path.resolve(file));
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (example === undefined || diagnostic.start === undefined) {
    if (file !== undefined && !file.includes('node_modules')) {
      console.error(`${file}: ${message}`);
      errors++;
    }
    continue;
  }
  const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
  console.error(`${path.relative(root, example.file)}:${example.line + line}: ${message}`);
  errors++;
}
console.log(`doc examples: ${examples.length} checked, ${errors} error(s)`);
process.exit(errors > 0 ? 1 : 0);
