/**
 * A growable FIFO ring buffer: O(1) push and shift, no `Array.prototype.shift`. The backing array has a power-of-two
 * length, so wrapping is a mask; it starts small and doubles only when full, so `new Channel(1_000_000)` costs
 * nothing until values actually queue up.
 */
export class RingBuffer<T> {
  #slots: (T | undefined)[];
  #mask: number;
  #head = 0;
  /** Number of values held. */
  size = 0;

  constructor(initialSlots = 16) {
    let length = 1;
    while (length < initialSlots) length *= 2;
    this.#slots = new Array<T | undefined>(length).fill(undefined);
    this.#mask = length - 1;
  }

  /** Appends `value` at the tail, growing the backing array when it is full. */
  push(value: T): void {
    if (this.size > this.#mask) this.#grow();
    this.#slots[(this.#head + this.size) & this.#mask] = value;
    this.size++;
  }

  /** Removes and returns the oldest value. Only call when `size > 0`. */
  shift(): T {
    const head = this.#head;
    const value = this.#slots[head] as T;
    this.#slots[head] = undefined; // let the value be collected once taken
    this.#head = (head + 1) & this.#mask;
    this.size--;
    return value;
  }

  #grow(): void {
    const old = this.#slots;
    const length = old.length;
    const slots = new Array<T | undefined>(length * 2).fill(undefined);
    for (let i = 0; i < length; i++) slots[i] = old[(this.#head + i) & this.#mask];
    this.#slots = slots;
    this.#mask = length * 2 - 1;
    this.#head = 0;
  }
}
