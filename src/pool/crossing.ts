/**
 * What cannot cross to a child process, named: a task whose arguments cannot be cloned for `runtime: 'process'`
 * rejects with a `TypeError` that says which argument, where inside it, and why.
 */
import type * as V8 from 'node:v8';
import { nodeModule } from './node-modules.js';
import { MODE_RUN, MSG_TASKS, entryCount, taskArgs, taskMode } from './protocol.js';

const WHY = 'cannot cross to a child process (runtime: "process")';

/**
 * Whether the task entries of `message` (`[MSG_TASKS, slot, fn, mode, args, ...]`) hold shared memory, which the
 * IPC channel would not refuse but copy (a typed array over a `SharedArrayBuffer`): sharing would silently stop.
 */
export function holdsSharedMemory(message: unknown[]): boolean {
  for (let entry = 0, count = entryCount(message); entry < count; entry++) {
    for (const arg of taskArgs(message, entry))
      if (typeof arg === 'object' && arg !== null && shares(arg, undefined)) return true;
  }
  return false;
}

function shares(value: object, seen: Set<object> | undefined): boolean {
  if (isShared(value)) return true;
  if (ArrayBuffer.isView(value)) return isShared(value.buffer);
  seen ??= new Set();
  if (seen.has(value)) return false;
  seen.add(value);
  const items =
    value instanceof Map
      ? [...value.keys(), ...value.values()]
      : value instanceof Set
        ? value
        : Object.values(value);
  for (const item of items as Iterable<unknown>) {
    if (typeof item === 'object' && item !== null && shares(item, seen)) return true;
  }
  return false;
}

function isShared(value: unknown): boolean {
  return typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer;
}

/**
 * The error to throw for a message that cannot go to a child: for a single task, a `TypeError` naming the argument;
 * otherwise `error` itself (a batch is then sent one task at a time, so the bad task is found).
 */
export function crossingError(message: unknown[], error: unknown): unknown {
  if (message[0] !== MSG_TASKS || entryCount(message) !== 1) return error;
  const where = taskMode(message, 0) === MODE_RUN ? 'WorkerPool.run' : 'WorkerPool.stream';
  const args = taskArgs(message, 0);
  const { serialize } = nodeModule<typeof V8>('node:v8');
  for (let i = 0; i < args.length; i++) {
    const found = find(args[i], `args[${i}]`, new Set());
    if (found !== undefined) return new TypeError(`${where}: ${found}`);
    try {
      serialize(args[i]);
    } catch (cause) {
      const text = cause instanceof Error ? cause.message : String(cause);
      return new TypeError(`${where}: args[${i}] ${WHY}: ${text}`, { cause });
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
  if ((kind === 'SharedMutex' || kind === 'SharedSemaphore') && isShared(buffer)) {
    return `a weftjs/shared handle (${kind})`;
  }
  return undefined;
}
