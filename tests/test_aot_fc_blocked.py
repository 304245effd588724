"""FULLY_CONNECTED with blocked weights (``mye_fully_connected_blocked_s8``) against TFLite Micro.

The generator stores the weights of single-row FULLY_CONNECTED ops in blocks
of four units (``quantize/aot/ops_fc_blocked.py``). These tests check the
layout itself, which ops are rewritten, and bit-exact parity with the TFLM
interpreter on >= 200 random ops (depths that are and are not multiples of
4, unit counts that are and are not multiples of 4, per-tensor and
per-channel weights, with and without bias, every fused activation), built
with the portable C path and with the DSP path (MYE_EMULATE_DSP).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from aot_single_op import CaseModel, build_library, check_parity, emit_model  # noqa: E402

from myoedge.quantize.aot.ops_fc_blocked import (  # noqa: E402
    BLOCKED_OPCODE,
    block_fully_connected,
    block_weights,
)
from myoedge.quantize.aot.single_op import Op, Tensor, build_model  # noqa: E402
from myoedge.quantize.tflite_graph import load_graph  # noqa: E402

KERNEL_FILES = ["fully_connected.c"]
OPS_PER_MODEL = 25
MODELS = 8
ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
SEED = 4242


def test_block_weights_layout() -> None:
    """Per block of four units: the 4-byte chunks unit by unit, then the tails; leftover units row-major."""
    w = np.arange(6 * 10).reshape(6, 10)
    blocked = block_weights(w)
    assert blocked.size == w.size
    # block 0 (units 0..3), chunk 0 then chunk 1, then the 2-byte tails
    assert blocked[:16].tolist() == [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33]
    assert blocked[16:20].tolist() == [4, 5, 6, 7]
    assert blocked[32:40].tolist() == [8, 9, 18, 19, 28, 29, 38, 39]
    # units 4 and 5 follow row-major
    assert blocked[40:].tolist() == list(range(40, 60))


def random_fc_model(rng: np.random.Generator, count: int) -> bytes:
    """``count`` independent one-row FULLY_CONNECTED ops, each on its own graph input."""
    tensors: list[Tensor] = []
    ops: list[Op] = []
    inputs: list[int] = []
    outputs: list[int] = []
    for _ in range(count):
        depth = int(rng.choice([int(rng.integers(1, 80)), 4 * int(rng.integers(1, 40))]))
        units = int(rng.integers(4, 41))
        per_channel = bool(rng.integers(0, 2))
        three_d = bool(rng.integers(0, 2))
        with_bias = bool(rng.integers(0, 4))
        in_s, in_zp = float(rng.uniform(0.003, 0.3)), int(rng.integers(-128, 128))
        out_s, out_zp = float(rng.uniform(0.01, 1.0)), int(rng.integers(-128, 128))
        w_s = rng.uniform(0.001, 0.05, size=units if per_channel else 1)
        x_shape = (1, 1, depth) if three_d else (1, depth)
        y_shape = (1, 1, units) if three_d else (1, units)
        base = len(tensors)
        tensors.append(Tensor(x_shape, "INT8", [in_s], [in_zp]))
        tensors.append(Tensor((units, depth), "INT8", list(w_s), [0] * w_s.size,
                              rng.integers(-127, 128, size=(units, depth))))
        bias_index = -1
        if with_bias:
            tensors.append(Tensor((units,), "INT32", list(in_s * w_s), [0] * w_s.size,
                                  rng.integers(-20000, 20000, size=units)))
            bias_index = len(tensors) - 1
        tensors.append(Tensor(y_shape, "INT8", [out_s], [out_zp]))
        out_index = len(tensors) - 1
        ops.append(Op("FULLY_CONNECTED", [base, base + 1, bias_index], [out_index],
                      {"fusedActivationFunction": str(rng.choice(ACTIVATIONS)), "keepNumDims": three_d}))
        inputs.append(base)
        outputs.append(out_index)
    return build_model(tensors, ops, inputs, outputs)


def emit_blocked(case: CaseModel, monkeypatch: pytest.MonkeyPatch) -> None:
    """emit_model on the graph as generate_c rewrites it (FULLY_CONNECTED -> the blocked op)."""
    import myoedge.quantize.tflite_graph as tflite_graph

    with monkeypatch.context() as patch:
        patch.setattr(tflite_graph, "load_graph", lambda data: block_fully_connected(load_graph(data))[0])
        emit_model(case)


_CASES: list[CaseModel] = []


def blocked_cases(monkeypatch: pytest.MonkeyPatch) -> list[CaseModel]:
    if not _CASES:
        rng = np.random.default_rng(SEED)
        for m in range(MODELS):
            case = CaseModel(name=f"fc_blocked_{m}", model_bytes=random_fc_model(rng, OPS_PER_MODEL))
            emit_blocked(case, monkeypatch)
            _CASES.append(case)
    return _CASES


def test_generator_rewrites_only_single_row_symmetric_fully_connected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every op of the random models is one row with >= 4 units: all become the blocked op."""
    cases = blocked_cases(monkeypatch)
    assert all(op.opcode == BLOCKED_OPCODE for case in cases for op in case.graph.ops)
    assert all(case.kernels == {"mye_fully_connected_blocked_s8"} for case in cases)
    # Several rows, or fewer than 4 units: left to mye_fully_connected_s8.
    two_rows = build_model(
        [Tensor((2, 8), "INT8", [0.1], [3]), Tensor((5, 8), "INT8", [0.02], [0], np.ones((5, 8))),
         Tensor((2, 5), "INT8", [0.5], [-1])],
        [Op("FULLY_CONNECTED", [0, 1, -1], [2])], [0], [2])
    three_units = build_model(
        [Tensor((1, 8), "INT8", [0.1], [3]), Tensor((3, 8), "INT8", [0.02], [0], np.ones((3, 8))),
         Tensor((1, 3), "INT8", [0.5], [-1])],
        [Op("FULLY_CONNECTED", [0, 1, -1], [2])], [0], [2])
    for model in (two_rows, three_units):
        _, renamed = block_fully_connected(load_graph(model))
        assert renamed == []


@pytest.mark.parametrize("emulate_dsp", [False, True])
def test_blocked_fully_connected_matches_tflm(emulate_dsp: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """200 random ops, 2 random inputs each, equal to TFLM on every element (portable / DSP path)."""
    cases = blocked_cases(monkeypatch)
    defines = ("-DMYE_EMULATE_DSP",) if emulate_dsp else ()
    lib = build_library(cases, KERNEL_FILES, defines=defines)
    counts = check_parity(cases, lib, runs=2, seed=SEED + int(emulate_dsp))
    assert counts.get(BLOCKED_OPCODE, 0) >= 200, counts
