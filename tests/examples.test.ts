/**
 * Smoke-runs every runnable example and the demo in their fast mode (WEFT_EXAMPLE_QUICK=1), as a user would run them,
 * against the built package. Each must exit 0 and print something.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const examples = readdirSync(path.join(root, 'examples'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(path.join(root, 'examples', entry.name, 'main.ts')))
  .map((entry) => entry.name);

function runQuick(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, WEFT_EXAMPLE_QUICK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('runnable examples (quick mode)', () => {
  it.each(examples)('examples/%s runs and exits 0', { timeout: 60_000 }, async (name) => {
    const result = await runQuick(path.join('examples', name, 'main.ts'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().length).toBeGreaterThan(0);
  });

  it('the demo runs and prints its table and verdicts', { timeout: 90_000 }, async () => {
    const result = await runQuick(path.join('demo', 'main.ts'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Verdict:');
    expect(result.stdout).toContain('CPU-bound');
    expect(result.stdout).toContain('I/O-bound');
  });
});
