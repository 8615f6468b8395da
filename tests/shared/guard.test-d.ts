/** Only taking the guard gives the token that the slot table's changing functions require. */
import { expectTypeOf, test } from 'vitest';
import { takeGuard, type Guarded } from '../../src/shared/guard.js';
import * as table from '../../src/shared/slot-table.js';

declare const s: Int32Array;
declare const events: table.SlotEvents;

test('the functions that change the memory take a Guarded token', () => {
  expectTypeOf(takeGuard).returns.toEqualTypeOf<Guarded>();
  expectTypeOf(table.grant).parameter(1).toEqualTypeOf<Guarded>();
  expectTypeOf(table.enqueue).parameter(1).toEqualTypeOf<Guarded>();
  expectTypeOf(table.freeSlot).parameter(1).toEqualTypeOf<Guarded>();
  expectTypeOf(table.rebuild).parameter(1).toEqualTypeOf<Guarded>();
  // A token cannot be made up.
  expectTypeOf<object>().not.toMatchTypeOf<Guarded>();
  // @ts-expect-error -- no guard taken
  table.grant(s, {}, events);
  // @ts-expect-error -- no guard taken
  table.unlink(s, undefined, 0);
});
