// Runs the vitest suite again on the other current Node LTS lines (22 and 24), which the npm registry ships as the
// `node` package. Binaries are cached under .cache/ so a second run costs nothing.
//   node scripts/node-matrix.mjs          Node 22 and 24
//   WEFT_NODE_VERSIONS=24 node scripts/node-matrix.mjs
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const versions = (process.env.WEFT_NODE_VERSIONS ?? '22,24')
  .split(',')
  .map((v) => v.trim())
  .filter(Boolean);
const root = process.cwd();

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`node-matrix: ${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
    process.exit(result.status ?? 1);
  }
}

/** Installs Node `major` under .cache/ unless it is there, and returns its binary. */
function nodeBinary(major) {
  const prefix = path.join(root, '.cache', `node${major}`);
  const binary = path.join(prefix, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(prefix, { recursive: true });
    console.log(`node-matrix: installing node@${major} into ${prefix}`);
    run('npm', [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefix,
      `node@${major}`,
    ]);
  }
  return binary;
}

/**
 * Runs every job at once, each one's output kept until it ends and then printed whole, so that the logs do not
 * interleave; resolves with the labels of those that failed (empty when all passed).
 * @param {{ label: string, command: string, args: string[], env?: NodeJS.ProcessEnv }[]} jobs
 * @returns {Promise<string[]>}
 */
async function runTogether(jobs) {
  const outcomes = await Promise.all(
    jobs.map(
      (job) =>
        new Promise((resolve) => {
          const started = performance.now();
          const child = spawn(job.command, job.args, {
            env: job.env ?? process.env,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          const output = [];
          child.stdout.on('data', (chunk) => output.push(chunk));
          child.stderr.on('data', (chunk) => output.push(chunk));
          child.on('error', (error) => output.push(Buffer.from(`${error.message}\n`)));
          child.on('close', (code, signal) => {
            const seconds = ((performance.now() - started) / 1000).toFixed(1);
            const outcome = code === 0 ? 'passed' : `failed (${code ?? signal})`;
            console.log(`\n=== ${job.label}: ${outcome} in ${seconds} s`);
            process.stdout.write(Buffer.concat(output));
            resolve(code === 0 ? undefined : job.label);
          });
        }),
    ),
  );
  return outcomes.filter((label) => label !== undefined);
}

// The legs run at once: much of the suite waits on child processes, timers and I/O, so two legs on two cores take
// about 1.25 times one (145 s against 115 s on the 2-core machine here).
const failed = await runTogether(
  versions.map((major) => {
    const binary = nodeBinary(major);
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    return {
      label: `the tests on Node ${version}`,
      command: binary,
      args: [
        path.join(root, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--project',
        'unit',
        '--maxWorkers=1',
      ],
      env: { ...process.env, WEFT_NODE_MATRIX: major },
    };
  }),
);
if (failed.length > 0) {
  console.error(`node-matrix: ${failed.join(', ')} failed`);
  process.exit(1);
}
