/**
 * The differential oracle: a long-lived Python process running PyTorch in float64
 * (`tools/oracle/torch_oracle.py`) that answers one request at a time over stdin/stdout with
 * a binary float64 framing, so an L = 4096, d = 128 attention costs a few MiB of pipe and no
 * JSON number printing. properties/pytorch.test.ts judges the spec against it
 * (docs/guide-spec.md, "Judged by live PyTorch"; docs/math.md §7 for the operators).
 *
 * Framing (both directions, little-endian): `u32 header length | JSON header | float64 arrays`.
 * @module
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { VarcheckError } from '../../spec/errors.js';
import type { FeatureMap, Matrix } from '../../spec/matrix.js';

/** Why the oracle could not answer; stable across releases, safe to switch on. */
export type OracleErrorCode = 'PYTHON_MISSING' | 'TORCH_MISSING' | 'ORACLE_DIED' | 'ORACLE_DEADLINE' | 'ORACLE_REJECTED' | 'ORACLE_CLOSED';

/**
 * The PyTorch oracle failed: Python or torch is missing, the process died, it answered after
 * the deadline, it rejected the request, or it was already closed. `code` is stable;
 * `argument` names what to fix (`python`, `torch`, `request.op`, …).
 */
export class OracleError extends VarcheckError {
  static override readonly code: string = 'ORACLE';
  /** The stable reason, see {@link OracleErrorCode}. */
  readonly reason: OracleErrorCode;
  constructor(reason: OracleErrorCode, argument: string, message: string) {
    super(argument, `${message} [${reason}]`);
    this.reason = reason;
  }
  /** True when the oracle cannot run on this machine at all (laws are then inconclusive, not failed). */
  get unavailable(): boolean {
    return this.reason === 'PYTHON_MISSING' || this.reason === 'TORCH_MISSING';
  }
}

/** What the oracle reported when it started. */
export interface OracleInfo {
  /** The Python executable that answered. */
  python: string;
  /** Its version. */
  pythonVersion: string;
  /** `torch.__version__`. */
  torch: string;
  /** torch's intra-op threads (the server pins 1: results do not depend on the core count). */
  threads: number;
}

/** Options of {@link startOracle}. */
export interface OracleOptions {
  /** Python executables to try in order. @defaultValue `$VARCHECK_PYTHON`, then `python3`, then `/usr/bin/python3` */
  python?: readonly string[];
  /** Per-request deadline in milliseconds (also bounds the start-up hello). @defaultValue 60000 */
  deadlineMs?: number;
  /** The server script. @defaultValue tools/oracle/torch_oracle.py of this checkout */
  script?: string;
}

/** A request: an op name, scalar fields, and named float64 arrays. */
interface Request {
  op: string;
  fields: Record<string, unknown>;
  arrays: Record<string, ArrayLike<number>>;
}

/** A reply: the result's shape and its values. */
export interface OracleReply {
  /** PyTorch's output shape (HWC for feature maps, rows×cols for matrices). */
  shape: number[];
  /** The values, row-major. */
  data: Float64Array;
}

