import { defineConfig } from 'tsup';

/** One entry per public subpath; `splitting` keeps shared modules (errors, internals) in one chunk so that
 * `instanceof` holds across entry points in both the ESM and the CJS build. */
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'sync/index': 'src/sync/index.ts',
    'channel/index': 'src/channel/index.ts',
    'scheduler/index': 'src/scheduler/index.ts',
    'pool/index': 'src/pool/index.ts',
    'shared/index': 'src/shared/index.ts',
    'worker/index': 'src/worker/index.ts',
    'redis/index': 'src/redis/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  splitting: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  target: 'es2022',
  platform: 'neutral',
  outDir: 'dist',
  // Keep `node:` specifiers so bundlers for browsers see at once that a module is Node-only.
  removeNodeProtocol: false,
  external: [/^node:/],
});
