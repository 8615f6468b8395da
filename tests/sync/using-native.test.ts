/**
 * `using` declarations executed natively (vitest downlevels `using` in test files, so this runs a plain .mjs
 * fixture in a child process). Needs Node >= 24 and the built package (`npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const fixture = path.join(root, 'tests', 'fixtures', 'sync', 'using-native.mjs');
const major = Number(process.versions.node.split('.')[0]);
const native = major >= 24;

describe('Permit with native `using` declarations', () => {
  it.skipIf(!native)(
    native
      ? 'releases permits at the end of the block, once, also when the block throws'
      : `skipped: Node ${process.versions.node} has no native \`using\` (needs Node >= 24)`,
    () => {
      expect(
        existsSync(path.join(root, 'dist', 'sync', 'index.js')),
        'build the package first: npm run build',
      ).toBe(true);
      const result = spawnSync(process.execPath, [fixture], { cwd: root, encoding: 'utf8', timeout: 20_000 });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout.trim()).toBe('native using: ok');
    },
  );
});
