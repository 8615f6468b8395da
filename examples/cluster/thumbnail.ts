/** The CPU work of a job, run on a consumer's pool threads: make an "image" and compress and hash it. */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { expose } from 'weftjs/worker';

/** Compresses `size` bytes made from `id` and returns the SHA-256 of the result, hex. */
export function thumbnail(id: number, size: number): string {
  const image = new Uint8Array(size);
  for (let i = 0; i < size; i++) image[i] = (i * 31 + id * 7) & 0xff & (i % 97);
  return createHash('sha256')
    .update(deflateSync(image, { level: 9 }))
    .digest('hex');
}

expose({ thumbnail });
