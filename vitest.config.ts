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
    reporters: process.env.CI ? ['dot'] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'tests/demo.test.ts'],
          // Type tests (tests/**/*.test-d.ts) are compiled by `npm run typecheck` with the rest of the project, which
          // fails on any assertion they break; `vitest --typecheck` runs them as named tests when wanted.
          typecheck: { enabled: false, include: ['tests/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        test: { name: 'demo', include: ['tests/demo.test.ts'] },
      },
    ],
  },
});
