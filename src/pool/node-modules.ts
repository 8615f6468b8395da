/**
 * Node.js built-in modules for the Node side of the pool (transport-node.ts, port-node.ts), looked up on first use
 * through `process.getBuiltinModule` rather than imported. weftjs/pool and weftjs/worker therefore contain no `node:`
 * import at all: they load unchanged in browsers and bundle for them, and pick their platform at run time.
 */

interface NodeProcess {
  versions?: { node?: unknown } | undefined;
  getBuiltinModule?: ((id: string) => unknown) | undefined;
}

function nodeProcess(): NodeProcess | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  return typeof proc === 'object' && proc !== null && typeof proc.versions?.node === 'string'
    ? proc
    : undefined;
}

/**
 * Whether Node's built-in modules can be loaded here: Node.js from 20.16 and 22.3, and the runtimes that present
 * themselves as Node with `process.getBuiltinModule` (Bun, Deno, Electron with Node integration).
 */
export function hasNodeBuiltins(): boolean {
  return typeof nodeProcess()?.getBuiltinModule === 'function';
}

const loaded = new Map<string, unknown>();

/**
 * The built-in module `id` (e.g. `'node:worker_threads'`). Throws an `Error` naming the Node versions that have
 * `process.getBuiltinModule` (20.16 and 22.3) when it is missing.
 */
export function nodeModule<T>(id: `node:${string}`): T {
  let found = loaded.get(id);
  if (found === undefined) {
    const getBuiltinModule = nodeProcess()?.getBuiltinModule;
    if (typeof getBuiltinModule !== 'function') {
      throw new Error(
        `weft: cannot load ${id}: this runtime has no process.getBuiltinModule ` +
          '(Node.js has it from 20.16 and 22.3; upgrade Node.js to use weftjs/pool)',
      );
    }
    found = getBuiltinModule(id);
    loaded.set(id, found);
  }
  return found as T;
}
