/**
 * What the process transport adds to the pool protocol. A child process cannot share memory with its pool, so each
 * side keeps its own copy of the slot table; and a process that dies takes with it what the pool needs to know
 * about its tasks, so, when it can, it says which task it was running just before it goes.
 */
import { SLOT_COUNT } from './protocol.js';

/**
 * Environment variable that marks a child process started by a pool. Its value is the protocol version; the child
 * removes it at once, so processes it starts itself do not inherit it.
 */
export const PROCESS_ENV_KEY = 'WEFT_POOL_PROCESS';

/**
 * Message from a child about to die (`process.exit`, `process.abort`, an uncaught error), sent after the results it
 * still held: `[MSG_EXIT_NOTICE, runningSlots, error]`, where `runningSlots` are the slots of the tasks it had started
 * and not answered (the others were never started and can run elsewhere) and `error` is a serialized uncaught error
 * or `undefined`.
 */
export const MSG_EXIT_NOTICE = 12;

/**
 * A slot index past the end of the table that no task ever uses: a task entry taken back inside the child is pointed
 * at it, so the worker runtime skips the entry (the slot never reads QUEUED) without touching a live slot.
 */
export const DEAD_SLOT = SLOT_COUNT;
