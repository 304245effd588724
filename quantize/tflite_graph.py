"""Read-only, typed view of a ``.tflite`` flatbuffer.

Every later stage (the pure-int8 check, the report, the header writer and the
ahead-of-time C generator in ``quantize/aot/``) needs the same facts about a
converted model: its tensors with shapes, dtypes, quantisation parameters and
constant data, and its operators with decoded options.  This module reads them
once, with the flatbuffer schema module that ships with the installed
interpreter packages, and hands back plain frozen dataclasses holding plain
Python / numpy values, so no other module has to touch the generated schema
classes.

Contract (stable; other modules build on it):

* ``load_graph(path_or_bytes) -> Graph``. Accepts a path (``str`` /
  ``os.PathLike``) or the flatbuffer bytes.  Only single-subgraph models are
  supported (models with control flow such as WHILE carry several subgraphs):
  anything else raises ``TfliteGraphError`` naming the problem.
* ``Graph.tensors[i]`` is a ``TensorInfo`` with ``index == i``.
* ``Graph.ops`` are in execution order; ``OpInfo.inputs`` / ``outputs`` /
  ``intermediates`` are tensor indices, ``-1`` marks an omitted optional input.
* ``OpInfo.opcode`` is the builtin operator name from the schema
  (``"CONV_2D"``, ``"FULLY_CONNECTED"``, ...; ``"CUSTOM"`` for custom ops, with
  ``custom_code`` set).
* ``OpInfo.options`` holds the builtin options with snake_case keys
  (``stride_w``, ``fused_activation_function``, ``keep_dims``, ...).  Enum
  fields are decoded to their schema names (``padding: "SAME"``,
  ``fused_activation_function: "RELU6"``, ``weights_format: "DEFAULT"``,
  ``quantized_bias_type: "FLOAT32"``...), vectors to ``list[int]``, booleans
  stay ``bool`` and floats ``float``.  Ops without options have ``{}``.
* Quantisation: ``TensorInfo.scales`` (float64 array holding the stored
  float32 values exactly) and ``zero_points`` (int64 array) are empty for
  unquantised tensors, length 1 for per-tensor and
  length ``shape[quantized_dimension]`` for per-channel quantisation.
* ``TensorInfo.data`` is the constant buffer as a read-only numpy array of the
  tensor's dtype and shape, or ``None`` when the tensor has no constant data
  (activations, graph inputs, variables).  For element types numpy cannot
  hold (INT4, STRING, ...) ``dtype`` is ``None`` and ``data`` is the raw
  buffer as a flat ``uint8`` array.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

try:  # ai_edge_litert's copy imports only flatbuffers (fast)
    from ai_edge_litert import schema_py_generated as _schema
except ImportError:  # pragma: no cover - fallback when only TensorFlow is installed
    from tensorflow.lite.python import schema_py_generated as _schema  # type: ignore

__all__ = [
    "Graph",
    "OpInfo",
    "TensorInfo",
    "TfliteGraphError",
    "load_graph",
    "TENSOR_TYPE_NAMES",
    "BUILTIN_OPERATOR_NAMES",
]


class TfliteGraphError(ValueError):
    """The flatbuffer cannot be read or uses features this view does not support."""


def _enum_names(enum_class: type) -> dict[int, str]:
    """Map the integer values of a generated schema enum class to their names."""
    return {
        value: name
        for name, value in vars(enum_class).items()
        if not name.startswith("_") and isinstance(value, int)
    }


TENSOR_TYPE_NAMES: dict[int, str] = _enum_names(_schema.TensorType)
BUILTIN_OPERATOR_NAMES: dict[int, str] = _enum_names(_schema.BuiltinOperator)
_BUILTIN_OPTIONS_NAMES: dict[int, str] = _enum_names(_schema.BuiltinOptions)
_BUILTIN_OPTIONS2_NAMES: dict[int, str] = _enum_names(_schema.BuiltinOptions2)

# TFLite element type name -> numpy dtype (types numpy cannot hold are absent).
_NUMPY_DTYPES: dict[str, np.dtype] = {
    "FLOAT32": np.dtype(np.float32),
    "FLOAT16": np.dtype(np.float16),
    "FLOAT64": np.dtype(np.float64),
    "INT8": np.dtype(np.int8),
    "UINT8": np.dtype(np.uint8),
    "INT16": np.dtype(np.int16),
    "UINT16": np.dtype(np.uint16),
    "INT32": np.dtype(np.int32),
    "UINT32": np.dtype(np.uint32),
    "INT64": np.dtype(np.int64),
    "UINT64": np.dtype(np.uint64),
    "BOOL": np.dtype(np.bool_),
    "COMPLEX64": np.dtype(np.complex64),
    "COMPLEX128": np.dtype(np.complex128),
}

# Option fields (schema camelCase name) whose integer value is an enum.
_ENUM_FIELDS: dict[str, dict[int, str]] = {
    "padding": _enum_names(_schema.Padding),
    "fusedActivationFunction": _enum_names(_schema.ActivationFunctionType),
    "weightsFormat": _enum_names(_schema.FullyConnectedOptionsWeightsFormat),
    "kernelType": _enum_names(_schema.LSTMKernelType),
    "combinerType": _enum_names(_schema.CombinerType),
    "combiner": _enum_names(_schema.CombinerType),
    "quantizedBiasType": TENSOR_TYPE_NAMES,
    "inDataType": TENSOR_TYPE_NAMES,
    "outDataType": TENSOR_TYPE_NAMES,
    "outputType": TENSOR_TYPE_NAMES,
    "outType": TENSOR_TYPE_NAMES,
    "idxOutType": TENSOR_TYPE_NAMES,
}
# Enum fields whose meaning depends on the options table they sit in.
_ENUM_FIELDS_BY_TABLE: dict[tuple[str, str], dict[int, str]] = {
    ("MirrorPadOptionsT", "mode"): _enum_names(_schema.MirrorPadMode),
    ("LSHProjectionOptionsT", "type"): _enum_names(_schema.LSHProjectionType),
}


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of subgraph 0.

    ``shape`` is the static shape (batch included, e.g. ``(1, 38, 16)``);
    ``shape_signature`` keeps ``-1`` for dynamic dimensions when the converter
    recorded one (else equals ``shape``).  ``type_name`` is the schema name of
    the element type ("INT8", "FLOAT32", ...), ``dtype`` its numpy dtype or
    ``None``.  ``buffer`` is the index into the model's buffer table (0 means
    no data).  See the module docstring for ``scales``/``zero_points``/``data``.
    """

    index: int
    name: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...]
    type_name: str
    dtype: np.dtype | None
    scales: np.ndarray
    zero_points: np.ndarray
    quantized_dimension: int
    buffer: int
    data: np.ndarray | None
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        """True when the tensor's values are stored in the flatbuffer."""
        return self.data is not None

    @property
    def is_quantized(self) -> bool:
        """True when the tensor carries at least one scale."""
        return self.scales.size > 0

    @property
    def is_per_channel(self) -> bool:
        """True when the tensor has more than one scale (per-channel quantised)."""
        return self.scales.size > 1

    @property
    def scale(self) -> float:
        """The single scale of a per-tensor quantised tensor (error otherwise)."""
        if self.scales.size != 1:
            raise TfliteGraphError(
                f"tensor {self.index} ({self.name!r}) has {self.scales.size} scales, not one"
            )
        return float(self.scales[0])

    @property
    def zero_point(self) -> int:
        """The single zero point of a per-tensor quantised tensor (error otherwise)."""
        if self.zero_points.size != 1:
            raise TfliteGraphError(
                f"tensor {self.index} ({self.name!r}) has {self.zero_points.size} zero points, not one"
            )
        return int(self.zero_points[0])

    @property
    def num_elements(self) -> int:
        """Number of elements of the static shape (1 for a scalar)."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        """Bytes the tensor occupies: constant data size, else elements x itemsize."""
        if self.data is not None:
            return int(self.data.nbytes)
        if self.dtype is None:
            return 0
        return self.num_elements * self.dtype.itemsize


@dataclass(frozen=True)
class OpInfo:
    """One operator of subgraph 0, in execution order.

    ``opcode`` is the builtin operator name, ``version`` the operator version
    from the opcode table, ``options_type`` the schema name of the options
    table (e.g. "Conv2DOptions", "" when absent), ``options`` the decoded
    options (see the module docstring).  ``custom_code`` is set for custom ops.
    """

    index: int
    opcode: str
    version: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    intermediates: tuple[int, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    options_type: str = ""
    custom_code: str | None = None


@dataclass(frozen=True)
class Graph:
    """Subgraph 0 of a .tflite model: tensors, ops in execution order, graph I/O."""

    tensors: list[TensorInfo]
    ops: list[OpInfo]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    name: str = ""
    description: str = ""
    schema_version: int = 0

    def tensor(self, index: int) -> TensorInfo:
        """The tensor at ``index`` (clear error for an out-of-range index, incl. -1)."""
        if not 0 <= index < len(self.tensors):
            raise TfliteGraphError(f"tensor index {index} out of range 0..{len(self.tensors) - 1}")
        return self.tensors[index]

    def tensor_by_name(self, name: str) -> TensorInfo:
        """The first tensor called ``name``."""
        for tensor in self.tensors:
            if tensor.name == name:
                return tensor
        raise TfliteGraphError(f"no tensor named {name!r}")

    @property
    def input_tensors(self) -> list[TensorInfo]:
        """The graph's input tensors, in order."""
        return [self.tensors[i] for i in self.inputs]

    @property
    def output_tensors(self) -> list[TensorInfo]:
        """The graph's output tensors, in order."""
        return [self.tensors[i] for i in self.outputs]

    def producer(self, tensor_index: int) -> OpInfo | None:
        """The op that writes ``tensor_index``, or None (graph input or constant)."""
        for op in self.ops:
            if tensor_index in op.outputs:
                return op
        return None

    def consumers(self, tensor_index: int) -> list[OpInfo]:
        """The ops that read ``tensor_index``, in execution order."""
        return [op for op in self.ops if tensor_index in op.inputs]

    def opcode_histogram(self) -> dict[str, int]:
        """How many times each opcode occurs, sorted by opcode name."""
        counts: dict[str, int] = {}
        for op in self.ops:
            counts[op.opcode] = counts.get(op.opcode, 0) + 1
        return dict(sorted(counts.items()))

    def constant_tensors(self) -> list[TensorInfo]:
        """Tensors whose values are stored in the flatbuffer (weights, biases, shapes...)."""
        return [t for t in self.tensors if t.data is not None]

    def op_label(self, op: OpInfo) -> str:
        """A short human-readable name for error messages: ``#3 FULLY_CONNECTED -> 'dense/…'``."""
        out_names = ", ".join(
            repr(self.tensors[i].name) for i in op.outputs if 0 <= i < len(self.tensors)
        )
        return f"op #{op.index} {op.opcode} -> {out_names}"


