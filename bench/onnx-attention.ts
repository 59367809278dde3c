/**
 * The peer baseline: exact attention in onnxruntime-node (CPU), as a MatMul–Softmax–MatMul
 * graph built here with onnx-proto: O = softmax(s·Q·Kᵀ)·V, float32, symbolic L.
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const { onnx } = onnxProto;

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** An onnxruntime session computing exact attention for head dims d, d_v and scale s. */
export async function onnxAttention(d: number, dv: number, scale: number): Promise<(q: Float32Array, k: Float32Array, v: Float32Array, lq: number, lk: number) => Promise<Float32Array>> {
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
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  return async (q, k, v, lq, lk) => {
    const out = await session.run({
      Q: new ort.Tensor('float32', q, [lq, d]),
      K: new ort.Tensor('float32', k, [lk, d]),
      V: new ort.Tensor('float32', v, [lk, dv]),
    });
    return out.O.data as Float32Array;
  };
}
