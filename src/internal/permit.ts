/**
 * The one {@link Permit} implementation behind every lock and semaphore: it hands `amount` back to its owner exactly
 * once, however many times `release()` or `[Symbol.dispose]()` is called.
 */
import type { Permit } from '../types.js';

/** Whatever takes permits back: a semaphore's counter, a mutex, a read-write lock, a shared lock's cell. */
export interface PermitOwner {
  /** Takes back `amount` permits (the weight acquired; 1 for a lock). Called at most once per permit. */
  releasePermit(amount: number): void;
}

/**
 * A held permit. Dropping the owner reference on the first release is what makes `release()` idempotent, so a
 * second call (or a `using` block around a permit released by hand) can never give back someone else's permits.
 */
export interface OwnedPermit extends Permit {
  /** Who gets the permits back; `null` once released. */
  owner: PermitOwner | null;
  /** What the owner gets back: the weight taken (an owner may use it as a kind, as the read-write lock does). */
  amount: number;
}

function release(this: OwnedPermit): void {
  const owner = this.owner;
  if (owner === null) return;
  this.owner = null;
  owner.releasePermit(this.amount);
}

/**
 * Every permit is a copy of this object. Why not a class: V8 lets the object layout of a class die at a full GC once
 * no instance is alive, and throws away the optimised code that relies on it, so the first burst of contention
 * after a quiet spell would run cold (measured: a 10k-task burst on a Mutex right after a full GC cost 5-6x the
 * hand-written floor with a class permit and waiter). A copy of a live object keeps that object's layout, which
 * lives as long as this module. An object literal would too, but `[Symbol.dispose]` is a computed key, which a
 * literal adds after its layout, as a class does.
 */
const PERMIT: OwnedPermit = { owner: null, amount: 0, release, [Symbol.dispose]: release };

/** A new permit of `amount` held from `owner`. */
export function ownedPermit(owner: PermitOwner, amount: number): OwnedPermit {
  const permit = { ...PERMIT };
  permit.owner = owner;
  permit.amount = amount;
  return permit;
}
