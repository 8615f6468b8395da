// Every subpath of the installed package's exports map loads from ESM.
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const manifest = JSON.parse(
  readFileSync(new URL('./node_modules/weftjs/package.json', import.meta.url), 'utf8'),
);
const subpaths = Object.keys(manifest.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'weftjs' : `weftjs/${key.slice(2)}`));

const names = {};
for (const subpath of subpaths) {
  const mod = await import(subpath);
  names[subpath] = Object.keys(mod)
    .filter((n) => n !== 'default')
    .sort();
  assert.ok(names[subpath].length > 0, `${subpath} exports nothing`);
}

const root = await import('weftjs');
const channel = await import('weftjs/channel');
assert.equal(channel.ChannelClosedError, root.ChannelClosedError, 'one ChannelClosedError class');
assert.ok(new channel.ChannelClosedError() instanceof root.ClosedError);

console.log(JSON.stringify(names));
