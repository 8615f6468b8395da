/** Types of burn.mjs for the TypeScript benchmark suite. */
export declare function burn(iterations: number): number;
export declare function echo<T>(value: T): T;
