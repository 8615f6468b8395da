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
 * still held: `[MSG_EXIT_NOTICE, error]`, where `error` is a serialized uncaught error or `undefined`.
 */
export const MSG_EXIT_NOTICE = 12;

/**
 * The child's progress record: a file descriptor (an unlinked temporary file the pool opened and the child
 * inherits) holding, at offset 0, a float64: the number, in arrival order, of the last task entry the child started.
 * The child writes it as each task starts, a write that outlives any death of the child; after the child is gone
 * the pool reads it to know which of its tasks had started (they ran, or were running: they reject) and which had
 * not (they run elsewhere). Entries are numbered from 1 by both sides in the order the pool sent them.
 */
export const PROGRESS_FD = 4;

/**
 * A slot index past the end of the table that no task ever uses: a task entry taken back inside the child is pointed
 * at it, so the worker runtime skips the entry (the slot never reads QUEUED) without touching a live slot.
 */
export const DEAD_SLOT = SLOT_COUNT;
