import { describe, expect, it } from 'vitest';
import { WorkerPool } from 'weftjs/pool';
import { loadGc } from '../helpers.js';

const worker = new URL('../fixtures/pool/worker.mjs', import.meta.url);

describe('WorkerPool: memory', () => {
  it('keeps nothing of a settled task: neither its arguments nor its result', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 1 });
    const [argRef, resultRef] = await (async (): Promise<[WeakRef<object>, WeakRef<object>]> => {
      const argument = { payload: new Array<number>(1000).fill(1) };
      const result = await pool.run<object>('echo', [argument]);
      return [new WeakRef(argument), new WeakRef(result)];
    })();
    const gc = await loadGc();
    if (gc === undefined) return;
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets are kept until the job ends
      gc();
    }
    expect(argRef.deref()).toBeUndefined();
    expect(resultRef.deref()).toBeUndefined();
  });
});