/** tools/oracle/torch_oracle.py seen from properties/oracle/ (sources) or dist/properties/oracle/ (the build). */
function defaultScript(): string {
  const candidates = ['../../tools/oracle/torch_oracle.py', '../../../tools/oracle/torch_oracle.py'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

function defaultPythons(): string[] {
  const env = process.env.VARCHECK_PYTHON;
  return env ? [env] : ['python3', '/usr/bin/python3'];
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** Encode one frame: u32 header length, JSON header, float64 payloads in header order. */
function encodeFrame(header: Record<string, unknown>, arrays: Record<string, ArrayLike<number>>): Buffer {
  const names = Object.keys(arrays);
  const json = JSON.stringify({ ...header, arrays: names.map((n) => [n, arrays[n].length]) });
  const jsonLength = Buffer.byteLength(json, 'utf8');
  const total = names.reduce((s, n) => s + 8 * arrays[n].length, 0);
  const buf = Buffer.allocUnsafe(4 + jsonLength + total);
  buf.writeUInt32LE(jsonLength, 0);
  buf.write(json, 4, 'utf8');
  let o = 4 + jsonLength;
  for (const n of names) {
    const a = arrays[n];
    if ((buf.byteOffset + o) % 8 === 0) {
      new Float64Array(buf.buffer, buf.byteOffset + o, a.length).set(a);
    } else {
      for (let i = 0; i < a.length; i++) buf.writeDoubleLE(a[i], o + 8 * i);
    }
    o += 8 * a.length;
  }
  return buf;
}

/**
 * A running oracle. One request is in flight at a time ({@link PyTorchOracle.call} queues);
 * a request that misses its deadline kills the process (the stream cannot be resynchronised),
 * and every later call rejects with the error that ended it (`ORACLE_DEADLINE`, `ORACLE_DIED`
 * or `ORACLE_CLOSED`).
 */
export class PyTorchOracle {
  /** What the server reported at start-up. */
  readonly info: OracleInfo;
  private readonly child: Child;
  private readonly deadlineMs: number;
  private chunks: Buffer[] = [];
  private pending = 0;
  private need = 4;
  private waiting: ((frame: { header: Record<string, unknown>; payload: Buffer } | OracleError) => void) | undefined;
  private dead: OracleError | undefined;
  private stderr = '';
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(child: Child, info: OracleInfo, deadlineMs: number, stderr: string) {
    this.child = child;
    this.info = info;
    this.deadlineMs = deadlineMs;
    this.stderr = stderr;
    child.stdout.on('data', (d: Buffer) => this.onData(d));
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4000);
    });
    child.on('exit', (code, signal) => this.fail(new OracleError('ORACLE_DIED', 'python', `the oracle process exited (code ${code}, signal ${signal}); stderr: ${this.stderr.trim() || '(empty)'}`)));
    child.on('error', (e) => this.fail(new OracleError('ORACLE_DIED', 'python', `the oracle process failed: ${e.message}`)));
    child.stdin.on('error', () => undefined);
  }

  /**
   * Spawn the server and wait for its hello, trying each Python in turn.
   * @throws {@link OracleError} `PYTHON_MISSING` when no Python starts, `TORCH_MISSING` when
   * none can import torch, `ORACLE_DEADLINE` when the hello is late.
   */
  static async start(options: OracleOptions = {}): Promise<PyTorchOracle> {
    const pythons = options.python ?? defaultPythons();
    const script = options.script ?? defaultScript();
    const deadlineMs = options.deadlineMs ?? 60_000;
    if (!existsSync(script)) throw new OracleError('ORACLE_CLOSED', 'options.script', `no oracle server at ${script}`);
    const reasons: string[] = [];
    let torchMissing = false;
    for (const python of pythons) {
      try {
        return await PyTorchOracle.startOne(python, script, deadlineMs);
      } catch (e) {
        if (!(e instanceof OracleError) || !e.unavailable) throw e;
        torchMissing ||= e.reason === 'TORCH_MISSING';
        reasons.push(e.message.replace(/^(python|torch): /, '').replace(/ \[[A-Z_]+\]$/, ''));
      }
    }
    throw new OracleError(
      torchMissing ? 'TORCH_MISSING' : 'PYTHON_MISSING',
      torchMissing ? 'torch' : 'python',
      `no Python with PyTorch found (install python3-torch, or set VARCHECK_PYTHON): ${reasons.join('; ')}`,
    );
  }

  private static startOne(python: string, script: string, deadlineMs: number): Promise<PyTorchOracle> {
    return new Promise((resolve, reject) => {
      let child: Child;
      try {
        child = spawn(python, ['-u', script], { stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (e) {
        reject(new OracleError('PYTHON_MISSING', 'python', `cannot spawn ${python}: ${String(e)}`));
        return;
      }
      let buf = Buffer.alloc(0);
      let stderr = '';
      let settled = false;
      const detach = (): void => {
        settled = true;
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stderr.removeAllListeners('data');
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
      };
      const finish = (e: OracleError): void => {
        if (settled) return;
        detach();
        child.kill('SIGKILL');
        reject(e);
      };
      const timer = setTimeout(() => finish(new OracleError('ORACLE_DEADLINE', 'python', `${python} did not say hello within ${deadlineMs} ms`)), deadlineMs);
      child.on('error', (e: NodeJS.ErrnoException) => finish(new OracleError('PYTHON_MISSING', 'python', e.code === 'ENOENT' ? `${python} not found` : `cannot start ${python}: ${e.message}`)));
      child.on('exit', (code) => {
        const tail = stderr.trim();
        finish(
          new OracleError(
            code === 3 ? 'TORCH_MISSING' : 'PYTHON_MISSING',
            code === 3 ? 'torch' : 'python',
            `${python} exited with code ${code} before the hello${tail ? `: ${tail.slice(-300)}` : ''}`,
          ),
        );
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
      });
      child.stdout.on('data', (d: Buffer) => {
        buf = concat([buf, d]);
        const frame = takeFrame(buf);
        if (!frame) return;
        buf = frame.rest;
        const h = frame.header;
        if (h.ok !== true) {
          finish(new OracleError('TORCH_MISSING', 'torch', `${python} cannot import torch: ${String(h.error)}`));
          return;
        }
        const info: OracleInfo = { python, pythonVersion: String(h.python), torch: String(h.torch), threads: Number(h.threads) };
        detach();
        const oracle = new PyTorchOracle(child, info, deadlineMs, stderr);
        resolve(oracle);
        if (buf.length > 0) oracle.onData(buf);
      });
    });
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.pending += d.length;
    if (this.pending < this.need) return;
    let buf = this.chunks.length === 1 ? this.chunks[0] : concat(this.chunks);
    this.chunks = [];
    this.pending = 0;
    for (;;) {
      const frame = takeFrame(buf);
      if (!frame) {
        this.need = buf.length < 4 ? 4 : 4 + buf.readUInt32LE(0);
        break;
      }
      const count = frame.header.ok === true ? Number(frame.header.count) : 0;
      if (frame.rest.length < 8 * count) {
        this.need = buf.length - frame.rest.length + 8 * count;
        break;
      }
      const payload = frame.rest.subarray(0, 8 * count);
      buf = frame.rest.subarray(8 * count);
      const w = this.waiting;
      this.waiting = undefined;
      w?.({ header: frame.header, payload });
    }
    if (buf.length > 0) {
      this.chunks.push(buf);
      this.pending = buf.length;
    }
  }

  private fail(e: OracleError): void {
    if (!this.dead) this.dead = e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(e);
  }

  /** The server's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Is the process still answering? */
  get alive(): boolean {
    return this.dead === undefined;
  }

  /**
   * Send one request and wait for its reply (calls are queued, one in flight).
   * @throws {@link OracleError} `ORACLE_REJECTED` (torch raised, or a malformed request),
   * `ORACLE_DEADLINE` (no answer within the deadline; the process is killed), `ORACLE_DIED`.
   */
  call(op: string, fields: Record<string, unknown>, arrays: Record<string, ArrayLike<number>>, deadlineMs = this.deadlineMs): Promise<OracleReply> {
    const run = this.queue.then(() => this.send({ op, fields, arrays }, deadlineMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private send(req: Request, deadlineMs: number): Promise<OracleReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<OracleReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const e = new OracleError('ORACLE_DEADLINE', `request.${req.op}`, `no answer within ${deadlineMs} ms (the oracle was killed)`);
        this.fail(e);
        this.child.kill('SIGKILL');
        reject(e);
      }, deadlineMs);
      this.waiting = (r) => {
        clearTimeout(timer);
        if (r instanceof OracleError) return reject(r);
        const h = r.header;
        if (h.id !== id) {
          const e = new OracleError('ORACLE_DIED', 'python', `answer ${String(h.id)} to request ${id}: the stream is out of step`);
          this.fail(e);
          this.child.kill('SIGKILL');
          return reject(e);
        }
        if (h.ok !== true) return reject(new OracleError('ORACLE_REJECTED', `request.${req.op}`, `${String(h.type)}: ${String(h.error)}`));
        const data = new Float64Array(Number(h.count));
        if (r.payload.byteOffset % 8 === 0) data.set(new Float64Array(r.payload.buffer, r.payload.byteOffset, data.length));
        else for (let i = 0; i < data.length; i++) data[i] = r.payload.readDoubleLE(8 * i);
        resolve({ shape: (h.shape as number[]).slice(), data });
      };
      this.child.stdin.write(encodeFrame({ ...req.fields, id, op: req.op }, req.arrays));
    });
  }

  /** Kill the process (idempotent); later calls reject with `ORACLE_CLOSED`. */
  close(): void {
    if (!this.dead) this.dead = new OracleError('ORACLE_CLOSED', 'oracle', 'the oracle was closed');
    this.child.stdin.end();
    this.child.kill('SIGKILL');
  }

  /** `F.interpolate(x, size=(h2, w2), mode='bicubic', align_corners=False)`, HWC in and out. */
  bicubic(x: FeatureMap, h2: number, w2: number): Promise<OracleReply> {
    return this.call('bicubic', { h: x.h, w: x.w, c: x.c, h2, w2 }, { x: x.data });
  }

  /** `F.interpolate(x, size=(h2, w2), mode='area')` (adaptive average pooling), HWC. */
  area(x: FeatureMap, h2: number, w2: number): Promise<OracleReply> {
    return this.call('area', { h: x.h, w: x.w, c: x.c, h2, w2 }, { x: x.data });
  }

  /** `F.interpolate(x, scale_factor=factor, mode='nearest')`, HWC. */
  nearest(x: FeatureMap, factor: number): Promise<OracleReply> {
    return this.call('nearest', { h: x.h, w: x.w, c: x.c, factor }, { x: x.data });
  }

  /**
   * softmax(scale·QKᵀ + mask)·V. `mask`: none; block-causal (VAR's additive −∞ bias built from
   * `blocks` by torch); or an arbitrary boolean L_q×L_k mask (1 = may attend). `rows`: only
   * these query rows (softmax is row-wise, so this equals those rows of the full result).
   */
  attention(
    q: Matrix,
    k: Matrix,
    v: Matrix,
    scale: number,
    mask: { kind: 'none' } | { kind: 'block-causal'; blocks: readonly number[] } | { kind: 'bool'; allowed: ArrayLike<number> },
    rows?: readonly number[],
  ): Promise<OracleReply> {
    const arrays: Record<string, ArrayLike<number>> = { q: q.data, k: k.data, v: v.data };
    if (mask.kind === 'bool') arrays.mask = mask.allowed;
    const m = mask.kind === 'bool' ? { kind: 'bool' } : mask;
    return this.call('attention', { lq: q.rows, lk: k.rows, d: q.cols, dv: v.cols, scale, mask: m, rows: rows ?? null }, arrays);
  }

  /** `F.conv2d(x, weight, bias, padding=1)` (or VAR's Phi, 0.5·x + 0.5·conv, when `phi`), HWC. */
  conv3x3(x: FeatureMap, conv: { cIn: number; cOut: number; weight: ArrayLike<number>; bias?: ArrayLike<number> }, phi = false): Promise<OracleReply> {
    const arrays: Record<string, ArrayLike<number>> = { x: x.data, weight: conv.weight };
    if (conv.bias) arrays.bias = conv.bias;
    return this.call(phi ? 'phi' : 'conv3x3', { h: x.h, w: x.w, cIn: conv.cIn, cOut: conv.cOut }, arrays);
  }

  /**
   * VAR's Phase 2 reconstruction Σ_k Φ(`F.interpolate(z_k, size=(n, n), mode='bicubic')`) with
   * Φ = ½x + ½conv3×3 (c → c), HWC token maps in, the n×n×c map out.
   */
  reconstruct(tokenMaps: readonly FeatureMap[], n: number, conv: { cIn: number; cOut: number; weight: ArrayLike<number>; bias?: ArrayLike<number> }): Promise<OracleReply> {
    const arrays: Record<string, ArrayLike<number>> = { weight: conv.weight };
    if (conv.bias) arrays.bias = conv.bias;
    tokenMaps.forEach((z, k) => {
      arrays[`z${k}`] = z.data;
    });
    return this.call('reconstruct', { n, cIn: conv.cIn, cOut: conv.cOut, sizes: tokenMaps.map((z) => [z.h, z.w]) }, arrays);
  }

  /**
   * The stylised single-head transformer layer (docs/math.md §7): H = X + softmax(scale·XW_Q(XW_K)ᵀ
   * + block-causal bias)·XW_V·W_O, then LN(H) + tanh(LN(H)·W₁)·W₂. `blocks` absent: no mask.
   */
  transformerLayer(x: Matrix, layer: { wq: Matrix; wk: Matrix; wv: Matrix; wo: Matrix; w1: Matrix; w2: Matrix; lnEps: number }, scale: number, blocks?: readonly number[]): Promise<OracleReply> {
    const { wq, wk, wv, wo, w1, w2 } = layer;
    return this.call(
      'transformer_layer',
      { L: x.rows, D: x.cols, H: w1.cols, eps: layer.lnEps, scale, blocks: blocks ?? null },
      { x: x.data, wq: wq.data, wk: wk.data, wv: wv.data, wo: wo.data, w1: w1.data, w2: w2.data },
    );
  }

  /** `F.layer_norm(x, (cols,), eps=eps)` without affine parameters, row-wise. */
  layerNorm(x: Matrix, eps: number): Promise<OracleReply> {
    return this.call('layernorm', { rows: x.rows, cols: x.cols, eps }, { x: x.data });
  }
}

/** The chunks back to back in a fresh Buffer (Buffer.concat's typing clashes with @types/node 20.9 under TypeScript 5.9). */
function concat(chunks: readonly Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    c.copy(out as unknown as Uint8Array, o);
    o += c.length;
  }
  return out;
}

/** Split one `u32 | JSON` frame header off `buf` (payload not consumed), or undefined if incomplete. */
function takeFrame(buf: Buffer): { header: Record<string, unknown>; rest: Buffer } | undefined {
  if (buf.length < 4) return undefined;
  const n = buf.readUInt32LE(0);
  if (buf.length < 4 + n) return undefined;
  return { header: JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as Record<string, unknown>, rest: buf.subarray(4 + n) };
}

/** Start the oracle: see {@link PyTorchOracle.start}. */
export function startOracle(options: OracleOptions = {}): Promise<PyTorchOracle> {
  return PyTorchOracle.start(options);
}
