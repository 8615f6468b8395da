// Fails when a public symbol of the API docs has no `@example`: every class, function, interface, type alias,
// variable, method and accessor the typedoc JSON lists (inherited members are checked where they are declared).
//   typedoc --json .cache/api.json && node scripts/check-api-examples.mjs
import { readFileSync } from 'node:fs';

const KINDS = new Map([
  [32, 'variable'],
  [64, 'function'],
  [128, 'class'],
  [256, 'interface'],
  [2048, 'method'],
  [262144, 'accessor'],
  [2097152, 'type alias'],
]);
const api = JSON.parse(readFileSync(process.argv[2] ?? '.cache/api.json', 'utf8'));
const hasExample = (comment) => comment?.blockTags?.some((tag) => tag.tag === '@example') ?? false;
const missing = [];

function walk(reflection, path) {
  for (const child of reflection.children ?? []) {
    if (child.variant === 'reference') continue;
    const name = path ? `${path}.${child.name}` : child.name;
    const signatures = child.signatures ?? (child.getSignature ? [child.getSignature] : []);
    const documented = hasExample(child.comment) || signatures.some((s) => hasExample(s.comment));
    if (KINDS.has(child.kind) && !documented && !child.flags?.isInherited) {
      missing.push(`${name} (${KINDS.get(child.kind)})`);
    }
    if (child.kind === 2 || child.kind === 128) walk(child, name);
  }
}

walk(api, '');
if (missing.length > 0) {
  console.error(`public symbols without an @example (${missing.length}):\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log('api examples: every public symbol has an @example');
