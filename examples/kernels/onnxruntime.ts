/**
 * Exact attention in onnxruntime-node (CPU execution provider), float32: a MatMul–Softmax–MatMul
 * ONNX graph built here with onnx-proto, O = softmax(s·Q·Kᵀ)·V, with symbolic Lq and Lk and the
 * scale fed as an input, so one session per head shape (d, d_v) serves every input. Unmasked
 * only. A correct kernel: `varcheck fuzz` must pass it on every seed (bench/false-alarms.bench.ts).
 *
 *   npx varcheck fuzz examples/kernels/onnxruntime.ts
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { AttentionKernel, AttentionInput, Matrix } from 'varcheck';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function valueInfo(name: string, dims: (number | string)[]) {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** The ONNX model for head dims d and d_v: inputs Q (Lq×d), K (Lk×d), V (Lk×d_v), scale (scalar). */
function attentionModel(d: number, dv: number): Uint8Array {
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
      input: [valueInfo('Q', ['Lq', d]), valueInfo('K', ['Lk', d]), valueInfo('V', ['Lk', dv]), valueInfo('scale', [])],
      output: [valueInfo('O', ['Lq', dv])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(d: number, dv: number): Promise<ort.InferenceSession> {
  const key = `${d}x${dv}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(attentionModel(d, dv));
    sessions.set(key, s);
  }
  return s;
}

async function run({ q, k, v, scale, mask }: AttentionInput): Promise<Matrix> {
  if (mask.kind !== 'none') throw new Error(`onnxruntime example: mask ${mask.kind} is not supported (masks: ['none'])`);
  const d = q.cols;
  const dv = v.cols;
  const s = await session(d, dv);
  const out = await s.run({
    Q: new ort.Tensor('float32', Float32Array.from(q.data), [q.rows, d]),
    K: new ort.Tensor('float32', Float32Array.from(k.data), [k.rows, d]),
    V: new ort.Tensor('float32', Float32Array.from(v.data), [k.rows, dv]),
    scale: new ort.Tensor('float32', Float32Array.of(scale), []),
  });
  return { rows: q.rows, cols: dv, data: Float64Array.from(out.O.data as Float32Array) };
}

const onnxruntimeAttention: AttentionKernel = {
  name: 'example/onnxruntime-float32',
  op: 'attention',
  exact: true,
  masks: ['none'],
  precision: 'float32',
  run,
  dispose() {
    for (const s of sessions.values()) void s.then((x) => x.release());
    sessions.clear();
  },
};

export default onnxruntimeAttention;
