#!/usr/bin/env node
// The varcheck CLI runs its TypeScript sources through tsx (so it is never stale and can
// load users' .ts kernels), then exits with main()'s code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
