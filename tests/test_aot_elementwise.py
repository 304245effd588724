"""Parity of the AOT element-wise kernels (ADD, SUB, MUL, DIV, table lookup) with TFLite Micro.

Each converted model holds many independent binary ops, every one with its
own random shapes (broadcasting included), input ranges (so scales and zero
points vary), optional fused ReLU and sometimes a constant operand. The
generated C and the kernels run through ctypes and must equal TFLM on every
element of every output, built with the portable C path and with the DSP
path (MYE_EMULATE_DSP: the intrinsics written out in C). Long rows (a few
hundred elements) reach the kernels' per-row output tables and per-call
input tables.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

import tensorflow as tf  # noqa: E402

from aot_single_op import (  # noqa: E402
    RandomOpBuilder,
    check_parity as shared_check_parity,
    check_generated_chains,
    random_chain_model,
    CaseModel,
    build_library,
    convert_int8,
    emit_model,
    random_inputs,
    random_op_model,
)

import myoedge.quantize.aot.ops_elementwise  # noqa: E402,F401  (registers the emitters)

KERNEL_FILES = ["elementwise.c"]
OPS = ("ADD", "SUB", "MUL", "DIV")
OPS_PER_MODEL = 24
SEED = 1234


def random_shapes(rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Two shapes that broadcast together (sometimes equal, sometimes scalar-like)."""
    rank = int(rng.integers(1, 5))
    out = [int(v) for v in rng.integers(1, 6, size=rank)]
    kind = rng.random()
    if kind < 0.4:
        return out, list(out)
    shapes = []
    for _ in range(2):
        shape = [d if rng.random() < 0.6 else 1 for d in out]
        drop = int(rng.integers(0, rank))
        shapes.append(shape[drop:] if rng.random() < 0.3 else shape)
    if kind > 0.9:
        shapes[1] = [1]
    return shapes[0], shapes[1]


def random_range(rng: np.random.Generator, positive: bool = False, around_zero: bool = False) -> tuple[float, float]:
    """A calibration range; `positive` keeps it away from zero (DIV divisors), `around_zero`
    keeps zero well inside (so a fused ReLU never sees an all-negative output)."""
    if positive:
        lo = float(rng.uniform(0.2, 2.0))
        return lo, lo + float(rng.uniform(0.5, 8.0))
    half = float(10 ** rng.uniform(-1.5, 1.2))
    centre = float(rng.uniform(-0.3, 0.3)) * half if around_zero else float(rng.uniform(-4, 4))
    return centre - half, centre + half


def build_model(opcode: str, rng: np.random.Generator) -> tuple[bytes, list[dict]]:
    """One int8 model with OPS_PER_MODEL independent `opcode` ops; returns bytes and case specs."""
    specs = []
    for _ in range(OPS_PER_MODEL):
        s1, s2 = random_shapes(rng)
        const_operand = opcode != "DIV" and rng.random() < 0.15  # a constant divisor becomes MUL
        # a fused ReLU after a fixed constant could see only negative sums (a zero output range)
        relu = bool(rng.random() < 0.2) and not const_operand
        specs.append({
            "s1": s1, "s2": s2,
            "r1": random_range(rng, around_zero=relu),
            "r2": random_range(rng, positive=(opcode == "DIV"), around_zero=relu),
            "relu": relu,
            "const": rng.uniform(*random_range(rng, positive=(opcode == "DIV"), around_zero=relu), size=s2).astype(np.float32)
            if const_operand else None,
        })
    signature = []
    for k, spec in enumerate(specs):
        signature.append(tf.TensorSpec(spec["s1"], tf.float32, name=f"a{k}"))
        if spec["const"] is None:
            signature.append(tf.TensorSpec(spec["s2"], tf.float32, name=f"b{k}"))
    fn_op = {"ADD": tf.add, "SUB": tf.subtract, "MUL": tf.multiply, "DIV": tf.math.divide}[opcode]

    class Module(tf.Module):
        @tf.function(input_signature=signature)
        def run(self, *args):
            outs = []
            position = 0
            for spec in specs:
                a = args[position]
                position += 1
                if spec["const"] is None:
                    b = args[position]
                    position += 1
                else:
                    b = tf.constant(spec["const"])
                y = fn_op(a, b)
                outs.append(tf.nn.relu(y) if spec["relu"] else y)
            return outs

    module = Module()
    cal_rng = np.random.default_rng(int(rng.integers(1 << 30)))

    def representative():
        for _ in range(32):
            sample = {}
            for k, spec in enumerate(specs):
                sample[f"a{k}"] = cal_rng.uniform(*spec["r1"], size=spec["s1"]).astype(np.float32)
                if spec["const"] is None:
                    sample[f"b{k}"] = cal_rng.uniform(*spec["r2"], size=spec["s2"]).astype(np.float32)
            yield sample

    return convert_int8(module, module.run.get_concrete_function(), representative), specs


