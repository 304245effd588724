"""Parity of the AOT REVERSE_V2, CONCATENATION and PRELU kernels with TFLite Micro.

Models are written directly (many independent ops per model, each with its
own random shape, axis, scales and zero points) and every output element of
the generated C must equal the TFLM Python interpreter. A chain through the
full generator checks the in-place REVERSE_V2 path, and a converted tf_keras
bidirectional LSTM checks the ops as the converter emits them.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from aot_single_op import (  # noqa: E402
    CaseModel,
    ModelWriter,
    build_library,
    check_generated_chains,
    check_parity,
    emit_model,
    random_inputs,
)

import myoedge.quantize.aot.ops_shape  # noqa: E402,F401  (registers the emitters)
from myoedge.quantize.aot.emit import UnsupportedOpError  # noqa: E402
from myoedge.quantize.tflite_graph import load_graph  # noqa: E402

KERNEL_FILES = ["shape_ops.c"]
OPS_PER_MODEL = 50
MODELS = 5
SEED = 4242


def random_quantization(rng: np.random.Generator) -> tuple[float, int]:
    """A random int8 (scale, zero point)."""
    return float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128))


def random_shape(rng: np.random.Generator, max_rank: int = 4) -> list[int]:
    """A small shape of rank 1..max_rank (sizes 1..7, the rank-1 case longer)."""
    rank = int(rng.integers(1, max_rank + 1))
    if rank == 1:
        return [int(rng.integers(1, 30))]
    return [int(v) for v in rng.integers(1, 8, size=rank)]


def add_reverse(w: ModelWriter, rng: np.random.Generator, k: int) -> None:
    """x -> REVERSE_V2(one random axis, maybe negative) -> y, y quantised differently from x."""
    shape = random_shape(rng)
    rank = len(shape)
    axis = int(rng.integers(0, rank))
    axis_value = axis - rank if rng.random() < 0.3 else axis
    x = w.tensor(f"x{k}", shape, "INT8", *random_quantization(rng))
    y = w.tensor(f"y{k}", shape, "INT8", *random_quantization(rng))
    axes = w.tensor(f"axis{k}", [1], "INT32", data=np.array([axis_value], dtype=np.int32))
    w.op("REVERSE_V2", [x, axes], [y], "ReverseV2Options", {})
    w.inputs.append(x)
    w.outputs.append(y)


def add_concatenation(w: ModelWriter, rng: np.random.Generator, k: int) -> None:
    """2-5 tensors (some constant) quantised alike -> CONCATENATION along a random axis."""
    shape = random_shape(rng)
    rank = len(shape)
    axis = int(rng.integers(0, rank))
    scale, zero_point = random_quantization(rng)
    parts = []
    for j in range(int(rng.integers(2, 6))):
        part_shape = list(shape)
        part_shape[axis] = int(rng.integers(1, 6))
        if j > 0 and rng.random() < 0.2:
            data = rng.integers(-128, 128, size=part_shape).astype(np.int8)
            parts.append((w.tensor(f"c{k}_{j}", part_shape, "INT8", scale, zero_point, data=data), part_shape))
        else:
            t = w.tensor(f"x{k}_{j}", part_shape, "INT8", scale, zero_point)
            w.inputs.append(t)
            parts.append((t, part_shape))
    out_shape = list(shape)
    out_shape[axis] = sum(p[1][axis] for p in parts)
    y = w.tensor(f"y{k}", out_shape, "INT8", scale, zero_point)
    axis_value = axis - rank if rng.random() < 0.3 else axis
    w.op("CONCATENATION", [p[0] for p in parts], [y], "ConcatenationOptions", {"axis": axis_value})
    w.outputs.append(y)


def alpha_shape(shape: list[int], rng: np.random.Generator) -> list[int]:
    """A slope shape that broadcasts onto ``shape``: shared, per last axis, full, or random ones."""
    kind = rng.random()
    if kind < 0.3:
        return [1] * max(1, len(shape) - 1)
    if kind < 0.55:
        return [shape[-1]]
    if kind < 0.75:
        return list(shape)
    return [d if rng.random() < 0.5 else 1 for d in shape]


def add_prelu(w: ModelWriter, rng: np.random.Generator, k: int) -> None:
    """x -> PRELU(constant int8 slope with its own scale and zero point) -> y."""
    shape = random_shape(rng)
    a_shape = alpha_shape(shape, rng)
    x = w.tensor(f"x{k}", shape, "INT8", *random_quantization(rng))
    a_scale = float(10 ** rng.uniform(-5, -1))
    a_zero = int(rng.integers(-20, 21)) if rng.random() < 0.3 else 0
    alpha = w.tensor(f"a{k}", a_shape, "INT8", a_scale, a_zero,
                     data=rng.integers(-128, 128, size=a_shape).astype(np.int8))
    y = w.tensor(f"y{k}", shape, "INT8", *random_quantization(rng))
    w.op("PRELU", [x, alpha], [y])
    w.inputs.append(x)
    w.outputs.append(y)


BUILDERS = {"REVERSE_V2": add_reverse, "CONCATENATION": add_concatenation, "PRELU": add_prelu}
_CACHE: dict[str, tuple] = {}


def parity_cases(opcode: str):
    """MODELS models of OPS_PER_MODEL independent ``opcode`` ops, emitted and compiled once."""
    if opcode in _CACHE:
        return _CACHE[opcode]
    rng = np.random.default_rng(SEED + sorted(BUILDERS).index(opcode))
    cases = []
    for m in range(MODELS):
        w = ModelWriter()
        for k in range(OPS_PER_MODEL):
            BUILDERS[opcode](w, rng, k)
        cases.append(CaseModel(name=f"shape_{opcode.lower()}{m}", model_bytes=w.finish(pad_bytes=64 * 1024)))
    for case in cases:
        emit_model(case)
    lib = build_library(cases, KERNEL_FILES)
    _CACHE[opcode] = (cases, lib)
    return cases, lib


@pytest.mark.parametrize("opcode", sorted(BUILDERS))
def test_shape_op_matches_tflm(opcode):
    """>= 200 randomised cases of each op are bit-exact with TFLM."""
    cases, lib = parity_cases(opcode)
    counts = check_parity(cases, lib, runs=2, seed=SEED, draw_inputs=random_inputs)
    assert counts.get(opcode, 0) >= 200, counts


def chain_model(rng: np.random.Generator) -> bytes:
    """x -> REVERSE_V2 -> REVERSE_V2 (may run in place) -> CONCATENATION(r, r) -> PRELU -> y."""
    w = ModelWriter()
    shape = [int(v) for v in rng.integers(2, 7, size=3)]
    scale, zero_point = random_quantization(rng)
    x = w.tensor("x", shape, "INT8", scale, zero_point)
    w.inputs.append(x)
    r1 = w.tensor("r1", shape, "INT8", *random_quantization(rng))
    r2 = w.tensor("r2", shape, "INT8", scale, zero_point)
    w.op("REVERSE_V2", [x, w.tensor("ax1", [1], "INT32", data=np.array([1], dtype=np.int32))], [r1],
         "ReverseV2Options", {})
    w.op("REVERSE_V2", [r1, w.tensor("ax2", [1], "INT32", data=np.array([int(rng.integers(0, 3))], dtype=np.int32))],
         [r2], "ReverseV2Options", {})
    axis = int(rng.integers(0, 3))
    cat_shape = list(shape)
    cat_shape[axis] *= 2
    cat = w.tensor("cat", cat_shape, "INT8", scale, zero_point)
    w.op("CONCATENATION", [r2, r2], [cat], "ConcatenationOptions", {"axis": axis})
    alpha = w.tensor("alpha", [1, 1], "INT8", 1e-3, 0, data=np.array([[-90]], dtype=np.int8))
    y = w.tensor("y", cat_shape, "INT8", *random_quantization(rng))
    w.op("PRELU", [cat, alpha], [y])
    w.outputs.append(y)
    return w.finish(pad_bytes=64 * 1024)


def test_generated_shape_chains_match_tflm():
    """Through generate_c + AotModel (arena plan, in-place REVERSE_V2): every op output equals TFLM."""
    rng = np.random.default_rng(SEED + 7)
    models = [chain_model(rng) for _ in range(8)]
    assert check_generated_chains(models, draws=2, seed=SEED) >= 32


def test_reverse_of_several_axes_is_refused_with_the_op_named():
    """Reversing two axes longer than 1 has no kernel: the error names the op and the axes."""
    from myoedge.quantize.aot.host_build import AotModel

    w = ModelWriter()
    x = w.tensor("x", [3, 4], "INT8", 0.1, 0)
    y = w.tensor("y", [3, 4], "INT8", 0.1, 0)
    w.op("REVERSE_V2", [x, w.tensor("axes", [2], "INT32", data=np.array([0, 1], dtype=np.int32))], [y],
         "ReverseV2Options", {})
    w.inputs.append(x)
    w.outputs.append(y)
    with pytest.raises(UnsupportedOpError, match=r"REVERSE_V2.*several axes"):
        AotModel(w.finish(), name="reverse_two_axes")


def test_bidirectional_lstm_converts_to_the_shape_ops_and_matches_tflm():
    """A tiny tf_keras Bidirectional LSTM (as in the faithful LSTM-FIN) converts to
    REVERSE_V2 + UNIDIRECTIONAL_SEQUENCE_LSTM + CONCATENATION, and the generated C equals TFLM
    on every intermediate tensor. The forward LSTM's output carries the CONCATENATION's
    quantisation, unlike its hidden state: TFLM copies the raw hidden state, as the kernel does."""
    tf = pytest.importorskip("tensorflow")
    tfk = pytest.importorskip("tf_keras")
    from aot_single_op import convert_int8

    tfk.utils.set_random_seed(3)
    inputs = tfk.Input((12, 2), batch_size=3)
    x = tfk.layers.Bidirectional(tfk.layers.LSTM(4, return_sequences=True))(inputs)
    x = tfk.layers.LSTM(4, go_backwards=True)(x)
    model = tfk.Model(inputs, x)

    class Module(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[tf.TensorSpec([3, 12, 2], tf.float32)])
        def run(self, x):
            return self.model(x)

    module = Module()
    cal = np.random.default_rng(5)

    def representative():
        for _ in range(16):
            yield [cal.normal(size=(3, 12, 2)).astype(np.float32)]

    model_bytes = convert_int8(module, module.run.get_concrete_function(), representative)
    opcodes = {op.opcode for op in load_graph(model_bytes).ops}
    assert {"REVERSE_V2", "CONCATENATION", "UNIDIRECTIONAL_SEQUENCE_LSTM"} <= opcodes, opcodes
    assert check_generated_chains([model_bytes], draws=2, seed=SEED) >= 5
