import { QueueWaiter, timeoutError, waitOptionsError } from '../internal/waiter.js';
import { assertPositiveInteger } from '../internal/validate.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { WaitOptions } from '../types.js';

class BarrierWaiter extends QueueWaiter<number, BarrierWaiter> {
  get operation(): string {
    return 'Barrier.wait';
  }
}

/**
 * A cyclic barrier: `parties` tasks wait for each other, then all go on together, and the barrier is ready for the
 * next round (generation).
 *
 * {@link Barrier.wait} resolves with the caller's 0-based arrival index within its generation: `0` for the first to
 * arrive, `parties - 1` for the one that completed the round (handy to elect one task to do per-round work).
 * An arrival that is aborted or times out is withdrawn: it no longer counts, and the indices of the round are
 * assigned among the arrivals that remain, so they are always exactly `0 .. parties - 1`.
 *
 * @example Workers that proceed in lock-step rounds
 * ```ts
 * import { Barrier } from 'weftjs/sync';
 *
 * const barrier = new Barrier(3);
 * await Promise.all(
 *   [0, 1, 2].map(async (worker) => {
 *     for (let round = 0; round < 2; round++) {
 *       // ... compute this worker's part of the round ...
 *       const index = await barrier.wait();
 *       if (index === barrier.parties - 1) console.log(`round ${round} done (completed by worker ${worker})`);
 *     }
 *   }),
 * );
 * ```
 */
export class Barrier {
  readonly #count: number;
  readonly #queue = new WaitQueue<BarrierWaiter>();

  /**
   * @param parties - How many arrivals complete a round, a positive integer.
   * @throws `TypeError` if `parties` is not a number, `RangeError` if it is not a positive integer.
   *
   * @example
   * ```ts
   * import { Barrier } from 'weftjs/sync';
   *
   * const barrier = new Barrier(4);
   * ```
   */
  constructor(parties: number) {
    assertPositiveInteger('Barrier', 'parties', parties);
    this.#count = parties;
  }

  /**
   * How many arrivals complete a round.
   *
   * @example
   * ```ts
   * import { Barrier } from 'weftjs/sync';
   *
   * console.log(new Barrier(3).parties); // 3
   * ```
   */
  get parties(): number {
    return this.#count;
  }

  /**
   * Arrivals waiting in the current round.
   *
   * @example
   * ```ts
   * import { Barrier } from 'weftjs/sync';
   *
   * const barrier = new Barrier(2);
   * const first = barrier.wait();
   * console.log(barrier.waiting); // 1
   * await Promise.all([first, barrier.wait()]);
   * ```
   */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Arrives at the barrier and waits until `parties` arrivals (this one included) are there.
   *
   * @param opts - `signal` to abort the wait, `timeout` in milliseconds (`0`: only if this arrival completes the
   *   round). A cancelled arrival is withdrawn from the round.
   * @returns The 0-based arrival index within the round.
   *
   * @example
   * ```ts
   * import { Barrier } from 'weftjs/sync';
   *
   * const barrier = new Barrier(2);
   * const [a, b] = await Promise.all([barrier.wait(), barrier.wait()]);
   * console.log(a, b); // 0 1
   * ```
   */
  wait(opts?: WaitOptions): Promise<number> {
    const error = waitOptionsError('Barrier.wait', opts);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- signal.reason or an option error
    if (error !== undefined) return Promise.reject(error);
    const queue = this.#queue;
    if (queue.length + 1 === this.#count) {
      let index = 0;
      for (let waiter = queue.shift(); waiter !== undefined; waiter = queue.shift()) waiter.grant(index++);
      return Promise.resolve(index);
    }
    if (opts?.timeout === 0) return Promise.reject(timeoutError('Barrier.wait', 0));
    const waiter = new BarrierWaiter(queue);
    queue.push(waiter);
    return waiter.wait(opts?.signal, opts?.timeout);
  }
}