def divisor_safe_inputs(graph, rng: np.random.Generator) -> list[np.ndarray]:
    """Random int8 inputs, where a DIV divisor never equals its zero point (undefined in TFLM)."""
    inputs = random_inputs(graph, rng)
    divisors = {op.inputs[1] for op in graph.ops if op.opcode == "DIV"}
    for k, index in enumerate(graph.inputs):
        if index in divisors:
            zp = graph.tensors[index].zero_point
            x = inputs[k]
            x[x == zp] = np.int8(zp + 1 if zp < 127 else zp - 1)
    return inputs


_CACHE: dict[str, tuple] = {}
WRITTEN_OPS_PER_MODEL = 50


def parity_cases(opcodes, converted_per_op: int, written_per_op: int, tag: str):
    """Build, emit and compile the models once per test session (module-level cache).

    ``converted`` models come from the TFLite converter (realistic, ~1 s each);
    ``written`` ones are written directly with random scales (milliseconds each).
    """
    if tag in _CACHE:
        return _CACHE[tag]
    rng = np.random.default_rng(SEED + converted_per_op + 100 * written_per_op)
    cases = []
    for opcode in opcodes:
        for m in range(converted_per_op):
            model_bytes, _ = build_model(opcode, rng)
            cases.append(CaseModel(name=f"{tag}_{opcode.lower()}_conv{m}", model_bytes=model_bytes))
        for m in range(written_per_op):
            cases.append(CaseModel(name=f"{tag}_{opcode.lower()}_w{m}",
                                   model_bytes=random_op_model(rng, opcode, WRITTEN_OPS_PER_MODEL)))
    for case in cases:
        emit_model(case)
    lib = build_library(cases, KERNEL_FILES)
    _CACHE[tag] = (cases, lib)
    return cases, lib


def check_parity(cases, lib, runs: int) -> dict[str, int]:
    return shared_check_parity(cases, lib, runs, SEED, divisor_safe_inputs)


@pytest.mark.parametrize("opcode", OPS)
def test_elementwise_op_matches_tflm(opcode):
    """>= 200 randomised cases (shapes, broadcasts, scales, zero points, fused ReLU, constant
    operands) per op are bit-exact with TFLM: one converter-made model, the rest written directly."""
    cases, lib = parity_cases((opcode,), converted_per_op=1, written_per_op=4, tag=f"ew_{opcode.lower()}")
    counts = check_parity(cases, lib, runs=2)
    assert counts.get(opcode, 0) >= 200, counts


def dsp_library(cases):
    """The same cases compiled with the kernels' DSP path (intrinsics emulated in C)."""
    return build_library(cases, KERNEL_FILES, defines=("-DMYE_EMULATE_DSP",))


@pytest.mark.parametrize("opcode", OPS)
def test_elementwise_dsp_path_matches_tflm(opcode):
    """The >= 200 cases per op of test_elementwise_op_matches_tflm through the DSP path."""
    cases, _ = parity_cases((opcode,), converted_per_op=1, written_per_op=4, tag=f"ew_{opcode.lower()}")
    counts = check_parity(cases, dsp_library(cases), runs=2)
    assert counts.get(opcode, 0) >= 200, counts


LONG_ROW_OPS_PER_MODEL = 24


