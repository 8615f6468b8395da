import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (everything, files in parallel) and `demo`, the demo's verdict check, which measures real
 * parallel speedup and so runs on its own after the rest, when no other test file competes for the cores.
 */
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Most test files wait on child processes, workers, timers and I/O: on 2 cores, two files at a time take about 60%
    // of the time one at a time does (vitest's default there). scripts/node-matrix.mjs runs its legs with one each.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: process.env.CI ? ['dot'] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'tests/demo.test.ts'],
          typecheck: { enabled: true, include: ['tests/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        test: { name: 'demo', include: ['tests/demo.test.ts'] },
      },
    ],
  },
});
