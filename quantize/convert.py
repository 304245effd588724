"""Full-integer int8 conversion of a Keras model, and the check that it is pure int8.

The board computes in int8 only, so a converted graph that still holds a float
op (which the TFLite converter leaves in silently, wrapped in DEQUANTIZE /
QUANTIZE, even with ``TFLITE_BUILTINS_INT8``) must be refused at build time,
naming the op, rather than discovered on the board.

Conversion goes through a batch-1 ``tf.function`` with a fixed input
signature, held by a ``tf.Module`` that also holds the model's variables:
converting a Keras 3 model directly leaves READ_VARIABLE or dynamic-shape ops
(SHAPE, STRIDED_SLICE, PACK) in the graph.  Keras 3 and ``tf_keras`` (Keras 2)
models are both accepted; a ``tf_keras`` LSTM converted this way becomes one
fused UNIDIRECTIONAL_SEQUENCE_LSTM op (int8 in/out, int16 cell state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from .tflite_graph import Graph, OpInfo, TensorInfo, load_graph

__all__ = [
    "NotPureInt8Error",
    "convert_int8",
    "check_pure_int8",
    "find_non_int8_ops",
    "calibration_samples",
    "model_input_shape",
    "calibrate_float",
    "quantize_calibrated",
]

# Element types that must not carry activations in a pure-int8 graph.
_FORBIDDEN_ACTIVATION_TYPES = frozenset({"FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16", "INT16"})
# Element types a constant tensor must not have (int8 kernels take no float constants).
_FORBIDDEN_CONSTANT_TYPES = frozenset({"FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16"})
# Ops whose int16 tensors are part of the integer kernel (cell state, layer-norm
# coefficients, intermediate scales), not float leftovers.
_INT16_STATE_OPS = frozenset({"UNIDIRECTIONAL_SEQUENCE_LSTM", "LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM"})


class NotPureInt8Error(ValueError):
    """The converted graph keeps float or int16 activations; ``offenders`` names each op."""

    def __init__(self, offenders: list[str]):
        self.offenders = offenders
        lines = "\n  ".join(offenders)
        super().__init__(
            f"converted graph is not pure int8 ({len(offenders)} op(s) with float/int16 "
            f"tensors; the board cannot run them):\n  {lines}\n"
            "Replace the layer with an int8-friendly form (see platform-facts.md: "
            "e.g. Mish as x*s*(2-s)/(s*s-2s+2), LayerNorm written out)."
        )


@dataclass(frozen=True)
class _Offence:
    """One tensor of one op that breaks the pure-int8 rule."""

    op: OpInfo
    tensor: TensorInfo
    role: str


def _allowed_int16(op: OpInfo, tensor: TensorInfo) -> bool:
    """int16 is allowed for LSTM cell state, intermediates and int16 constants of LSTM ops."""
    if op.opcode not in _INT16_STATE_OPS:
        return False
    return tensor.is_variable or tensor.is_constant or tensor.index in op.intermediates


def _op_offences(graph: Graph, op: OpInfo) -> list[_Offence]:
    """All tensors of ``op`` that are float, or int16 outside the LSTM exceptions."""
    offences: list[_Offence] = []
    roles = (
        [("input", i) for i in op.inputs]
        + [("output", i) for i in op.outputs]
        + [("intermediate", i) for i in op.intermediates]
    )
    for role, index in roles:
        if index < 0:
            continue
        tensor = graph.tensors[index]
        if role == "intermediate" and tensor.num_elements == 0:
            continue  # an empty placeholder that only carries quantisation parameters
        if tensor.is_constant:
            bad = tensor.type_name in _FORBIDDEN_CONSTANT_TYPES
        else:
            bad = tensor.type_name in _FORBIDDEN_ACTIVATION_TYPES
        if bad and tensor.type_name == "INT16" and _allowed_int16(op, tensor):
            bad = False
        if bad:
            offences.append(_Offence(op, tensor, role))
    return offences


def find_non_int8_ops(graph: Graph) -> list[str]:
    """One line per offending op, e.g. ``op #4 EXP -> 'mish/Exp': input 'x' is FLOAT32``.

    Also reports graph inputs/outputs that are not int8.  Empty when the graph
    is pure int8 (int32 biases and the int16 LSTM cell state are allowed).
    """
    lines: list[str] = []
    for op in graph.ops:
        offences = _op_offences(graph, op)
        if offences:
            detail = "; ".join(
                f"{o.role} {o.tensor.name!r} is {o.tensor.type_name}" for o in offences
            )
            lines.append(f"{graph.op_label(op)}: {detail}")
    for kind, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for index in indices:
            tensor = graph.tensors[index]
            if tensor.type_name != "INT8":
                lines.append(f"graph {kind} {tensor.name!r} is {tensor.type_name}, not INT8")
    return lines


def check_pure_int8(graph: Graph | bytes) -> None:
    """Raise ``NotPureInt8Error`` naming each op whose activations are float or int16."""
    if not isinstance(graph, Graph):
        graph = load_graph(graph)
    offenders = find_non_int8_ops(graph)
    if offenders:
        raise NotPureInt8Error(offenders)


def model_input_shape(model: Any) -> tuple[int, ...]:
    """The per-sample input shape of a single-input Keras model (batch dimension dropped)."""
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError(f"model has {len(shape)} inputs; only single-input models convert")
        shape = shape[0]
    per_sample = tuple(shape[1:])
    if any(d is None for d in per_sample):
        raise ValueError(f"model input shape {shape} has unknown dimensions beyond the batch")
    return tuple(int(d) for d in per_sample)


def calibration_samples(representative: np.ndarray, n_calibration: int, seed: int = 0) -> np.ndarray:
    """Up to ``n_calibration`` samples drawn without replacement (fixed seed, so
    conversions are reproducible), kept in their original order."""
    if len(representative) == 0:
        raise ValueError("representative data is empty: need at least one calibration sample")
    if n_calibration < 1:
        raise ValueError(f"n_calibration must be >= 1, got {n_calibration}")
    if len(representative) <= n_calibration:
        return np.asarray(representative, dtype=np.float32)
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(representative), size=n_calibration, replace=False))
    return np.asarray(representative[picked], dtype=np.float32)


def _tf_variables(model: Any) -> list[Any]:
    """The model's variables as ``tf.Variable`` objects, so a ``tf.Module`` tracks them.

    ``tf_keras`` variables already are ``tf.Variable``; Keras 3 wraps one in
    ``keras.Variable`` and exposes it as ``.value``.
    """
    import tensorflow as tf

    return [v if isinstance(v, tf.Variable) else v.value for v in model.variables]


def _int8_converter(model: Any, representative: np.ndarray, n_calibration: int) -> Any:
    """A ``TFLiteConverter`` set up for full-integer int8 (int8 in/out, per-channel
    weights) on a batch-1 concrete function of ``model``, calibrating on up to
    ``n_calibration`` samples of ``representative``."""
    import tensorflow as tf

    input_shape = model_input_shape(model)
    representative = np.asarray(representative)
    if representative.ndim != len(input_shape) + 1 or tuple(representative.shape[1:]) != input_shape:
        raise ValueError(
            f"representative data has shape {representative.shape}; the model expects "
            f"(n, {', '.join(map(str, input_shape))})"
        )
    samples = calibration_samples(representative, n_calibration)
    if not np.all(np.isfinite(samples)):
        raise ValueError("representative data holds NaN or infinite values")

    spec = tf.TensorSpec((1, *input_shape), tf.float32, name="input")

    module = tf.Module()
    module.model_variables = _tf_variables(model)

    @tf.function(input_signature=[spec])
    def serve(x: Any) -> Any:
        return model(x, training=False)

    module.serve = serve
    concrete = module.serve.get_concrete_function()

    def representative_dataset() -> Iterator[list[np.ndarray]]:
        for sample in samples:
            yield [sample[np.newaxis, ...]]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter


def convert_int8(model: Any, representative: np.ndarray, n_calibration: int = 500) -> bytes:
    """Convert a Keras 3 or ``tf_keras`` model to a full-integer int8 .tflite.

    ``representative`` is input data exactly as the model sees it (already
    normalised), shape ``(n, *input_shape)``; up to ``n_calibration`` samples
    are used for calibration, and every tensor's range is the min/max seen on
    them.  Input and output are int8, weights per-channel int8, biases int32.
    The result is not checked here: call ``check_pure_int8`` on it.  For other
    activation ranges, see ``calibrate_float`` and ``quantize_calibrated``.
    """
    return bytes(_int8_converter(model, representative, n_calibration).convert())


def calibrate_float(model: Any, representative: np.ndarray, n_calibration: int = 500) -> bytes:
    """The first half of ``convert_int8``: a float .tflite whose tensors carry the
    min/max seen on the calibration samples (the converter's calibrate-only mode).

    Its ranges can be edited (``myoedge.quantize.calibration``) before
    ``quantize_calibrated`` turns it into the int8 model; with no edit, the pair
    gives the same int8 arithmetic as ``convert_int8`` (the converter's own
    path calibrates and then runs the same MLIR quantiser; only its metadata
    differs, so the files differ by a few bytes).  ``_experimental_calibrate_only``
    is a private converter switch (the one TF's own QuantizationDebugger
    sets); checked on TF 2.21 by ``tests/test_quantize_calibration.py``.
    """
    converter = _int8_converter(model, representative, n_calibration)
    converter._experimental_calibrate_only = True  # noqa: SLF001 - see the docstring
    return bytes(converter.convert())


def quantize_calibrated(calibrated: bytes) -> bytes:
    """The second half of ``convert_int8``: full-integer int8 (int8 in/out,
    per-channel weights) from a calibrated float .tflite, with the ranges it carries."""
    import tensorflow as tf
    from tensorflow.lite.python import convert as tflite_convert

    return bytes(
        tflite_convert.mlir_quantize(
            bytes(calibrated), input_data_type=tf.int8, output_data_type=tf.int8
        )
    )
