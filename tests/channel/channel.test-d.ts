import { describe, expectTypeOf, it } from 'vitest';
import {
  Channel,
  channelFrom,
  mapChannel,
  mergeChannels,
  recv,
  select,
  send,
  ticker,
  type ChannelValue,
  type RecvCase,
  type SelectCase,
  type SelectDefault,
  type SelectResult,
  type SendCase,
  type TryReceiveResult,
} from '../../src/channel/index.js';

describe('Channel<T>', () => {
  it('types values end to end', () => {
    const ch = new Channel<number>(4);
    expectTypeOf<Parameters<Channel<number>['send']>[0]>().toEqualTypeOf<number>();
    expectTypeOf(ch.send(1)).toEqualTypeOf<Promise<void>>();
    expectTypeOf(ch.receive()).toEqualTypeOf<Promise<number>>();
    expectTypeOf<ReturnType<Channel<number>['trySend']>>().toEqualTypeOf<boolean>();
    expectTypeOf(ch.tryReceive()).toEqualTypeOf<TryReceiveResult<number>>();
    expectTypeOf(ch.size).toEqualTypeOf<number>();
    expectTypeOf(ch.capacity).toEqualTypeOf<number>();
    expectTypeOf(ch.closed).toEqualTypeOf<boolean>();
    expectTypeOf(ch).toMatchTypeOf<AsyncIterable<number>>();
    expectTypeOf(ch).toMatchTypeOf<AsyncDisposable>();
    expectTypeOf(ch.values({ signal: AbortSignal.timeout(1) })).toMatchTypeOf<AsyncIterable<number>>();
    // @ts-expect-error: a string is not a number
    void ch.send('one');
    // @ts-expect-error: an overflow policy must be one of the three
    new Channel<number>(1, { overflow: 'drop' });
  });

  it('narrows tryReceive on ok', () => {
    const ch = new Channel<string>(1);
    const result = ch.tryReceive();
    if (result.ok) expectTypeOf(result.value).toEqualTypeOf<string>();
    // @ts-expect-error: no value unless ok
    void result.value;
  });

  it('iterates with the element type', async () => {
    const ch = new Channel<{ id: number }>();
    for await (const item of ch) expectTypeOf(item).toEqualTypeOf<{ id: number }>();
  });

  it('is invariant in T: a Channel<number> is not a Channel<unknown> (you could send a string into it)', () => {
    expectTypeOf<Channel<number>>().not.toMatchTypeOf<Channel<unknown>>();
    expectTypeOf<Channel<number>>().not.toMatchTypeOf<Channel<string>>();
  });
});

describe('select', () => {
  it('types a literal tuple of cases per index', async () => {
    const numbers = new Channel<number>();
    const names = new Channel<string>();
    const log = new Channel<string>(8);
    const result = await select([recv(numbers), recv(names), send(log, 'x')]);
    expectTypeOf(result.index).toEqualTypeOf<0 | 1 | 2>();
    if (result.index === 0) {
      if (result.ok) expectTypeOf(result.value).toEqualTypeOf<number>();
      else expectTypeOf(result.value).toEqualTypeOf<undefined>();
    }
    if (result.index === 1 && result.ok) expectTypeOf(result.value).toEqualTypeOf<string>();
    if (result.index === 2) {
      expectTypeOf(result.ok).toEqualTypeOf<true>();
      expectTypeOf(result.value).toEqualTypeOf<undefined>();
    }
    expectTypeOf(result).toMatchTypeOf<SelectResult>();
    expectTypeOf(result).toMatchTypeOf<{ index: number; value?: unknown; ok: boolean }>();
  });

  it('adds the default outcome only when default may be true', async () => {
    const ch = new Channel<number>();
    const blocking = await select([recv(ch)]);
    expectTypeOf(blocking.index).toEqualTypeOf<0>();
    const polled = await select([recv(ch)], { default: true });
    expectTypeOf(polled.index).toEqualTypeOf<0 | -1>();
    expectTypeOf<SelectDefault>().toMatchTypeOf<typeof polled>();
    const flag = Math.random() < 0.5;
    const maybe = await select([recv(ch)], { default: flag });
    expectTypeOf(maybe.index).toEqualTypeOf<0 | -1>();
    const notPolled = await select([recv(ch)], { default: false, timeout: 5 });
    expectTypeOf(notPolled.index).toEqualTypeOf<0>();
  });

  it('accepts arrays of unknown length, typed by what they hold', async () => {
    const channels = [new Channel<number>(), new Channel<number>()];
    const result = await select(channels.map((ch) => recv(ch)));
    expectTypeOf(result.index).toEqualTypeOf<number>();
    if (result.ok) expectTypeOf(result.value).toEqualTypeOf<number>();
    const anyCases: SelectCase<any>[] = [recv(new Channel<string>()), send(new Channel<Date>(), new Date())];
    const general = await select(anyCases);
    expectTypeOf(general).toMatchTypeOf<SelectResult>();
  });

  it('accepts channels of any element type, including never and void', async () => {
    const stop = new Channel<never>();
    const quit = new Channel<void>();
    const data = new Channel<bigint>();
    const result = await select([recv(stop), recv(quit), recv(data)]);
    if (result.index === 0 && result.ok) expectTypeOf(result.value).toEqualTypeOf<never>();
    if (result.index === 1 && result.ok) expectTypeOf(result.value).toEqualTypeOf<void>();
    expectTypeOf(mergeChannels([stop, data])).toEqualTypeOf<Channel<bigint>>();
  });

  it('types the case constructors', () => {
    const ch = new Channel<number>();
    expectTypeOf(recv(ch)).toEqualTypeOf<RecvCase<number>>();
    expectTypeOf(send(ch, 1)).toEqualTypeOf<SendCase<number>>();
    expectTypeOf(recv(ch)).toMatchTypeOf<SelectCase<number>>();
    expectTypeOf(send(ch, 1)).toMatchTypeOf<SelectCase<void>>();
    // @ts-expect-error: the value must fit the channel
    send(ch, 'x');
  });
});

describe('pipeline helpers', () => {
  it('carry the value types through', () => {
    expectTypeOf(channelFrom([1, 2])).toEqualTypeOf<Channel<number>>();
    expectTypeOf(channelFrom([Promise.resolve('a')])).toEqualTypeOf<Channel<string>>();
    async function* gen() {
      yield new Date();
    }
    expectTypeOf(channelFrom(gen())).toEqualTypeOf<Channel<Date>>();
    const merged = mergeChannels([new Channel<number>(), new Channel<string>()]);
    expectTypeOf(merged).toEqualTypeOf<Channel<number | string>>();
    expectTypeOf<ChannelValue<Channel<boolean>>>().toEqualTypeOf<boolean>();
    const lengths = mapChannel(new Channel<string>(), async (s, { signal }) => {
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      return s.length;
    });
    expectTypeOf(lengths).toEqualTypeOf<Channel<number>>();
    expectTypeOf(ticker(1000)).toEqualTypeOf<Channel<number>>();
  });
});
