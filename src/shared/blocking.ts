/**
 * The blocking acquire (`lockSync`, `acquireSync`): the calling thread parks on `Atomics.wait`, first for a free
 * slot if the table is full, then on its own slot's state word until it is granted, closed or withdrawn.
 */
import { timeoutError } from '../internal/waiter.js';
import type { Permit } from '../types.js';
import type { SharedCore } from './core.js';
import { dropGuard, takeGuard } from './guard.js';
import { H_CLOSED, H_SLOT_FREED, HELD, S_GEN, S_STATE, slotBase, WAITING } from './layout.js';
import * as table from './slot-table.js';

/** Checks of its slot a blocking waiter makes before it parks (a few microseconds). */
const SYNC_SPINS = 200;

/** Takes `weight` permits through `core`, blocking this thread until they are had or `timeout` ms have passed. */
export function acquireSync(
  core: SharedCore,
  weight: number,
  timeout: number | undefined,
  where: string,
): Permit {
  const s = core.s;
  const deadline = timeout === undefined || timeout === Infinity ? Infinity : performance.now() + timeout;
  let slot = -1;
  let slotWait = false;
  for (;;) {
    const seen = Atomics.load(s, H_SLOT_FREED);
    const g = takeGuard(s, core.guardTag);
    if (Atomics.load(s, H_CLOSED) !== 0) {
      if (slotWait) table.stopSlotWait(s, g, false);
      dropGuard(s, g);
      throw core.closedError();
    }
    const permit = core.take(g, weight);
    if (permit !== undefined) {
      if (slotWait) table.stopSlotWait(s, g, false);
      dropGuard(s, g);
      return permit;
    }
    if (timeout !== 0) slot = table.enqueue(s, g, core.me, weight, core);
    if (slot !== -1) {
      core.tookSlot();
      if (slotWait) table.stopSlotWait(s, g, false);
      core.grant(g);
      dropGuard(s, g);
      core.settleGranted();
      break;
    }
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      if (slotWait) table.stopSlotWait(s, g, false);
      dropGuard(s, g);
      throw timeoutError(where, timeout!);
    }
    if (!slotWait) {
      slotWait = true;
      table.startSlotWait(s, g);
    }
    dropGuard(s, g);
    Atomics.wait(s, H_SLOT_FREED, seen, remaining === Infinity ? undefined : remaining);
  }
  return awaitSlot(core, slot, weight, deadline, timeout, where);
}

/** Blocks until queued slot `slot` is granted, closed or withdrawn, or the deadline passes. */
function awaitSlot(
  core: SharedCore,
  slot: number,
  weight: number,
  deadline: number,
  timeout: number | undefined,
  where: string,
): Permit {
  const s = core.s;
  const base = slotBase(slot);
  const gen = Atomics.load(s, base + S_GEN);
  let spins = SYNC_SPINS;
  for (;;) {
    if (Atomics.load(s, base + S_GEN) !== gen) throw core.withdrawnError(where);
    const state = Atomics.load(s, base + S_STATE);
    if (state !== WAITING) break;
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      const g = takeGuard(s, core.guardTag);
      if (Atomics.load(s, base + S_GEN) === gen && Atomics.load(s, base + S_STATE) === WAITING) {
        table.unlink(s, g, slot);
        table.freeSlot(s, g, slot, core);
        core.grant(g);
        dropGuard(s, g);
        core.settleGranted();
        throw timeoutError(where, timeout!);
      }
      dropGuard(s, g);
      continue;
    }
    if (spins > 0) {
      // A hand-off usually comes within microseconds: spinning first spares the thread a sleep and a wake-up.
      spins--;
      continue;
    }
    Atomics.wait(s, base + S_STATE, WAITING, remaining === Infinity ? undefined : remaining);
  }
  const g = takeGuard(s, core.guardTag);
  if (Atomics.load(s, base + S_GEN) !== gen) {
    dropGuard(s, g);
    throw core.withdrawnError(where);
  }
  if (Atomics.load(s, base + S_STATE) === HELD) {
    const permit = core.adopt(g, slot, weight);
    dropGuard(s, g);
    return permit;
  }
  table.freeSlot(s, g, slot, core);
  dropGuard(s, g);
  throw core.closedError();
}
