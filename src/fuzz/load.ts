/**
 * Load a user's kernel module (.ts or .js, anywhere on disk) through tsx, and pick its kernels:
 * the default export (a kernel or an array of kernels) or a named export.
 *
 * tsx is registered process-wide (not `tsImport`, whose namespace gives every module the kernel
 * imports, varcheck included, a second instance): a kernel's `import … from 'varcheck'` is then
 * the very module instance the CLI runs (dist/), one copy at run time.
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import type { Kernel } from '../../spec/contract.js';
import { ContractError, validateKernel } from './contract.js';

let tsxRegistered: unknown;

/** The kernels a module exports (validated). */
export async function loadKernels(modulePath: string, exportName?: string): Promise<Kernel[]> {
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new ContractError('module', `no such file: ${file}`);
  tsxRegistered ??= register();
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const name = exportName ?? 'default';
  let value = mod[name];
  // A CommonJS module compiled by tsx may nest the default export.
  if (name === 'default' && value && typeof value === 'object' && 'default' in (value as object) && !('run' in (value as object))) value = (value as { default: unknown }).default;
  if (value === undefined) {
    throw new ContractError('module', `${modulePath} has no ${exportName ? `export named ${JSON.stringify(exportName)}` : 'default export'}; exports: ${Object.keys(mod).join(', ') || '(none)'}`);
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new ContractError('module', `${modulePath}: the export is an empty array`);
  return list.map((k, i) => validateKernel(k, Array.isArray(value) ? `${name}[${i}]` : name));
}
