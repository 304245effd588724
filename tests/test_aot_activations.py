"""Parity of the AOT activation kernels (LOGISTIC, TANH, HARD_SWISH, RSQRT, SOFTMAX) with TFLM.

Each converted model applies one activation to many independent inputs with
random shapes and calibration ranges (so every op has its own input scale
and zero point); the generated C must equal the TFLM Python interpreter on
every element for random int8 inputs (plus every one of the 256 int8 values
for the element-wise functions).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

import tensorflow as tf  # noqa: E402

from aot_single_op import (  # noqa: E402
    check_generated_chains,
    random_chain_model,
    CaseModel,
    build_library,
    compare_outputs,
    convert_multi_input,
    emit_model,
    random_inputs,
    random_op_model,
    run_aot,
    run_tflm,
)

import myoedge.quantize.aot.ops_activations  # noqa: E402,F401  (registers the emitters)

KERNEL_FILES = ["activations.c"]
OPS_PER_MODEL = 25
SEED = 4321


def hard_swish(x):
    """The pattern the converter fuses into one HARD_SWISH op."""
    return x * tf.nn.relu6(x + 3.0) / 6.0


FUNCTIONS = {
    "LOGISTIC": tf.math.sigmoid,
    "TANH": tf.math.tanh,
    "HARD_SWISH": hard_swish,
    "RSQRT": tf.math.rsqrt,
    "SOFTMAX": tf.nn.softmax,
}


def random_shape(rng: np.random.Generator, opcode: str) -> list[int]:
    """A small random shape; SOFTMAX gets a longer last axis (its reduction)."""
    rank = int(rng.integers(1, 4))
    shape = [int(v) for v in rng.integers(1, 6, size=rank)]
    if opcode == "SOFTMAX":
        shape[-1] = int(rng.integers(1, 60))
    return shape


def random_range(rng: np.random.Generator, opcode: str) -> tuple[float, float]:
    """Calibration range; RSQRT needs positive inputs."""
    if opcode == "RSQRT":
        lo = float(10 ** rng.uniform(-3, 0))
        return lo, lo + float(10 ** rng.uniform(-1, 1.5))
    half = float(10 ** rng.uniform(-1.3, 1.3))
    centre = float(rng.uniform(-1, 1)) * half
    return centre - half, centre + half


def build_model(opcode: str, rng: np.random.Generator, count: int = OPS_PER_MODEL) -> bytes:
    shapes = [random_shape(rng, opcode) for _ in range(count)]
    ranges = [random_range(rng, opcode) for _ in range(count)]
    fn = FUNCTIONS[opcode]
    return convert_multi_input(shapes, ranges, lambda xs: [fn(x) for x in xs], rng)


def valid_inputs(graph, rng: np.random.Generator) -> list[np.ndarray]:
    """Random int8 inputs; RSQRT inputs stay at or above the zero point (TFLM rejects negatives)."""
    inputs = random_inputs(graph, rng)
    rsqrt_inputs = {op.inputs[0] for op in graph.ops if op.opcode == "RSQRT"}
    for k, index in enumerate(graph.inputs):
        if index in rsqrt_inputs:
            zp = graph.tensors[index].zero_point
            inputs[k] = np.maximum(inputs[k], np.int8(zp))
    return inputs


def all_values_inputs(graph, shift: int) -> list[np.ndarray]:
    """Inputs that sweep all 256 int8 values (rotated by `shift`) over each tensor."""
    out = []
    for index in graph.inputs:
        info = graph.tensors[index]
        values = (np.arange(info.num_elements) + shift) % 256 - 128
        out.append(values.astype(np.int8).reshape(info.shape))
    return out


_CACHE: dict[str, tuple] = {}


WRITTEN_OPS_PER_MODEL = 50


def parity_cases(opcodes, converted_per_op: int, written_per_op: int, tag: str):
    """Build, emit and compile once per session: converter-made models (realistic, ~1 s each)
    and models written directly with random scales (milliseconds each)."""
    if tag in _CACHE:
        return _CACHE[tag]
    rng = np.random.default_rng(SEED + converted_per_op + 100 * written_per_op)
    cases = []
    for opcode in opcodes:
        for m in range(converted_per_op):
            cases.append(CaseModel(name=f"{tag}_{opcode.lower()}_conv{m}", model_bytes=build_model(opcode, rng)))
        for m in range(written_per_op):
            cases.append(CaseModel(name=f"{tag}_{opcode.lower()}_w{m}",
                                   model_bytes=random_op_model(rng, opcode, WRITTEN_OPS_PER_MODEL)))
    for case in cases:
        emit_model(case)
    lib = build_library(cases, KERNEL_FILES)
    _CACHE[tag] = (cases, lib)
    return cases, lib


def check_parity(cases, lib, runs: int) -> dict[str, int]:
    rng = np.random.default_rng(SEED)
    problems: list[str] = []
    counts: dict[str, int] = {}
    for case in cases:
        for op in case.graph.ops:
            counts[op.opcode] = counts.get(op.opcode, 0) + 1
        draws = [valid_inputs(case.graph, rng) for _ in range(runs)]
        if all(op.opcode != "SOFTMAX" for op in case.graph.ops):
            draws += [all_values_inputs(case.graph, s) for s in range(0, 256, 64)]
            if any(op.opcode == "RSQRT" for op in case.graph.ops):
                draws = [valid_fix(case.graph, d) for d in draws]
        for inputs in draws:
            n_out = len(case.graph.outputs)
            problems += compare_outputs(case, inputs, run_aot(lib, case, inputs), run_tflm(case.model_bytes, inputs, n_out))
    assert not problems, "\n".join(problems[:10])
    return counts


def valid_fix(graph, inputs):
    """Clamp RSQRT inputs to the zero point (TFLM refuses values below it)."""
    fixed = []
    for k, index in enumerate(graph.inputs):
        zp = graph.tensors[index].zero_point
        fixed.append(np.maximum(inputs[k], np.int8(zp)))
    return fixed


OPCODES = tuple(FUNCTIONS)


@pytest.mark.parametrize("opcode", OPCODES)
def test_activation_matches_tflm(opcode):
    """>= 200 randomised cases per activation op are bit-exact with TFLM."""
    cases, lib = parity_cases((opcode,), converted_per_op=1, written_per_op=4, tag=f"act_{opcode.lower()}")
    if opcode == "SOFTMAX":
        assert "softmax_exp" in cases[0].c_source  # the default path reads the exp table
    counts = check_parity(cases, lib, runs=2)
    assert counts.get(opcode, 0) >= 200, counts


@pytest.mark.parametrize("opcode", OPCODES)
def test_activation_dsp_path_matches_tflm(opcode):
    """The same >= 200 cases per op with the kernels' DSP path (MYE_EMULATE_DSP; SOFTMAX takes
    its row maximum four lanes at a time there, on rows of up to 39 elements)."""
    cases, _ = parity_cases((opcode,), converted_per_op=1, written_per_op=4, tag=f"act_{opcode.lower()}")
    lib = build_library(cases, KERNEL_FILES, defines=("-DMYE_EMULATE_DSP",))
    counts = check_parity(cases, lib, runs=2)
    assert counts.get(opcode, 0) >= 200, counts


def test_hard_swish_multipliers_rounded_as_the_tflm_build_does():
    """HARD_SWISH keeps Q0.15 multipliers: scale pairs whose float32 and double quotients round to
    different Q0.15 values must match TFLM (the interpreter build evaluates them in double)."""
    from myoedge.quantize.aot.ops_activations import downscale_to_q15
    from myoedge.quantize.aot.quant_math import quantize_multiplier

    from aot_single_op import ModelWriter

    rng = np.random.default_rng(SEED + 5)
    writer = ModelWriter()
    count = 0
    while count < 16:
        in_scale = np.float32(10 ** rng.uniform(-3, -0.5))
        out_scale = np.float32(float(in_scale) * rng.uniform(0.3, 1.5))
        hires = np.float32(1.0 / 128.0) * in_scale
        as_float = quantize_multiplier(float(np.float32(hires / out_scale)))
        as_double = quantize_multiplier(float(hires) / float(out_scale))
        if downscale_to_q15(as_float[0]) == downscale_to_q15(as_double[0]) or as_double[1] > 0:
            continue
        x = writer.tensor(f"x{count}", (256,), "INT8", float(in_scale), int(rng.integers(-60, 60)))
        y = writer.tensor(f"y{count}", (256,), "INT8", float(out_scale), int(rng.integers(-60, 60)))
        writer.op("HARD_SWISH", [x], [y])
        writer.inputs.append(x)
        writer.outputs.append(y)
        count += 1
    case = CaseModel(name="hs_rounding", model_bytes=writer.finish(pad_bytes=64 * 1024))
    emit_model(case)
    lib = build_library([case], KERNEL_FILES)
    inputs = all_values_inputs(case.graph, 0)
    problems = compare_outputs(case, inputs, run_aot(lib, case, inputs), run_tflm(case.model_bytes, inputs, count))
    assert not problems, "\n".join(problems[:5])


def test_softmax_without_exp_table_matches_tflm(monkeypatch):
    """The kernel's own fixed-point exp (no table) is bit-exact too."""
    import myoedge.quantize.aot.ops_activations as ops_activations

    monkeypatch.setattr(ops_activations, "SOFTMAX_EXP_TABLE", False)
    _CACHE.pop("act_softmax_notable", None)
    cases, lib = parity_cases(("SOFTMAX",), converted_per_op=1, written_per_op=4, tag="act_softmax_notable")
    _CACHE.pop("act_softmax_notable", None)
    assert "exp_table = 0" in cases[0].c_source
    assert check_parity(cases, lib, runs=2).get("SOFTMAX", 0) >= 200


@pytest.mark.slow
@pytest.mark.parametrize("opcode", OPCODES)
def test_activation_matches_tflm_sweep(opcode):
    """A larger sweep: more models, more random draws."""
    cases, lib = parity_cases((opcode,), converted_per_op=12, written_per_op=12, tag=f"actslow_{opcode.lower()}")
    counts = check_parity(cases, lib, runs=6)
    assert counts.get(opcode, 0) >= 600, counts


@pytest.mark.parametrize("fuse_lut", [False, True])
def test_generated_activation_chains_match_tflm(fuse_lut):
    """Through generate_c + AotModel: random chains of LOGISTIC, TANH, HARD_SWISH, RSQRT and
    SOFTMAX (mixed with ADD / MUL) match TFLM on every intermediate tensor."""
    rng = np.random.default_rng(SEED + 11)
    opcodes = ("LOGISTIC", "TANH", "HARD_SWISH", "RSQRT", "SOFTMAX", "ADD", "MUL")
    models = [random_chain_model(rng, opcodes, 10) for _ in range(10)]
    assert check_generated_chains(models, draws=3, seed=SEED, fuse_lut=fuse_lut) >= 100
