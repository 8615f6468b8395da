/**
 * A module every child process of a pool preloads (`--import` of a `data:` URL, so no file has to be found): until
 * weftjs/worker is loaded and takes over, it reports an error that ends the child (a worker file that is missing,
 * does not parse or throws while loading) to the pool, so the pool can say why the worker failed to start. It takes
 * itself out of `process.execArgv` so that processes the worker starts do not inherit it.
 */
import { PROCESS_ENV_KEY, MSG_EXIT_NOTICE } from './protocol-process.js';

const MARK = 'weft-pool-preload';

const source = `/* ${MARK} */
if (process.env.${PROCESS_ENV_KEY} !== undefined && typeof process.send === 'function') {
  const at = process.execArgv.findIndex((arg) => arg.includes(${JSON.stringify(MARK)}));
  if (at >= 0) process.execArgv.splice(at, 1);
  process.on('uncaughtExceptionMonitor', (error) => {
    if (globalThis[Symbol.for('weft.pool.process')] !== undefined) return;
    if (process.listenerCount('uncaughtException') > 0) return;
    const e = error instanceof Error ? error : new Error(String(error));
    const flat = { weftError: 1, name: e.name, message: e.message, stack: e.stack, props: undefined };
    process.send([${MSG_EXIT_NOTICE}, flat], undefined, undefined, () => {});
  });
}
`;

/** The `execArgv` entry that preloads it. */
export const PRELOAD_ARG = `--import=data:text/javascript,${encodeURIComponent(source)}`;
