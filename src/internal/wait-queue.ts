/**
 * An intrusive FIFO on a power-of-two ring buffer: O(1) push and shift, O(1) removal of any node, no allocation per
 * node. Waiters extend {@link WaitNode}, which records the node's slot, so a cancelled waiter is taken out at once:
 * its slot becomes a hole, which shift skips and the next resize reclaims, and the node is no longer referenced.
 *
 * Why not a linked list: a queue of thousands of young waiters chained by `next`/`prev` pointers is slow to
 * scavenge (the collector can only follow the chain one node at a time) and every link write goes through the
 * write barrier. Measured with 10k contending tasks, a doubly linked queue cost 2.9x a ring buffer of closures and
 * a singly linked one 1.9x, and a ring of waiter objects like this one 1.2x.
 *
 * A queue may also hold plain functions ({@link FixedEntry}): entries that are never removed, only shifted, so the
 * queue records no slot in them. The common waiter of a lock is just its promise's resolve function: no object of
 * its own to allocate, and nothing whose layout V8 could drop between bursts (see `internal/permit.ts`).
 */
export class WaitNode {
  /** @internal The node's slot in the ring of the queue holding it; -1 when not queued. */
  queueIndex = -1;
}

/** An entry that can only leave the queue from its head: a function, in which the queue records nothing. */
export type FixedEntry = (value: never) => void;

/** Whether `entry` is a removable node (which records its slot) rather than a {@link FixedEntry}. */
function isNode(entry: WaitNode | FixedEntry): entry is WaitNode {
  return typeof entry === 'object';
}

/** The ring's size once something is queued. */
const MIN_CAPACITY = 16;
/** An emptied ring keeps its size up to here, so a queue that fills and empties again does not regrow every time. */
const SHRINK_ABOVE = 1024;

/** The ring of a queue that never held anything: a lock per key costs no ring until someone waits for it. */
const NO_SLOTS: never[] = [];

export class WaitQueue<N extends WaitNode | FixedEntry> {
  private slots: (N | undefined)[] = NO_SLOTS;
  /** The first slot in use; it holds a node whenever the queue is not empty. */
  private head = 0;
  /** Slots in use from `head` on, holes left by removed nodes included. */
  private span = 0;
  /** Number of nodes queued. */
  length = 0;

  push(node: N): void {
    if (this.span === this.slots.length) this.resize();
    const index = (this.head + this.span) & (this.slots.length - 1);
    this.slots[index] = node;
    if (isNode(node)) node.queueIndex = index;
    this.span++;
    this.length++;
  }

  /** Removes and returns the oldest node. */
  shift(): N | undefined {
    if (this.length === 0) return undefined;
    const node = this.slots[this.head]!;
    this.slots[this.head] = undefined;
    if (isNode(node)) node.queueIndex = -1;
    this.length--;
    this.dropHead();
    return node;
  }

  /** The oldest node, left in place. */
  peek(): N | undefined {
    return this.length === 0 ? undefined : this.slots[this.head];
  }

  /** The node after `node` (which must be queued here), for walking the queue in order. */
  after(node: N & WaitNode): N | undefined {
    const mask = this.slots.length - 1;
    for (let offset = ((node.queueIndex - this.head) & mask) + 1; offset < this.span; offset++) {
      const next = this.slots[(this.head + offset) & mask];
      if (next !== undefined) return next;
    }
    return undefined;
  }

  /** Takes `node` out if it is queued here; returns whether it was. */
  remove(node: N & WaitNode): boolean {
    const index = node.queueIndex;
    if (index < 0 || this.slots[index] !== node) return false;
    this.slots[index] = undefined;
    node.queueIndex = -1;
    this.length--;
    if (index === this.head) this.dropHead();
    return true;
  }

  /** Takes every node out and returns them oldest first. */
  drain(): N[] {
    const nodes: N[] = [];
    for (let node = this.shift(); node !== undefined; node = this.shift()) nodes.push(node);
    return nodes;
  }

  /** The head slot was just emptied: moves `head` to the next node, past any holes. */
  private dropHead(): void {
    if (this.length === 0) {
      this.reset();
      return;
    }
    const mask = this.slots.length - 1;
    let head = this.head;
    let span = this.span;
    do {
      head = (head + 1) & mask;
      span--;
    } while (this.slots[head] === undefined);
    this.head = head;
    this.span = span;
  }

  /** Empty: every slot is a hole already. */
  private reset(): void {
    this.head = this.span = 0;
    if (this.slots.length > SHRINK_ABOVE) this.slots = NO_SLOTS;
  }

  /**
   * The ring is full up to its last slot: moves the nodes, in order and without holes, into a ring at least twice
   * their number (so it grows when full, and only compacts when holes took the room).
   */
  private resize(): void {
    let capacity = MIN_CAPACITY;
    while (capacity < this.length * 2) capacity *= 2;
    const slots = new Array<N | undefined>(capacity);
    const mask = this.slots.length - 1;
    let count = 0;
    for (let offset = 0; offset < this.span; offset++) {
      const node = this.slots[(this.head + offset) & mask];
      if (node === undefined) continue;
      if (isNode(node)) node.queueIndex = count;
      slots[count++] = node;
    }
    this.slots = slots;
    this.head = 0;
    this.span = count;
  }
}
