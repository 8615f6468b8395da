/** Hashes `rounds` integers starting at `seed`; returns a 32-bit checksum so the work cannot be optimised away. */
export function hashRounds(seed: number, rounds: number): number;
