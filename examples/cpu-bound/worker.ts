/**
 * The worker side: plain functions, exposed to the pool. The same module is imported by main.ts to run the work
 * inline, where `expose()` does nothing.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { expose } from 'weftjs/worker';

/** What one buffer compresses to. */
export interface Summary {
  /** SHA-256 of the compressed bytes, hex. */
  sha256: string;
  /** Size after compression. */
  compressedBytes: number;
}

/** Compresses `data` (deflate, level 6) and hashes the result: pure CPU work, tens of ms per MiB. */
export function compress(data: Uint8Array): Summary {
  const packed = deflateSync(data, { level: 6 });
  return { sha256: createHash('sha256').update(packed).digest('hex'), compressedBytes: packed.byteLength };
}

expose({ compress });
