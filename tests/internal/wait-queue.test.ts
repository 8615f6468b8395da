import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WaitNode, WaitQueue } from '../../src/internal/wait-queue.js';

class Item extends WaitNode {
  constructor(readonly id: number) {
    super();
  }
}

function ids(queue: WaitQueue<Item>): number[] {
  const out: number[] = [];
  for (let node = queue.peek(); node !== undefined; node = queue.after(node)) out.push(node.id);
  return out;
}

describe('WaitQueue', () => {
  it('is FIFO', () => {
    const q = new WaitQueue<Item>();
    for (let i = 0; i < 5; i++) q.push(new Item(i));
    expect(q.length).toBe(5);
    expect([q.shift()?.id, q.shift()?.id]).toEqual([0, 1]);
    expect(ids(q)).toEqual([2, 3, 4]);
  });

  it('removes a node from the head, middle and tail in O(1) and only once', () => {
    const q = new WaitQueue<Item>();
    const items = [0, 1, 2, 3, 4].map((i) => new Item(i));
    for (const item of items) q.push(item);
    expect(q.remove(items[2]!)).toBe(true);
    expect(q.remove(items[2]!)).toBe(false);
    expect(q.remove(items[0]!)).toBe(true);
    expect(q.remove(items[4]!)).toBe(true);
    expect(ids(q)).toEqual([1, 3]);
    expect(q.length).toBe(2);
    q.push(new Item(5));
    expect(ids(q)).toEqual([1, 3, 5]);
  });

  it('drains oldest first and leaves the nodes unlinked', () => {
    const q = new WaitQueue<Item>();
    const items = [0, 1, 2].map((i) => new Item(i));
    for (const item of items) q.push(item);
    expect(q.drain().map((i) => i.id)).toEqual([0, 1, 2]);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(items.every((i) => i.queueIndex === -1)).toBe(true);
  });

  it('reclaims the holes removed nodes leave, and shrinks once emptied', () => {
    const q = new WaitQueue<Item>();
    const capacity = (): number => (q as unknown as { slots: unknown[] }).slots.length;
    const items = Array.from({ length: 5000 }, (_, i) => new Item(i));
    for (const item of items) q.push(item);
    // Remove all but every 100th from the middle: the ring keeps its size, with holes.
    for (const item of items) if (item.id % 100 !== 0) q.remove(item);
    expect(q.length).toBe(50);
    expect(ids(q)).toEqual(items.filter((i) => i.id % 100 === 0).map((i) => i.id));
    // 9000 pushes in all, yet the ring does not grow: once full up to its last slot, it compacts.
    const before = capacity();
    for (let i = 0; i < 4000; i++) q.push(new Item(5000 + i));
    expect(capacity()).toBe(before);
    expect(ids(q)).toEqual([
      ...items.filter((i) => i.id % 100 === 0).map((i) => i.id),
      ...Array.from({ length: 4000 }, (_, i) => 5000 + i),
    ]);
    while (q.shift() !== undefined);
    expect(capacity()).toBeLessThanOrEqual(1024);
  });

  it('walks the queue across the ring boundary', () => {
    const q = new WaitQueue<Item>();
    let next = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 7; i++) q.push(new Item(next++));
      for (let i = 0; i < 5; i++) q.shift();
    }
    expect(ids(q)).toEqual(Array.from({ length: 80 }, (_, i) => next - 80 + i));
  });

  it('matches an array model under random push/shift/remove', () => {
    type Op = { kind: 'push' } | { kind: 'shift' } | { kind: 'remove'; pick: number };
    const op = fc.oneof(
      { arbitrary: fc.constant<Op>({ kind: 'push' }), weight: 3 },
      { arbitrary: fc.constant<Op>({ kind: 'shift' }), weight: 1 },
      { arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'remove', pick })), weight: 2 },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new WaitQueue<Item>();
        const model: Item[] = [];
        const all: Item[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const item = new Item(next++);
            all.push(item);
            model.push(item);
            q.push(item);
          } else if (o.kind === 'shift') {
            expect(q.shift()).toBe(model.splice(0, 1)[0]);
          } else if (all.length > 0) {
            const item = all[o.pick % all.length]!;
            const at = model.indexOf(item);
            expect(q.remove(item)).toBe(at >= 0);
            if (at >= 0) model.splice(at, 1);
          }
          expect(q.length).toBe(model.length);
          expect(q.peek()).toBe(model[0]);
        }
        expect(ids(q)).toEqual(model.map((i) => i.id));
        expect(all.filter((i) => i.queueIndex >= 0)).toEqual(model);
      }),
    );
  });
});
