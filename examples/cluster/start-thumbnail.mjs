// The file the consumers' pools start: it loads thumbnail.ts through tsx (on Node 20, `--import tsx` in a worker's
// `execArgv` is not applied to it, so the worker registers tsx itself).
import { tsImport } from 'tsx/esm/api';

await tsImport('./thumbnail.ts', import.meta.url);
