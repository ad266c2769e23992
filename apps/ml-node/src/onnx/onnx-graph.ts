/** Small helpers to write ONNX graphs as protobuf with onnx-proto (the official onnx.proto). */
import type { onnx as OnnxTypes } from 'onnx-proto'
import onnxProto from 'onnx-proto'

export const { onnx } = onnxProto

export const F = onnx.TensorProto.DataType.FLOAT
export const I64 = onnx.TensorProto.DataType.INT64

export const floatInit = (name: string, dims: number[], data: Float32Array) =>
  onnx.TensorProto.create({
    name,
    dims,
    dataType: F,
    rawData: new Uint8Array(data.buffer.slice(0)),
  })
export const int64Init = (name: string, dims: number[], values: number[]) =>
  onnx.TensorProto.create({
    name,
    dims,
    dataType: I64,
    rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
  })
export const node = (
  op: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, number | number[]> = {},
) =>
  onnx.NodeProto.create({
    opType: op,
    input: inputs,
    output: outputs,
    name: outputs[0] ?? op,
    attribute: Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({
            name,
            ints: v,
            type: onnx.AttributeProto.AttributeType.INTS,
          })
        : onnx.AttributeProto.create({ name, i: v, type: onnx.AttributeProto.AttributeType.INT }),
    ),
  })
/** A typed value; `dims` null leaves the shape unknown (subgraph outputs of varying shape). */
export const valueInfo = (name: string, elemType: number, dims: (string | number)[] | null) =>
  onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims
          ? {
              shape: {
                dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
              },
            }
          : {}),
      },
    },
  })

export const BOOL = onnx.TensorProto.DataType.BOOL

/** `If` on a bool tensor: each branch is a subgraph that may read the outer graph's values. */
export const ifNode = (
  cond: string,
  outputs: string[],
  thenBranch: OnnxTypes.IGraphProto,
  elseBranch: OnnxTypes.IGraphProto,
) =>
  onnx.NodeProto.create({
    opType: 'If',
    input: [cond],
    output: outputs,
    name: outputs[0] ?? 'If',
    attribute: [
      onnx.AttributeProto.create({
        name: 'then_branch',
        g: thenBranch,
        type: onnx.AttributeProto.AttributeType.GRAPH,
      }),
      onnx.AttributeProto.create({
        name: 'else_branch',
        g: elseBranch,
        type: onnx.AttributeProto.AttributeType.GRAPH,
      }),
    ],
  })

/**
 * The smallest valid model (Identity on one float tensor). Loading it first works around a
 * transformers.js 3.8 bug: the first session the process creates is awaited by every later one,
 * so if that first model is broken, every model after it fails with the same error.
 */
export function identityModel(): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'synthstack-ml-node primer',
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'primer',
        node: [node('Identity', ['x'], ['y'])],
        input: [valueInfo('x', F, [1])],
        output: [valueInfo('y', F, [1])],
      },
    }),
  ).finish()
}
