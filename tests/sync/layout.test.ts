/**
 * The lock paths keep their optimised code across full GCs. V8 lets the object layout of a class die at a full GC
 * once no instance is alive, and discards the optimised functions that relied on it, so a burst of contention after
 * a quiet spell runs cold at several times the cost (see src/internal/permit.ts). weft's per-call objects are
 * functions, closures and copies of a long-lived object, whose layouts never die; this test runs bursts with full
 * GCs between them under `--trace-deopt` and checks that V8 threw away none of weft's code for that reason.
 *
 * The control lock in the fixture is written the usual way (a class per waiter and per permit): its code must be
 * thrown away, which proves that the trace is read right on the Node version running the test.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const fixture = path.join(root, 'tests', 'fixtures', 'sync', 'cold-burst.ts');

/** Functions of the fixture written for the control lock, and its driver. */
const CONTROL = /^(Control\w*|control\w*)$/;

/** Whether `source` defines or calls a function called `name` (a getter or setter by its property name). */
function definedIn(source: string, name: string): boolean {
  const bare = name.replace(/^(get|set) /, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w$#])${bare}\\s*\\(`, 'm').test(source);
}

let dir: string;
let bundle: string;

// The fixture and weft's sources as one plain script, so the child runs nothing but them and Node (no TS loader
// whose own functions could show up in the trace).
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'weft-layout-'));
  bundle = path.join(dir, 'cold-burst.mjs');
  await build({
    entryPoints: [fixture],
    bundle: true,
    format: 'esm',
    platform: 'node',
    keepNames: true,
    outfile: bundle,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('no optimised code of Mutex, Semaphore, RWLock or limit is thrown away because a layout died at a full GC', async () => {
  // Compiling on the main thread makes "hot code is optimised before the next collection" hold on a loaded machine.
  const flags = ['--expose-gc', '--trace-deopt', '--no-concurrent-recompilation'];
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, bundle], {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(stdout).toContain('done');
  const source = await readFile(bundle, 'utf8');
  const discarded = [
    ...stdout.matchAll(
      /<SharedFunctionInfo ?([^>]*)>\) \(opt id \d+\) for deoptimization, reason: (?:embedded )?weak objects/g,
    ),
  ].map((match) => match[1] ?? '');
  const control = discarded.filter((name) => CONTROL.test(name));
  // Named functions of the bundle other than the control's: weft's (anonymous closures cannot be told apart from
  // Node's own, and are left out).
  const weft = discarded.filter((name) => name !== '' && !CONTROL.test(name) && definedIn(source, name));
  expect(control.length, 'the control lock shows the effect being tested for').toBeGreaterThan(0);
  expect(weft).toEqual([]);
}, 180_000);
