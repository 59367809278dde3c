#!/usr/bin/env node
// The varcheck CLI runs the compiled library in dist/ (the same copy a user's kernel gets from
// `import … from 'varcheck'`); tsx is used only to load a user's .ts kernel module
// (src/fuzz/load.ts). From a git clone, `npm ci` / `npm run build` (the `prepare` script) builds dist.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('varcheck: dist/ is missing (a git checkout that was not built): run `npm run build` first.');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exit(await main(process.argv.slice(2)));