def _to_text(value: Any) -> str:
    """Schema strings come back as bytes; decode them (empty for None)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _snake_case(name: str) -> str:
    """``fusedActivationFunction`` -> ``fused_activation_function``; ``strideW`` -> ``stride_w``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _plain_value(value: Any) -> Any:
    """Turn schema attribute values into plain Python values."""
    if isinstance(value, np.ndarray):
        return [v.item() for v in value]
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return _to_text(value)
    if hasattr(value, "__dict__") and not isinstance(value, (int, float, str, bool)):
        return {_snake_case(k): _plain_value(v) for k, v in vars(value).items()}
    return value


def _decode_options(options: Any) -> dict[str, Any]:
    """Decode one builtin options table into a dict with snake_case keys."""
    if options is None:
        return {}
    table = type(options).__name__
    decoded: dict[str, Any] = {}
    for key, value in vars(options).items():
        names = _ENUM_FIELDS_BY_TABLE.get((table, key)) or _ENUM_FIELDS.get(key)
        if names is not None and isinstance(value, int) and not isinstance(value, bool):
            decoded[_snake_case(key)] = names.get(value, f"UNKNOWN_{value}")
        else:
            decoded[_snake_case(key)] = _plain_value(value)
    return decoded


def _int_tuple(values: Any) -> tuple[int, ...]:
    """A schema int vector (None, list or numpy array) as a tuple of ints."""
    if values is None:
        return ()
    return tuple(int(v) for v in values)


