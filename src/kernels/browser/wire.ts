/**
 * How matrices cross the page boundary between the Node driver and the Chromium page: the bytes of
 * a Float64Array as one base64 string. Playwright serializes a plain array number by number (an
 * object per entry), which cost seconds per call on the battery's large inputs; one string costs
 * milliseconds. Every float64 value — and so every float32 value, widened — crosses exactly (both
 * ends run on the same machine, so the byte order is the same). Used on both sides: Node (Buffer)
 * and the page (`Uint8Array.fromBase64` / `toBase64` where the browser has them, else atob/btoa).
 * @module
 */

/** A matrix as it crosses the page boundary: its entries as {@link encodeFloat64} text. */
export interface WireMatrix {
  rows: number;
  cols: number;
  /** Base64 of the float64 entries, row-major. */
  data: string;
}

interface Base64Bytes {
  toBase64?(): string;
}
interface Base64Ctor {
  fromBase64?(s: string): Uint8Array;
}
interface NodeBufferCtor {
  from(data: ArrayBufferLike | string, byteOffsetOrEncoding?: number | string, length?: number): Uint8Array & { toString(encoding: string): string };
}

// Looked up per call: Node has Buffer, the page has neither it nor (before Chromium 140) Uint8Array.fromBase64.
const nodeBuffer = (): NodeBufferCtor | undefined => (globalThis as unknown as { Buffer?: NodeBufferCtor }).Buffer;
const text = globalThis as unknown as { atob(s: string): string; btoa(s: string): string };

/** Base64 of the entries as float64 bytes (float32 entries are widened, exactly). */
export function encodeFloat64(a: ArrayLike<number>): string {
  const f = a instanceof Float64Array ? a : Float64Array.from(a);
  const bytes = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  if (typeof (bytes as Base64Bytes).toBase64 === 'function') return (bytes as Base64Bytes).toBase64!();
  const buffer = nodeBuffer();
  if (buffer) return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return text.btoa(s);
}

/** The Float64Array that {@link encodeFloat64} encoded (a fresh, aligned copy). */
export function decodeFloat64(s: string): Float64Array {
  let bytes: Uint8Array;
  const from = (Uint8Array as unknown as Base64Ctor).fromBase64;
  const buffer = nodeBuffer();
  if (typeof from === 'function') bytes = from.call(Uint8Array, s);
  else if (buffer) bytes = buffer.from(s, 'base64');
  else {
    const bin = text.atob(s);
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  }
  if (bytes.byteLength % 8 !== 0) throw new RangeError(`a wire matrix has ${bytes.byteLength} bytes, not a whole number of float64 entries`);
  const out = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** A matrix (or any rows × cols entries) ready to cross. */
export function toWire(m: { rows: number; cols: number; data: ArrayLike<number> }): WireMatrix {
  return { rows: m.rows, cols: m.cols, data: encodeFloat64(m.data) };
}

/**
 * `value` as JavaScript source text that evaluates to an equal value: JSON, except that NaN, ±Infinity
 * and −0 stay what they are (JSON would turn them into null and 0) and undefined object members are
 * dropped. Each string becomes `stringSource(s)` (default: its JSON), which may instead return an
 * expression that evaluates to s — e.g. one that fetches a long string sent ahead in pieces. For the
 * calls into the page, which cross as one expression (./chromium.ts).
 */
export function jsLiteral(value: unknown, stringSource: (s: string) => string = JSON.stringify): string {
  const literal = (x: unknown): string => {
    if (typeof x === 'number') return Object.is(x, -0) ? '-0' : Number.isFinite(x) ? JSON.stringify(x) : String(x);
    if (x === undefined) return 'undefined';
    if (typeof x === 'string') return stringSource(x);
    if (x === null || typeof x === 'boolean') return JSON.stringify(x);
    if (Array.isArray(x)) return `[${x.map(literal).join(',')}]`;
    if (typeof x === 'object')
      return `{${Object.entries(x)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${JSON.stringify(k)}:${literal(v)}`)
        .join(',')}}`;
    throw new TypeError(`cannot send a ${typeof x} into the page`);
  };
  return literal(value);
}

/**
 * JSON text of a result crossing back from the page with its non-finite numbers kept (JSON and the
 * DevTools protocol's by-value results turn a nested ±Infinity or NaN into null; a law's worst
 * error can be +∞). Read with {@link fromJsonText}.
 */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
}

/** The value of {@link toJsonText} text. */
export function fromJsonText(textValue: string): unknown {
  return JSON.parse(textValue, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && Object.keys(v).length === 1 && typeof (v as { $number?: unknown }).$number === 'string' ? Number((v as { $number: string }).$number) : v,
  );
}
