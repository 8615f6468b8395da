/** The channel guide quotes the pipeline example; the quotes must stay exactly what the example runs. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const guide = readFileSync(path.join(root, 'docs/guide/channel.md'), 'utf8');
const example = readFileSync(path.join(root, 'examples/pipeline/main.ts'), 'utf8');

describe('docs/guide/channel.md', () => {
  it('quotes examples/pipeline/main.ts verbatim', () => {
    const quoted = [
      ...guide.matchAll(/```ts\n((?:function buildPipeline|async function consume)[\s\S]*?)```/g),
    ].map((match) => match[1]!.trim());
    expect(quoted).toHaveLength(2);
    for (const block of quoted) expect(example).toContain(block);
  });
});
