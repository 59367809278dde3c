/**
 * The peer baseline: exact attention in onnxruntime-node (CPU), as a MatMul–Softmax–MatMul
 * graph built here with onnx-proto: O = softmax(s·Q·Kᵀ)·V, float32, symbolic L. Block-causal
 * attention runs it once per scale block — the block's queries against its key prefix — which
 * is exactly the mask of docs/math.md §2 with no masked work.
 *
 * onnxruntime-node is loaded at run time, not bundled (it is a native addon): from
 * `VARCHECK_ORT_DIR` (a directory holding `onnxruntime-node/` and `onnxruntime-common/`, as
 * bench/pack-h100.sh ships it to the GPU machine) or from node_modules.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/* The members of onnxruntime-node used here. */
interface Ort {
  InferenceSession: { create(model: Uint8Array, options?: object): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>> }> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

let ortModule: Promise<Ort> | undefined;

/** Load onnxruntime-node (see the module note); rejects when it is not installed. */
export function loadOrt(): Promise<Ort> {
  ortModule ??= (async () => {
    const dir = process.env.VARCHECK_ORT_DIR;
    const spec = dir ? pathToFileURL(join(dir, 'onnxruntime-node', 'dist', 'index.js')).href : 'onnxruntime-node';
    const m = (await import(/* @vite-ignore */ spec)) as Ort & { default?: Ort };
    return m.InferenceSession ? m : (m.default as Ort);
  })();
  return ortModule;
}

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** onnxruntime session options used here: intra-op threads (default: onnxruntime's, one per core). */
export interface OnnxOptions {
  /** Threads for one operator; 1 compares against a single-core kernel on equal terms. */
  intraOpNumThreads?: number;
}

/** An onnxruntime session computing exact attention for head dims d, d_v and scale s. */
export async function onnxAttention(
  d: number,
  dv: number,
  scale: number,
  options: OnnxOptions = {},
): Promise<(q: Float32Array, k: Float32Array, v: Float32Array, lq: number, lk: number) => Promise<Float32Array>> {
  const ort = await loadOrt();
  const A = onnx.AttributeProto.AttributeType;
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'attention',
      node: [
        { opType: 'Transpose', input: ['K'], output: ['KT'], attribute: [{ name: 'perm', type: A.INTS, ints: [1, 0] }] },
        { opType: 'MatMul', input: ['Q', 'KT'], output: ['S'] },
        { opType: 'Mul', input: ['S', 'scale'], output: ['Z'] },
        { opType: 'Softmax', input: ['Z'], output: ['P'], attribute: [{ name: 'axis', type: A.INT, i: -1 }] },
        { opType: 'MatMul', input: ['P', 'V'], output: ['O'] },
      ],
      initializer: [{ name: 'scale', dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [scale] }],
      input: [valueInfo('Q', ['Lq', d]), valueInfo('K', ['Lk', d]), valueInfo('V', ['Lk', dv])],
      output: [valueInfo('O', ['Lq', dv])],
    },
  });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {});
  return async (q, k, v, lq, lk) => {
    const out = await session.run({
      Q: new ort.Tensor('float32', q, [lq, d]),
      K: new ort.Tensor('float32', k, [lk, d]),
      V: new ort.Tensor('float32', v, [lk, dv]),
    });
    return out.O.data as Float32Array;
  };
}

/**
 * Exact block-causal attention in onnxruntime: one session run per scale block (the block's
 * rows of Q against the key prefix that ends with the block). Q, K, V are row-major float32.
 */
export async function onnxBlockCausal(
  d: number,
  dv: number,
  scale: number,
  options: OnnxOptions = {},
): Promise<(q: Float32Array, k: Float32Array, v: Float32Array, blocks: readonly number[]) => Promise<Float32Array>> {
  const run = await onnxAttention(d, dv, scale, options);
  return async (q, k, v, blocks) => {
    const L = blocks.reduce((a, b) => a + b, 0);
    const out = new Float32Array(L * dv);
    let start = 0;
    for (const b of blocks) {
      const end = start + b;
      const o = await run(q.subarray(start * d, end * d), k.subarray(0, end * d), v.subarray(0, end * dv), b, end);
      out.set(o, start * dv);
      start = end;
    }
    return out;
  };
}
