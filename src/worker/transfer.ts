/**
 * Marks a result (or a streamed value) whose listed objects move to the pool's thread instead of being copied.
 *
 * @param value - What the function returns or yields.
 * @param list - `ArrayBuffer`s, `MessagePort`s and other transferables inside `value`. They become unusable in the
 *   worker once sent.
 * @returns A marker the pool unwraps; typed as `value` so the typed proxy still sees the real result type.
 *
 * @example Returning a large buffer without copying it
 * ```ts
 * import { expose, transfer } from 'weftjs/worker';
 *
 * expose({
 *   render(width: number, height: number) {
 *     const pixels = new Uint8Array(width * height * 4);
 *     // ... fill pixels ...
 *     return transfer(pixels, [pixels.buffer]);
 *   },
 * });
 * ```
 */
export function transfer<T>(value: T, list: readonly Transferable[]): T {
  return new Transfer(value, list) as unknown as T;
}

/** The marker made by {@link transfer}. */
export class Transfer {
  constructor(
    readonly value: unknown,
    readonly list: readonly Transferable[],
  ) {}
}
