/**
 * Tests the built package as users get it: every subpath loads through the package's own exports map in both module
 * systems, and the error classes are one class across entry points (so `instanceof` holds whatever the import path).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as Errors from '../../src/errors.js';

const require = createRequire(import.meta.url);
const subpaths = [
  'weftjs',
  'weftjs/sync',
  'weftjs/channel',
  'weftjs/scheduler',
  'weftjs/pool',
  'weftjs/shared',
  'weftjs/worker',
  'weftjs/redis',
];
/** Subpaths the root does not re-export: the pool's worker side, and weftjs/redis (the one that talks to a server). */
const notReexported = new Set(['weftjs/worker', 'weftjs/redis']);

type ErrorClasses = Record<string, new (message?: string) => Error>;

describe('the built package', () => {
  it.each(subpaths)('%s loads as ESM and as CommonJS with the same export names', async (subpath) => {
    const esm = (await import(subpath)) as Record<string, unknown>;
    const cjs = require(subpath) as Record<string, unknown>;
    const names = Object.keys(esm)
      .filter((n) => n !== 'default' && n !== 'module.exports')
      .sort();
    expect(names.length).toBeGreaterThan(0);
    expect(
      Object.keys(cjs)
        .filter((n) => n !== 'default')
        .sort(),
    ).toEqual(names);
  });

  it('re-exports every subpath except weftjs/worker and weftjs/redis from the root', async () => {
    const root = (await import('weftjs')) as Record<string, unknown>;
    for (const subpath of subpaths.slice(1)) {
      if (notReexported.has(subpath)) continue;
      const mod = (await import(subpath)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) expect(root[name], `${subpath} ${name}`).toBe(value);
    }
    expect(root.expose).toBeUndefined();
    expect(root.RedisMutex).toBeUndefined();
  });

  it('shares one class per error across entry points, in ESM and in CommonJS', async () => {
    for (const load of [
      async (p: string) => (await import(p)) as ErrorClasses,
      async (p: string) => require(p) as ErrorClasses,
    ]) {
      const root = await load('weftjs');
      const channel = await load('weftjs/channel');
      const pool = await load('weftjs/pool');
      const sync = await load('weftjs/sync');
      const redis = await load('weftjs/redis');
      expect(redis.LeaseLostError).toBe(root.LeaseLostError);
      expect(channel.ChannelClosedError).toBe(root.ChannelClosedError);
      expect(pool.PoolClosedError).toBe(root.PoolClosedError);
      expect(pool.WorkerCrashedError).toBe(root.WorkerCrashedError);
      const closed = new channel.ChannelClosedError!();
      expect(closed).toBeInstanceOf(root.ClosedError!);
      expect(closed.name).toBe('ChannelClosedError');
      expect(new pool.PoolClosedError!()).toBeInstanceOf(root.ClosedError!);
      if (sync.ClosedError !== undefined) expect(sync.ClosedError).toBe(root.ClosedError);
    }
  });

  it('names every error class and keeps WorkerCrashedError data', async () => {
    const root = (await import('weftjs')) as unknown as typeof Errors;
    for (const name of [
      'ClosedError',
      'ChannelClosedError',
      'PoolClosedError',
      'QueueFullError',
      'WorkerCrashedError',
      'LeaseLostError',
    ] as const) {
      const error = new root[name]();
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
    }
    const cause = new Error('boom');
    const crashed = new root.WorkerCrashedError('worker died', { cause, exitCode: 3 });
    expect(crashed.cause).toBe(cause);
    expect(crashed.exitCode).toBe(3);
  });
});