def long_row_model(rng: np.random.Generator, opcode: str, count: int) -> bytes:
    """``count`` independent ``opcode`` ops on (rows, 200..700) inputs whose second operand is a
    per-row value, a scalar, a per-column vector, a full tensor or a constant (either side)."""
    builder = RandomOpBuilder(rng)
    for _ in range(count):
        rows, cols = int(rng.integers(1, 4)), int(rng.integers(200, 700))
        x = builder.input((rows, cols))
        pool = [x]
        if opcode != "DIV" and rng.random() < 0.8:
            other = [(rows, 1), (1,), (cols,), (rows, cols)][int(rng.integers(4))]
            pool.append(builder.input(other))
        builder.output(builder.step(opcode, x, pool)[-1])
    return builder.finish()


_LONG_CACHE: dict[str, list] = {}


def long_row_cases(opcode: str) -> list:
    if opcode not in _LONG_CACHE:
        rng = np.random.default_rng(SEED + 77 + OPS.index(opcode))
        cases = [CaseModel(name=f"long_{opcode.lower()}_{m}", model_bytes=long_row_model(rng, opcode,
                                                                                          LONG_ROW_OPS_PER_MODEL))
                 for m in range(2)]
        for case in cases:
            emit_model(case)
        _LONG_CACHE[opcode] = cases
    return _LONG_CACHE[opcode]


@pytest.mark.parametrize("emulate_dsp", [False, True])
@pytest.mark.parametrize("opcode", OPS)
def test_elementwise_long_rows_match_tflm(opcode, emulate_dsp):
    """Rows of 200..700 elements (per-row tables from 256 on, both broadcast sides, full tensors)."""
    cases = long_row_cases(opcode)
    lib = dsp_library(cases) if emulate_dsp else build_library(cases, KERNEL_FILES)
    counts = check_parity(cases, lib, runs=2)
    assert counts.get(opcode, 0) >= 2 * LONG_ROW_OPS_PER_MODEL, counts


@pytest.mark.slow
def test_elementwise_ops_match_tflm_sweep():
    """A larger sweep with many converter-made models and more input draws."""
    cases, lib = parity_cases(OPS, converted_per_op=12, written_per_op=12, tag="ewslow")
    counts = check_parity(cases, lib, runs=4)
    for opcode in OPS:
        assert counts.get(opcode, 0) >= 800, counts


@pytest.mark.parametrize("fuse_lut,emulate_dsp", [(False, False), (True, False), (True, True)])
def test_generated_elementwise_chains_match_tflm(fuse_lut, emulate_dsp):
    """Through generate_c + AotModel (arena planning, in-place ops, optional LUT fusion, the
    table lookup's word-wise DSP path): random single-input chains of ADD / SUB / MUL / DIV
    (constants, broadcasts, earlier tensors as second operand) match TFLM on every intermediate
    tensor (debug mode)."""
    rng = np.random.default_rng(SEED + 11)
    models = [random_chain_model(rng, ("ADD", "SUB", "MUL", "DIV", "LOGISTIC"), 10) for _ in range(10)]
    assert check_generated_chains(models, draws=3, seed=SEED, fuse_lut=fuse_lut, emulate_dsp=emulate_dsp) >= 100


def test_quantize_multiplier_follows_tflm_edge_cases():
    """frexp + round-half-away, the 2^31 round-up fix, and the flush of tiny multipliers to 0."""
    from myoedge.quantize.aot.quant_math import mul_by_quantized_multiplier, quantize_multiplier

    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    assert quantize_multiplier(0.75) == (3 << 29, 0)
    # a fraction that rounds up to 2^31 becomes 2^30 with the exponent raised
    assert quantize_multiplier(1.0 - 2.0**-40) == (1 << 30, 1)
    assert quantize_multiplier(2.0**-40) == (0, 0)
    m, s = quantize_multiplier(0.3)
    assert m == round(0.6 * 2**31) and s == -1
    # the doubling high multiply rounds ties upwards (its nudge), the rounding shift away from zero
    assert int(mul_by_quantized_multiplier(3, 1 << 30, 0)) == 2  # 1.5 -> 2
    assert int(mul_by_quantized_multiplier(-3, 1 << 30, 0)) == -1  # -1.5 -> -1
    assert int(mul_by_quantized_multiplier(3, 1 << 30, -1)) == 1  # 0.75 -> 1
    assert int(mul_by_quantized_multiplier(-5, 1 << 30, -1)) == -1  # -1.25 -> -1
