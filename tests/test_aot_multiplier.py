"""Per-tensor FULLY_CONNECTED requantisation: the multiplier as the pinned TFLM derives it.

TFLM builds a per-tensor FC's multiplier from input_scale * filter_scale /
output_scale with the scale product in double. Taking that product in
float32 moves the multiplier by a few dozen units for some scale pairs, and
an accumulator whose rescaled value lies within a hair of a rounding half
then rounds the other way. The test searches (fixed seed) for such scale
pairs and accumulators, builds one-unit FCs whose bias is that accumulator,
and checks the generated C against TFLM on each, for the plain and the
blocked FC kernel; it also checks that a float32 product would have failed.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from ai_edge_litert import schema_py_generated as schema  # noqa: E402
from aot_single_op import CaseModel, ModelWriter, build_library, emit_model, run_aot, run_tflm  # noqa: E402

import myoedge.quantize.aot.ops_conv as ops_conv  # noqa: E402
from test_aot_fc_blocked import emit_blocked  # noqa: E402
from myoedge.quantize.aot.quant_math import mul_by_quantized_multiplier, quantize_multiplier  # noqa: E402

SEED = 5
KERNEL_FILES = ["fully_connected.c"]
EMITTERS = {"plain-fc": lambda case, patch: emit_model(case), "blocked-fc": emit_blocked}
MAX_OUTPUT = 120  # keep the output below the int8 clamp (zero point -128)


def _float32_product_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    product = float(np.float32(input_scale) * np.float32(filter_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


def find_triggers(rng: np.random.Generator, wanted: int) -> list[tuple[float, float, float, int]]:
    """(input, filter, output scale, accumulator) cases that round differently with the two products."""
    found = []
    for _ in range(200_000):
        x_scale = np.float32(10 ** rng.uniform(-2.5, -0.5))
        w_scale = np.float32(10 ** rng.uniform(-3, -1.3))
        y_scale = np.float32(10 ** rng.uniform(-3, -1))
        exact = ops_conv.per_tensor_conv_multiplier(x_scale, w_scale, y_scale)
        rounded = _float32_product_multiplier(x_scale, w_scale, y_scale)
        if exact == rounded:
            continue
        gain = float(x_scale) * float(w_scale) / float(y_scale)
        accs = np.arange(1, int(MAX_OUTPUT / gain) + 1)
        a = mul_by_quantized_multiplier(accs, *exact)
        b = mul_by_quantized_multiplier(accs, *rounded)
        hits = accs[(a != b) & (np.maximum(a, b) < MAX_OUTPUT)]
        if hits.size:
            found.append((float(x_scale), float(w_scale), float(y_scale), int(hits[0])))
            if len(found) == wanted:
                return found
    raise AssertionError(f"found only {len(found)} of {wanted} rounding cases")


def trigger_model(triggers, units: int) -> bytes:
    """One FC per trigger; input 0, so each unit's accumulator is its bias (every unit the same)."""
    writer = ModelWriter()
    for k, (x_scale, w_scale, y_scale, acc) in enumerate(triggers):
        x = writer.tensor(f"x{k}", (1, 4), "INT8", x_scale, 0)
        w = writer.tensor(f"w{k}", (units, 4), "INT8", w_scale, 0, np.ones((units, 4), np.int8))
        b = writer.tensor(f"b{k}", (units,), "INT32", x_scale * w_scale, 0, np.full(units, acc, np.int32))
        y = writer.tensor(f"y{k}", (1, units), "INT8", y_scale, -128)
        writer.op("FULLY_CONNECTED", [x, w, b], [y], "FullyConnectedOptions", schema.FullyConnectedOptionsT())
        writer.inputs.append(x)
        writer.outputs.append(y)
    return writer.finish()


@pytest.mark.parametrize("kind", ["plain-fc", "blocked-fc"])
def test_per_tensor_fc_multiplier_follows_tflm(monkeypatch, kind: str) -> None:
    triggers = find_triggers(np.random.default_rng(SEED), wanted=6)
    model_bytes = trigger_model(triggers, units=4)
    inputs = [np.zeros((1, 4), np.int8) for _ in triggers]
    want = run_tflm(model_bytes, inputs, len(triggers))
    emit = EMITTERS[kind]
    kernel = "mye_fully_connected_blocked_s8" if kind == "blocked-fc" else "mye_fully_connected_s8"

    case = CaseModel(name=f"fc_trigger_{kind.replace('-', '_')}", model_bytes=model_bytes)
    emit(case, monkeypatch)
    assert case.kernels == {kernel}
    got = run_aot(build_library([case], KERNEL_FILES), case, inputs)
    for k, (w, g) in enumerate(zip(want, got)):
        assert np.array_equal(w, g), f"FC {k}: aot {g.ravel()} tflm {w.ravel()}"

    monkeypatch.setattr(ops_conv, "per_tensor_conv_multiplier", _float32_product_multiplier)
    old = CaseModel(name=f"fc_trigger_{kind.replace('-', '_')}_f32", model_bytes=model_bytes)
    emit(old, monkeypatch)
    before = run_aot(build_library([old], KERNEL_FILES), old, inputs)
    differs = [not np.array_equal(w, b) for w, b in zip(want, before)]
    assert all(differs), f"a float32 product should be off by one on every case: {differs}"
