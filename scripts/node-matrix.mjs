// Runs the vitest suite again on the other current Node LTS lines (22 and 24), which the npm registry ships as the
// `node` package. Binaries are cached under .cache/ so a second run costs nothing.
//   node scripts/node-matrix.mjs          Node 22 and 24
//   WEFT_NODE_VERSIONS=24 node scripts/node-matrix.mjs
import { spawnSync } from 'node:child_process';
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

for (const major of versions) {
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
  console.log(`\nnode-matrix: running the tests on Node ${major}`);
  run(binary, ['--version']);
  run(binary, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'unit'], {
    env: { ...process.env, WEFT_NODE_MATRIX: major },
  });
}
