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
export class OwnedPermit implements Permit {
  private owner: PermitOwner | null;
  private readonly amount: number;

  constructor(owner: PermitOwner, amount: number) {
    this.owner = owner;
    this.amount = amount;
  }

  /** True once the permit has been given back. */
  get released(): boolean {
    return this.owner === null;
  }

  release(): void {
    const owner = this.owner;
    if (owner === null) return;
    this.owner = null;
    owner.releasePermit(this.amount);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
