/**
 * An intrusive doubly linked FIFO: O(1) push, shift and removal of any node, no allocation beyond the node itself.
 * Waiters extend {@link WaitNode}, so a cancelled waiter unlinks itself at once and leaves nothing behind.
 */
export class WaitNode {
  /** @internal */ prev: WaitNode | null = null;
  /** @internal */ next: WaitNode | null = null;
}

export class WaitQueue<N extends WaitNode> {
  private head: N | null = null;
  private tail: N | null = null;
  /** Number of nodes linked. */
  length = 0;

  push(node: N): void {
    node.next = null;
    node.prev = this.tail;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.length++;
  }

  /** Removes and returns the oldest node. */
  shift(): N | undefined {
    const node = this.head;
    if (node === null) return undefined;
    this.unlink(node);
    return node;
  }

  /** The oldest node, left in place. */
  peek(): N | undefined {
    return this.head ?? undefined;
  }

  /** The node after `node`, for walking the queue in order. */
  after(node: N): N | undefined {
    return (node.next as N | null) ?? undefined;
  }

  /** Whether `node` is linked into this queue. A node carries no flag: only the head has no `prev`. */
  has(node: N): boolean {
    return node.prev !== null || this.head === node;
  }

  /** Unlinks `node` if it is queued here; returns whether it was. */
  remove(node: N): boolean {
    if (node.prev === null && this.head !== node) return false;
    this.unlink(node);
    return true;
  }

  /** Unlinks every node and returns them oldest first. */
  drain(): N[] {
    const nodes: N[] = [];
    let node = this.head;
    while (node !== null) {
      const next = node.next as N | null;
      node.prev = node.next = null;
      nodes.push(node);
      node = next;
    }
    this.head = this.tail = null;
    this.length = 0;
    return nodes;
  }

  private unlink(node: N): void {
    const { prev, next } = node;
    if (prev === null) this.head = next as N | null;
    else prev.next = next;
    if (next === null) this.tail = prev as N | null;
    else next.prev = prev;
    node.prev = node.next = null;
    this.length--;
  }
}
