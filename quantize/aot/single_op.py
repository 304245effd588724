"""Build small int8 .tflite flatbuffers directly, for kernel parity tests.

Converting a Keras model costs about a second per model, far too slow for
hundreds of randomised single-op cases; and the converter picks scales and
zero points itself. Writing the flatbuffer with the schema's object API takes
milliseconds and lets a test choose every shape, scale, zero point and weight
(including configurations the converter rarely produces, such as per-tensor
FULLY_CONNECTED weights or an int8 -> int8 QUANTIZE). TFLM runs these models
like any converted one, so they are valid oracles for the AOT kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np

try:
    from ai_edge_litert import schema_py_generated as _schema
except ImportError:  # pragma: no cover
    from tensorflow.lite.python import schema_py_generated as _schema  # type: ignore

_TYPE_CODES = {"FLOAT32": 0, "INT32": 2, "INT64": 4, "INT16": 7, "INT8": 9}
_NUMPY = {"FLOAT32": np.float32, "INT32": np.int32, "INT64": np.int64, "INT16": np.int16, "INT8": np.int8}

# Options table (schema name without the "T") per opcode.
_OPTIONS_TABLE = {
    "CONV_2D": "Conv2DOptions",
    "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "FULLY_CONNECTED": "FullyConnectedOptions",
    "MAX_POOL_2D": "Pool2DOptions",
    "AVERAGE_POOL_2D": "Pool2DOptions",
    "RESHAPE": "ReshapeOptions",
    "TRANSPOSE": "TransposeOptions",
    "STRIDED_SLICE": "StridedSliceOptions",
    "QUANTIZE": None,
    "DEQUANTIZE": None,
    "ADD": "AddOptions",
    "SUB": "SubOptions",
    "MUL": "MulOptions",
}


@dataclass
class Tensor:
    """A tensor of the model being built. ``data`` makes it a constant."""

    shape: tuple[int, ...]
    type_name: str = "INT8"
    scales: list[float] = field(default_factory=list)
    zero_points: list[int] = field(default_factory=list)
    data: np.ndarray | None = None
    quantized_dimension: int = 0
    name: str = ""
    is_variable: bool = False


@dataclass
class Op:
    """One operator: opcode name, tensor indices and options (schema camelCase names)."""

    opcode: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)


def _enum_value(enum_class: type, name: str) -> int:
    return int(getattr(enum_class, name))


def build_model(tensors: list[Tensor], ops: list[Op], inputs: list[int], outputs: list[int]) -> bytes:
    """Serialise one subgraph to .tflite bytes (schema version 3)."""
    buffers = [_schema.BufferT()]  # buffer 0: empty by convention
    tensor_ts = []
    for i, t in enumerate(tensors):
        tt = _schema.TensorT()
        tt.shape = list(t.shape)
        tt.type = _TYPE_CODES[t.type_name]
        tt.name = t.name or f"t{i}"
        tt.isVariable = t.is_variable
        if t.scales:
            q = _schema.QuantizationParametersT()
            q.scale = [float(s) for s in t.scales]
            q.zeroPoint = [int(z) for z in (t.zero_points or [0] * len(t.scales))]
            q.quantizedDimension = t.quantized_dimension
            tt.quantization = q
        if t.data is not None:
            buf = _schema.BufferT()
            arr = np.ascontiguousarray(np.asarray(t.data, dtype=_NUMPY[t.type_name]).reshape(t.shape))
            buf.data = list(arr.tobytes())
            buffers.append(buf)
            tt.buffer = len(buffers) - 1
        tensor_ts.append(tt)

    opcodes: list[str] = []
    op_ts = []
    for op in ops:
        if op.opcode not in opcodes:
            opcodes.append(op.opcode)
        ot = _schema.OperatorT()
        ot.opcodeIndex = opcodes.index(op.opcode)
        ot.inputs = list(op.inputs)
        ot.outputs = list(op.outputs)
        table = _OPTIONS_TABLE.get(op.opcode)
        if table is not None:
            options = getattr(_schema, f"{table}T")()
            for key, value in op.options.items():
                if key == "padding":
                    value = _enum_value(_schema.Padding, value)
                elif key == "fusedActivationFunction":
                    value = _enum_value(_schema.ActivationFunctionType, value)
                if not hasattr(options, key):
                    raise KeyError(f"{table} has no field {key}")
                setattr(options, key, value)
            ot.builtinOptionsType = _enum_value(_schema.BuiltinOptions, table)
            ot.builtinOptions = options
        op_ts.append(ot)

    code_ts = []
    for name in opcodes:
        ct = _schema.OperatorCodeT()
        value = _enum_value(_schema.BuiltinOperator, name)
        ct.builtinCode = value
        ct.deprecatedBuiltinCode = min(value, 127)
        ct.version = 1
        code_ts.append(ct)

    sub = _schema.SubGraphT()
    sub.tensors = tensor_ts
    sub.operators = op_ts
    sub.inputs = list(inputs)
    sub.outputs = list(outputs)
    sub.name = "main"
    model = _schema.ModelT()
    model.version = 3
    model.operatorCodes = code_ts
    model.subgraphs = [sub]
    model.buffers = buffers
    model.description = "myoedge single-op test model"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def single_op_model(opcode: str, input_tensor: Tensor, output_tensor: Tensor,
                    extra_inputs: list[Tensor | None] | None = None,
                    options: dict[str, Any] | None = None) -> bytes:
    """A model of one op: graph input -> op -> graph output; ``extra_inputs`` are its
    further inputs (constants, or ``None`` for an omitted optional input)."""
    tensors = [input_tensor, output_tensor]
    op_inputs = [0]
    for extra in extra_inputs or []:
        if extra is None:
            op_inputs.append(-1)
        else:
            tensors.append(extra)
            op_inputs.append(len(tensors) - 1)
    return build_model(tensors, [Op(opcode, op_inputs, [1], options or {})], inputs=[0], outputs=[1])
