// Tests the package the way users receive it: `npm pack`, then install the tarball into a fresh project in a
// temporary folder outside the repository (a real copy, no link into the checkout) and run tests/installed/ there:
// ESM and CommonJS loading of every subpath, the types under moduleResolution node16 and bundler, and a smoke run
// of every module, including a WorkerPool whose worker imports weftjs/worker, on Node, Bun and Deno.
//   node scripts/installed-package.mjs                 Node, Bun and Deno
//   WEFT_RUNTIMES=node node scripts/installed-package.mjs
// Bun and Deno come from the npm registry (the `bun` and `deno` packages) and are cached under .cache/runtimes.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const runtimes = (process.env.WEFT_RUNTIMES ?? 'node,bun,deno')
  .split(',')
  .map((r) => r.trim())
  .filter(Boolean);
const runtimeVersions = { bun: 'bun@1', deno: 'deno@2' };
const timeoutMs = 120_000;

function run(command, args, { cwd, input, label = `${command} ${args.join(' ')}` } = {}) {
  const result = spawnSync(command, args, {
    cwd,
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '');
    process.stderr.write(result.stderr ?? '');
    const why = result.error ? result.error.message : (result.signal ?? `exit code ${result.status}`);
    console.error(`installed-package: ${label} failed (${why})`);
    process.exit(1);
  }
  return result.stdout;
}

/** The binary of a runtime from the npm registry, installed once into .cache/runtimes. */
function runtimeBinary(name) {
  if (name === 'node') return process.execPath;
  const prefix = path.join(root, '.cache', 'runtimes', name);
  const binary = path.join(prefix, 'node_modules', '.bin', name);
  if (!existsSync(binary)) {
    console.log(`installed-package: installing ${runtimeVersions[name]} into ${prefix}`);
    run('npm', [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefix,
      runtimeVersions[name],
    ]);
  }
  return binary;
}

const work = mkdtempSync(path.join(os.tmpdir(), 'weftjs-installed-'));
try {
  run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack wrote no tarball');
  const project = path.join(work, 'app');
  cpSync(path.join(root, 'tests', 'installed'), project, { recursive: true });
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', path.join(work, tarball)], { cwd: project });
  console.log(`installed-package: ${tarball} installed into ${project}`);

  const esmNames = run(process.execPath, ['esm.mjs'], { cwd: project });
  console.log(`ok esm: ${Object.keys(JSON.parse(esmNames)).length} subpaths`);
  console.log(`ok ${run(process.execPath, ['cjs.cjs'], { cwd: project, input: esmNames }).trim()}`);

  // The compiler comes from the checkout, the types it checks from the installed package; @types/node too, since
  // the worker pool's types mention Node's.
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const typeRoots = path.join(root, 'node_modules', '@types');
  for (const resolution of ['node16', 'bundler']) {
    run(
      process.execPath,
      [tsc, '-p', `tsconfig.${resolution}.json`, '--typeRoots', typeRoots, '--types', 'node'],
      {
        cwd: project,
        label: `tsc (moduleResolution ${resolution})`,
      },
    );
    console.log(`ok types: moduleResolution ${resolution}`);
  }

  for (const runtime of runtimes) {
    const binary = runtimeBinary(runtime);
    const args = runtime === 'deno' ? ['run', '--allow-all', 'smoke.mjs'] : ['smoke.mjs'];
    const output = run(binary, args, { cwd: project, label: `smoke on ${runtime}` });
    const summary = output.trim().split('\n').at(-1);
    if (!/ \d+ passed, 0 failed$/.test(summary ?? '')) {
      process.stdout.write(output);
      console.error(`installed-package: the smoke run on ${runtime} did not pass`);
      process.exit(1);
    }
    console.log(`ok ${summary}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
