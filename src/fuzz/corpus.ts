/**
 * The failure corpus (like Hypothesis's example database): every failing, shrunk case is saved
 * as JSON under `<dir>/<kernel>/` and replayed first on the next run.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One saved failure. */
export interface CorpusEntry {
  /** Kernel name. */
  kernel: string;
  /** Law name. */
  law: string;
  /** Seed and path that found it. */
  seed: number;
  /** fast-check path. */
  path?: string;
  /** The failure message. */
  message?: string;
  /** The input, typed arrays encoded as `{ $f64: [...] }`. */
  value: unknown;
}

/** The default corpus folder. */
export const DEFAULT_CORPUS = '.varcheck/corpus';

function encode(v: unknown): unknown {
  if (v instanceof Float64Array || v instanceof Float32Array) return { [v instanceof Float64Array ? '$f64' : '$f32']: Array.from(v) };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.$f64)) return Float64Array.from(o.$f64 as number[]);
    if (Array.isArray(o.$f32)) return Float32Array.from(o.$f32 as number[]);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

function folder(dir: string, kernel: string): string {
  return join(dir, kernel.replace(/[^A-Za-z0-9._@-]+/g, '_'));
}

/** Save a failure; returns the file written (named by a hash of the input, so re-finds do not pile up). */
export function saveFailure(dir: string, entry: CorpusEntry): string {
  const f = folder(dir, entry.kernel);
  mkdirSync(f, { recursive: true });
  const body = { ...entry, value: encode(entry.value) };
  const hash = createHash('sha256')
    .update(JSON.stringify([entry.law, body.value]))
    .digest('hex')
    .slice(0, 16);
  const file = join(f, `${hash}.json`);
  writeFileSync(file, `${JSON.stringify(body)}\n`);
  return file;
}

/** Every saved failure of `kernel` (decoded), oldest first. */
export function loadFailures(dir: string, kernel: string): CorpusEntry[] {
  const f = folder(dir, kernel);
  if (!existsSync(f)) return [];
  return readdirSync(f)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => {
      const e = JSON.parse(readFileSync(join(f, n), 'utf8')) as CorpusEntry;
      return { ...e, value: decode(e.value) };
    });
}