def _read_bytes(path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview) -> bytes:
    """The flatbuffer bytes from a path or a bytes-like object."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes)
    path = Path(path_or_bytes)
    if not path.is_file():
        raise TfliteGraphError(f"{path}: no such .tflite file")
    return path.read_bytes()


def _buffer_bytes(model: Any, raw: bytes, buffer_index: int, tensor_name: str) -> np.ndarray | None:
    """The raw bytes of buffer ``buffer_index`` as uint8, or None when it holds no data.

    Buffers are either inline (``data``) or, for large models, appended after
    the flatbuffer and addressed by ``offset``/``size`` from the file start.
    """
    buffers = model.buffers or []
    if buffer_index <= 0 or buffer_index >= len(buffers):
        return None
    buf = buffers[buffer_index]
    if buf.data is not None and len(buf.data) > 0:
        return np.asarray(buf.data, dtype=np.uint8)
    if buf.offset > 1 and buf.size > 0:
        end = buf.offset + buf.size
        if end > len(raw):
            raise TfliteGraphError(
                f"tensor {tensor_name!r}: buffer {buffer_index} points past the end of the file"
            )
        return np.frombuffer(raw, dtype=np.uint8, count=buf.size, offset=buf.offset)
    return None


def _tensor_info(model: Any, raw: bytes, index: int, tensor: Any) -> TensorInfo:
    """Build the ``TensorInfo`` for one schema tensor."""
    name = _to_text(tensor.name)
    type_name = TENSOR_TYPE_NAMES.get(tensor.type, f"UNKNOWN_{tensor.type}")
    dtype = _NUMPY_DTYPES.get(type_name)
    shape = _int_tuple(tensor.shape)
    signature = _int_tuple(tensor.shapeSignature) or shape

    quant = tensor.quantization
    scales = np.asarray(
        quant.scale if quant is not None and quant.scale is not None else [], dtype=np.float64
    )
    zero_points = np.asarray(
        quant.zeroPoint if quant is not None and quant.zeroPoint is not None else [], dtype=np.int64
    )
    quantized_dimension = int(quant.quantizedDimension) if quant is not None else 0
    if zero_points.size == 0 and scales.size > 0:
        zero_points = np.zeros(scales.size, dtype=np.int64)

    raw_data = _buffer_bytes(model, raw, tensor.buffer, name)
    data: np.ndarray | None = None
    if raw_data is not None:
        if dtype is None:
            data = raw_data.copy()
        else:
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if raw_data.size != count * dtype.itemsize:
                raise TfliteGraphError(
                    f"tensor {index} ({name!r}): buffer holds {raw_data.size} bytes, "
                    f"shape {shape} of {type_name} needs {count * dtype.itemsize}"
                )
            data = raw_data.view(dtype).reshape(shape).copy()
        data.setflags(write=False)
    scales.setflags(write=False)
    zero_points.setflags(write=False)
    return TensorInfo(
        index=index,
        name=name,
        shape=shape,
        shape_signature=signature,
        type_name=type_name,
        dtype=dtype,
        scales=scales,
        zero_points=zero_points,
        quantized_dimension=quantized_dimension,
        buffer=int(tensor.buffer),
        data=data,
        is_variable=bool(tensor.isVariable),
    )


def _op_info(model: Any, index: int, op: Any) -> OpInfo:
    """Build the ``OpInfo`` for one schema operator."""
    codes = model.operatorCodes or []
    if not 0 <= op.opcodeIndex < len(codes):
        raise TfliteGraphError(f"op #{index}: opcode index {op.opcodeIndex} out of range")
    code = codes[op.opcodeIndex]
    # Builtin codes above 127 live in builtinCode only; the larger of the two is the real one.
    builtin = max(int(code.deprecatedBuiltinCode), int(code.builtinCode))
    opcode = BUILTIN_OPERATOR_NAMES.get(builtin, f"UNKNOWN_{builtin}")
    options: dict[str, Any] = {}
    options_type = ""
    if op.builtinOptions is not None:
        options = _decode_options(op.builtinOptions)
        options_type = _BUILTIN_OPTIONS_NAMES.get(op.builtinOptionsType, "")
    elif op.builtinOptions2 is not None:
        options = _decode_options(op.builtinOptions2)
        options_type = _BUILTIN_OPTIONS2_NAMES.get(op.builtinOptions2Type, "")
    return OpInfo(
        index=index,
        opcode=opcode,
        version=int(code.version),
        inputs=_int_tuple(op.inputs),
        outputs=_int_tuple(op.outputs),
        intermediates=_int_tuple(op.intermediates),
        options=options,
        options_type=options_type,
        custom_code=_to_text(code.customCode) if opcode == "CUSTOM" else None,
    )


def load_graph(path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview) -> Graph:
    """Read a .tflite model (path or bytes) into a ``Graph`` of its only subgraph.

    Raises ``TfliteGraphError`` for data that is not a TFLite flatbuffer, for
    models with more than one subgraph (control flow), and for inconsistent
    buffers, naming the tensor or op at fault.
    """
    raw = _read_bytes(path_or_bytes)
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise TfliteGraphError("not a TFLite flatbuffer (file identifier 'TFL3' missing)")
    try:
        model = _schema.ModelT.InitFromPackedBuf(raw, 0)
    except Exception as exc:  # the generated reader raises assorted errors on garbage
        raise TfliteGraphError(f"corrupt TFLite flatbuffer: {exc}") from exc

    subgraphs = model.subgraphs or []
    if len(subgraphs) != 1:
        raise TfliteGraphError(
            f"model has {len(subgraphs)} subgraphs; only single-subgraph models are "
            "supported (control flow such as WHILE/IF adds subgraphs: convert LSTMs "
            "with tf_keras so they become one UNIDIRECTIONAL_SEQUENCE_LSTM op)"
        )
    subgraph = subgraphs[0]
    tensors = [
        _tensor_info(model, raw, i, tensor) for i, tensor in enumerate(subgraph.tensors or [])
    ]
    ops = [_op_info(model, i, op) for i, op in enumerate(subgraph.operators or [])]
    for op in ops:
        for tensor_index in (*op.inputs, *op.outputs, *op.intermediates):
            if tensor_index < -1 or tensor_index >= len(tensors):
                raise TfliteGraphError(
                    f"op #{op.index} {op.opcode}: tensor index {tensor_index} out of range"
                )
    return Graph(
        tensors=tensors,
        ops=ops,
        inputs=_int_tuple(subgraph.inputs),
        outputs=_int_tuple(subgraph.outputs),
        name=_to_text(subgraph.name),
        description=_to_text(model.description),
        schema_version=int(model.version),
    )
