/**
 * The page-boundary codec: every float64 value crosses exactly (NaN, ±0, ±∞, subnormals, float32
 * values widened), on the Node path (Buffer) and on the browser's fallback path (atob/btoa).
 */
import { describe, expect, it } from 'vitest';
import { decodeFloat64, encodeFloat64, jsLiteral, toWire } from './wire.js';

const SPECIAL = [0, -0, 1, -1, Math.PI, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, Number.MAX_VALUE, Infinity, -Infinity, NaN, 1e-300, 0.1];

function sameBits(a: Float64Array, b: Float64Array): void {
  expect(b.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) expect(Object.is(a[i], b[i])).toBe(true);
}

describe('wire codec', () => {
  it('round-trips float64 values bit for bit', () => {
    const a = Float64Array.from([...SPECIAL, ...Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 40) - 20))]);
    sameBits(a, decodeFloat64(encodeFloat64(a)));
  });

  it('widens float32 entries exactly and reads a subarray at an offset', () => {
    const f = Float32Array.from([1.1, -2.5e-40, 3e38, NaN]);
    sameBits(Float64Array.from(f), decodeFloat64(encodeFloat64(f)));
    const big = Float64Array.from({ length: 20 }, (_, i) => i + 0.5);
    sameBits(big.subarray(3, 11), decodeFloat64(encodeFloat64(big.subarray(3, 11))));
  });

  it('handles empty data and matrices', () => {
    expect(decodeFloat64(encodeFloat64(new Float64Array(0))).length).toBe(0);
    const w = toWire({ rows: 2, cols: 3, data: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    expect([w.rows, w.cols]).toEqual([2, 3]);
    expect(Array.from(decodeFloat64(w.data))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('the browser fallback (no Buffer, no Uint8Array.fromBase64) decodes what Node encoded, and the reverse', () => {
    const a = Float64Array.from([...SPECIAL, ...Array.from({ length: 70_000 }, (_, i) => i / 7)]);
    const text = encodeFloat64(a);
    const hide = [
      [globalThis, 'Buffer'],
      [Uint8Array, 'fromBase64'],
      [Uint8Array.prototype, 'toBase64'],
    ] as const;
    const saved = hide.map(([o, k]) => Object.getOwnPropertyDescriptor(o, k));
    try {
      // The page's path where the browser has no Uint8Array base64 methods (and Node's Buffer is absent).
      for (const [o, k] of hide) delete (o as Record<string, unknown>)[k];
      sameBits(a, decodeFloat64(text));
      expect(encodeFloat64(a)).toBe(text);
    } finally {
      hide.forEach(([o, k], i) => saved[i] && Object.defineProperty(o, k, saved[i]));
    }
  });

  it('rejects text that is not whole float64 entries', () => {
    expect(() => decodeFloat64('AAAA')).toThrow(RangeError);
  });
  it('jsLiteral evaluates back to the value, NaN, ±∞ and −0 included', () => {
    const value = { name: 'k"\\n', scale: NaN, xs: [Infinity, -Infinity, -0, 0, 1e-300, 0.1], mask: { kind: 'block-causal', blocks: [1, 4] }, none: null, off: undefined };
    const back = new Function(`return (${jsLiteral(value)})`)() as typeof value;
    expect(Object.keys(back)).toEqual(['name', 'scale', 'xs', 'mask', 'none']);
    expect(back.name).toBe(value.name);
    expect(back.scale).toBeNaN();
    back.xs.forEach((x, i) => expect(Object.is(x, value.xs[i])).toBe(true));
    expect(back.mask).toEqual(value.mask);
    expect(back.none).toBeNull();
    expect(() => jsLiteral(() => 1)).toThrow(/cannot send a function/);
  });
  it('jsLiteral writes each string, keys excepted, as stringSource says (an expression fetching a string sent ahead)', () => {
    const sent = new Map<string, string>();
    const source = jsLiteral({ q: { rows: 1, data: 'AAAA' }, name: 'k' }, (s) => {
      sent.set(`id${sent.size}`, s);
      return `take(${JSON.stringify(`id${sent.size - 1}`)})`;
    });
    expect([...sent.values()]).toEqual(['AAAA', 'k']);
    const back = new Function('take', `return (${source})`)((id: string) => sent.get(id)) as unknown;
    expect(back).toEqual({ q: { rows: 1, data: 'AAAA' }, name: 'k' });
  });
});
