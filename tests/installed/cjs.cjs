// Every subpath loads from CommonJS with the same export names as from ESM (esm.mjs prints those on stdin).
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');

const esmNames = JSON.parse(readFileSync(0, 'utf8'));
for (const [subpath, names] of Object.entries(esmNames)) {
  const mod = require(subpath);
  const cjsNames = Object.keys(mod)
    .filter((n) => n !== 'default')
    .sort();
  assert.deepEqual(cjsNames, names, `${subpath}: CommonJS exports differ from ESM`);
}
const { ClosedError } = require('weftjs');
const { PoolClosedError } = require('weftjs/pool');
assert.ok(new PoolClosedError() instanceof ClosedError);
console.log(`cjs: ${Object.keys(esmNames).length} subpaths`);
