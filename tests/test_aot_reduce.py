"""Parity of the AOT MEAN and SUM kernels with TFLite Micro (not LiteRT, which differs).

Each converted model reduces many independent inputs over random axis sets
(negative axes and keep_dims included); the generated C must equal the TFLM
Python interpreter on every output element.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

import tensorflow as tf  # noqa: E402

from aot_single_op import (  # noqa: E402
    check_parity as shared_check_parity,
    check_generated_chains,
    random_chain_model,
    CaseModel,
    build_library,
    convert_multi_input,
    emit_model,
    random_inputs,
    random_op_model,
)

import myoedge.quantize.aot.ops_reduce  # noqa: E402,F401  (registers the emitters)

KERNEL_FILES = ["reduce.c"]
OPS_PER_MODEL = 25
SEED = 777


def random_reduction(rng: np.random.Generator) -> tuple[list[int], list[int], bool]:
    """(shape, axes, keep_dims) with 1-4 dims; axes non-empty, sometimes negative, not all of size 1."""
    rank = int(rng.integers(1, 5))
    shape = [int(v) for v in rng.integers(1, 9, size=rank)]
    n_axes = int(rng.integers(1, rank + 1))
    axes = sorted(int(a) for a in rng.choice(rank, size=n_axes, replace=False))
    if all(shape[a] == 1 for a in axes):  # a no-op reduction would be folded away
        shape[axes[0]] = int(rng.integers(2, 9))
    axes = [a - rank if rng.random() < 0.3 else a for a in axes]
    return shape, axes, bool(rng.random() < 0.5)


def random_range(rng: np.random.Generator) -> tuple[float, float]:
    half = float(10 ** rng.uniform(-1.3, 1.3))
    centre = float(rng.uniform(-1.5, 1.5)) * half
    return centre - half, centre + half


def build_model(opcode: str, rng: np.random.Generator) -> bytes:
    specs = [random_reduction(rng) for _ in range(OPS_PER_MODEL)]
    ranges = [random_range(rng) for _ in specs]
    reduce_fn = tf.reduce_mean if opcode == "MEAN" else tf.reduce_sum

    def body(xs):
        return [reduce_fn(x, axis=axes, keepdims=keep) for x, (_, axes, keep) in zip(xs, specs)]

    return convert_multi_input([s for s, _, _ in specs], ranges, body, rng)


_CACHE: dict[str, tuple] = {}


WRITTEN_OPS_PER_MODEL = 50


def parity_cases(opcode: str, converted: int, written: int, tag: str):
    """Build, emit and compile once per session: converter-made models (realistic, ~1 s each)
    and models written directly with random scales and axes (milliseconds each)."""
    if tag in _CACHE:
        return _CACHE[tag]
    rng = np.random.default_rng(SEED + converted + 100 * written + (0 if opcode == "MEAN" else 1))
    cases = [CaseModel(name=f"{tag}_conv{m}", model_bytes=build_model(opcode, rng)) for m in range(converted)]
    cases += [CaseModel(name=f"{tag}_w{m}", model_bytes=random_op_model(rng, opcode, WRITTEN_OPS_PER_MODEL))
              for m in range(written)]
    for case in cases:
        emit_model(case)
    lib = build_library(cases, KERNEL_FILES)
    _CACHE[tag] = (cases, lib)
    return cases, lib


def check_parity(cases, lib, runs: int) -> dict[str, int]:
    return shared_check_parity(cases, lib, runs, SEED, random_inputs)


@pytest.mark.parametrize("opcode", ["MEAN", "SUM"])
def test_reduce_matches_tflm(opcode):
    """>= 200 randomised MEAN / SUM cases are bit-exact with TFLM."""
    cases, lib = parity_cases(opcode, converted=1, written=4, tag=f"red_{opcode.lower()}")
    counts = check_parity(cases, lib, runs=3)
    assert counts.get(opcode, 0) >= 200, counts


@pytest.mark.parametrize("opcode", ["MEAN", "SUM"])
def test_reduce_dsp_path_matches_tflm(opcode):
    """The same cases through the SMLAD row-sum path, emulated in C on the host."""
    cases, _ = parity_cases(opcode, converted=1, written=4, tag=f"red_{opcode.lower()}")
    lib = build_library(cases, KERNEL_FILES, defines=["-DMYE_EMULATE_DSP"])
    assert check_parity(cases, lib, runs=1).get(opcode, 0) >= 200


@pytest.mark.slow
@pytest.mark.parametrize("opcode", ["MEAN", "SUM"])
def test_reduce_matches_tflm_sweep(opcode):
    cases, lib = parity_cases(opcode, converted=12, written=12, tag=f"redslow_{opcode.lower()}")
    counts = check_parity(cases, lib, runs=6)
    assert counts.get(opcode, 0) >= 600, counts


@pytest.mark.parametrize("emulate_dsp", [False, True])
def test_generated_reduce_chains_match_tflm(emulate_dsp):
    """Through generate_c + AotModel (scratch from the arena, in-place output): chains ending in
    MEAN / SUM over random axes match TFLM on every intermediate tensor."""
    rng = np.random.default_rng(SEED + 11)
    models = [random_chain_model(rng, ("MEAN", "SUM", "ADD", "MUL", "TANH"), 4, max_reductions=2)
              for _ in range(12)]
    assert check_generated_chains(models, draws=3, seed=SEED, emulate_dsp=emulate_dsp) >= 40
