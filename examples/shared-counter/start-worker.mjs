// The file each Worker starts: it loads worker.ts through tsx. (On Node 20, TypeScript loader hooks given to a
// worker in `execArgv`, such as `--import tsx`, are not applied to it, so the worker registers tsx itself.)
import { tsImport } from 'tsx/esm/api';

await tsImport('./worker.ts', import.meta.url);
