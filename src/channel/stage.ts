import { ChannelClosedError } from '../errors.js';
import { Channel } from './channel.js';
import { assertCapacity, channelCore, checkSignalOptions } from './core.js';
import { recv, select } from './select.js';
import type { RecvCase } from './types.js';

/**
 * Options shared by the pipeline helpers ({@link channelFrom}, {@link mergeChannels}, {@link mapChannel}): each
 * helper runs a *stage* that feeds a new output channel.
 *
 * A stage ends in one of three ways:
 * - its input is exhausted: the output is closed, and consumers see the end after draining it;
 * - it fails (the source throws, `fn` rejects, an input channel was closed with a reason): the output is closed
 *   with that error, so consumers get it (`receive` rejects with it, `for await` throws it) after draining;
 * - it is cancelled: aborting `signal` closes the output with `signal.reason`; closing the output from the
 *   consuming side stops the stage too. Either way the stage stops taking input at once.
 *
 * @example
 * ```ts
 * import { channelFrom, type StageOptions } from 'weftjs/channel';
 *
 * const controller = new AbortController();
 * const options: StageOptions = { capacity: 16, signal: controller.signal };
 * const numbers = channelFrom([1, 2, 3], options);
 * ```
 */
export interface StageOptions {
  /**
   * Capacity of the output channel (see the {@link Channel} constructor). Default `0`: unbuffered, so the stage
   * runs at most one value ahead of its consumer.
   *
   * @example
   * ```ts
   * import { channelFrom } from 'weftjs/channel';
   *
   * const lines = channelFrom(['a', 'b'], { capacity: 64 });
   * ```
   */
  capacity?: number | undefined;
  /**
   * Cancels the stage: it stops taking input and closes its output with `signal.reason`.
   *
   * @example
   * ```ts
   * import { channelFrom } from 'weftjs/channel';
   *
   * const numbers = channelFrom([1, 2, 3], { signal: AbortSignal.timeout(5000) });
   * ```
   */
  signal?: AbortSignal | undefined;
}

/** What {@link Stage.receive} returns: a value, or the end of a drained input. */
export type StageStep<T> = { done: false; value: T } | { done: true };

const END: StageStep<never> = { done: true };

/**
 * The lifetime of one pipeline stage. Internal; not exported from the package.
 *
 * Internal waits never take an `AbortSignal` (one listener per parked operation would pile up on one signal):
 * receives from inputs are `select`s that also watch a private *stop* channel, closed when the stage halts, and
 * sends go to the output, which the stage closes itself. Only user code gets {@link Stage.signal}.
 */
export class Stage<R> {
  readonly output: Channel<R>;
  readonly #stop = new Channel<never>();
  readonly #controller = new AbortController();
  readonly #callerSignal: AbortSignal | undefined;

  constructor(where: string, options: StageOptions | undefined) {
    let capacity = 0;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      signal = checkSignalOptions(where, options).signal;
      if (options.capacity !== undefined) {
        assertCapacity(where, options.capacity);
        capacity = options.capacity;
      }
    }
    this.output = new Channel<R>(capacity);
    this.#callerSignal = signal;
    if (signal !== undefined) {
      if (signal.aborted) this.handleEvent();
      else signal.addEventListener('abort', this);
    }
    channelCore.onClose(this.output, () => {
      this.#halt(new ChannelClosedError(`${where}: the output channel was closed`));
    });
  }

  /** Aborts when the stage stops early: cancelled, output closed downstream, or failed. Given to user code. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The cases to pass to {@link Stage.receive} to read `input` until it is drained or the stage halts. */
  inputCases<T>(input: Channel<T>): readonly [RecvCase<T>, RecvCase<never>] {
    return [recv(input), recv(this.#stop)];
  }

  /** Receives from the input of `cases`; rejects with the halt reason once the stage has halted. */
  async receive<T>(cases: readonly [RecvCase<T>, RecvCase<never>]): Promise<StageStep<T>> {
    this.#controller.signal.throwIfAborted();
    const result = await select(cases); // a halt closes the stop channel with its reason: select rejects with it
    return result.index === 0 && result.ok ? { done: false, value: result.value } : END;
  }

  /** A `select` case that makes a waiting `select` reject with the halt reason once the stage halts. */
  get stopCase(): RecvCase<never> {
    return recv(this.#stop);
  }

  /** The caller's signal aborted: stop at once, even if the stage is stuck waiting on a source. */
  handleEvent(): void {
    const reason: unknown = this.#callerSignal!.reason;
    this.#halt(reason);
    this.output.close(reason);
  }

  /** Ends the stage: closes the output, with `error` when it failed or was cancelled. */
  finish(error?: unknown): void {
    this.#callerSignal?.removeEventListener('abort', this);
    if (error !== undefined) this.#halt(error);
    this.output.close(error);
  }

  #halt(reason: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    this.#stop.close(reason);
  }
}
