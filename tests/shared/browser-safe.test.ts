/**
 * weftjs/shared must load in browsers: neither its sources nor the built entry (and the chunks it pulls in) may import
 * a `node:` module. Node's `worker_threads` is reached only at run time, through `process.getBuiltinModule`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const nodeImport = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]node:[^'"]+['"]/m;

/** The code of a file without its comments (the API docs' examples do import node: modules). */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

/** The files an ESM entry loads, following relative imports. */
function closure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = code(file);
    for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.[^'"]+)['"]/g)) {
      visit(path.resolve(path.dirname(file), match[1]!));
    }
  };
  visit(entry);
  return [...seen];
}

describe('weftjs/shared is browser-safe', () => {
  it('no source file imports a node: module', () => {
    const dir = path.join(root, 'src', 'shared');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      expect(nodeImport.test(code(path.join(dir, file))), file).toBe(false);
    }
  });

  it.skipIf(!existsSync(path.join(root, 'dist', 'shared', 'index.js')))(
    'the built ESM entry and its chunks import no node: module',
    () => {
      const files = closure(path.join(root, 'dist', 'shared', 'index.js'));
      expect(files.length).toBeGreaterThan(1);
      for (const file of files) expect(nodeImport.test(code(file)), file).toBe(false);
    },
  );

  it('the pattern used here does catch a node: import', () => {
    expect(nodeImport.test("import { Worker } from 'node:worker_threads';")).toBe(true);
    expect(nodeImport.test("const m = await import('node:os');")).toBe(true);
    expect(nodeImport.test("getBuiltinModule?.('node:worker_threads')")).toBe(false);
  });
});
