/**
 * What cannot cross to a child process, named: a task whose arguments cannot be cloned for `runtime: 'process'`
 * rejects with a `TypeError` that says which argument, where inside it, and why.
 */
import type * as V8 from 'node:v8';
import { nodeModule } from './node-modules.js';
import { MODE_RUN, MSG_TASKS } from './protocol.js';

const WHY = 'cannot cross to a child process (runtime: "process")';

/**
 * The error to throw for a message the IPC channel refused: for a single task, a `TypeError` naming the argument;
 * otherwise `error` itself (a batch is then sent one task at a time, so the bad task is found).
 */
export function crossingError(message: unknown[], error: unknown): unknown {
  if (message[0] !== MSG_TASKS || message.length !== 5) return error;
  const where = message[3] === MODE_RUN ? 'WorkerPool.run' : 'WorkerPool.stream';
  const args = message[4] as unknown[];
  const { serialize } = nodeModule<typeof V8>('node:v8');
  for (let i = 0; i < args.length; i++) {
    try {
      serialize(args[i]);
    } catch (cause) {
      const found = find(args[i], `args[${i}]`, new Set());
      const text = found ?? `args[${i}] ${WHY}: ${cause instanceof Error ? cause.message : String(cause)}`;
      return new TypeError(`${where}: ${text}`, { cause });
    }
  }
  return error;
}

/** Describes the first value inside `value` that no process can receive, or `undefined`. */
function find(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === 'function') return `${path} is a function, and a function ${WHY}`;
  if (typeof value === 'symbol') return `${path} is a symbol, and a symbol ${WHY}`;
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  seen.add(value);
  const shared = sharedKind(value);
  if (shared !== undefined) {
    return `${path} is ${shared}, and shared memory ${WHY}; share it between threads with runtime: "thread"`;
  }
  if (ArrayBuffer.isView(value)) return find(value.buffer, `${path}.buffer`, seen);
  if (value instanceof Map) {
    let i = 0;
    for (const [key, item] of value) {
      const found = find(key, `${path} key #${i}`, seen) ?? find(item, `${path} value #${i}`, seen);
      if (found !== undefined) return found;
      i++;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const item of value) {
      const found = find(item, `${path} item #${i++}`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = find(
      (value as Record<string, unknown>)[key],
      Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`,
      seen,
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

/** "a SharedArrayBuffer", "a weftjs/shared handle (SharedMutex)", ... or `undefined`. */
function sharedKind(value: object): string | undefined {
  if (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer)
    return 'a SharedArrayBuffer';
  const { kind, buffer } = value as { kind?: unknown; buffer?: unknown };
  if (
    (kind === 'SharedMutex' || kind === 'SharedSemaphore') &&
    typeof SharedArrayBuffer === 'function' &&
    buffer instanceof SharedArrayBuffer
  ) {
    return `a weftjs/shared handle (${kind})`;
  }
  return undefined;
}
