"""int8 conversion and the pure-int8 check."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from myoedge.quantize.convert import (  # noqa: E402
    NotPureInt8Error,
    calibration_samples,
    check_pure_int8,
    convert_int8,
    model_input_shape,
)
from myoedge.quantize.tflite_graph import load_graph  # noqa: E402

X = np.random.default_rng(0).normal(size=(40, 12)).astype(np.float32)


def _dense_model(middle: str) -> keras.Model:
    """Dense -> (middle) -> Dense; ``middle`` picks an activation the converter may leave in float."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12,))
    hidden = keras.layers.Dense(6)(inputs)
    if middle == "relu":
        hidden = keras.layers.ReLU()(hidden)
    elif middle == "elu":
        hidden = keras.layers.ELU()(hidden)
    elif middle == "square":
        hidden = keras.ops.square(hidden)
    outputs = keras.layers.Dense(3)(hidden)
    return keras.Model(inputs, outputs)


def test_good_model_is_pure_int8_with_int8_io():
    graph = load_graph(convert_int8(_dense_model("relu"), X, n_calibration=40))
    check_pure_int8(graph)  # does not raise
    assert graph.input_tensors[0].type_name == "INT8"
    assert graph.output_tensors[0].type_name == "INT8"
    assert graph.input_tensors[0].shape == (1, 12)  # batch-1 signature
    opcodes = {op.opcode for op in graph.ops}
    assert not opcodes & {"READ_VARIABLE", "SHAPE", "PACK", "DEQUANTIZE", "QUANTIZE"}
    # Per-channel weights: one scale per output unit.
    fc = next(op for op in graph.ops if op.opcode == "FULLY_CONNECTED")
    assert graph.tensors[fc.inputs[1]].scales.size == 6


@pytest.mark.parametrize("middle, opcode", [("elu", "ELU"), ("square", "SQUARE")])
def test_float_leftover_is_refused_naming_the_op(middle, opcode):
    model_bytes = convert_int8(_dense_model(middle), X, n_calibration=40)
    with pytest.raises(NotPureInt8Error) as caught:
        check_pure_int8(model_bytes)
    offenders = caught.value.offenders
    assert any(f" {opcode} " in line and "FLOAT32" in line for line in offenders), offenders
    assert any(" DEQUANTIZE " in line for line in offenders)
    assert opcode in str(caught.value)


def test_representative_shape_is_checked():
    with pytest.raises(ValueError, match=r"\(n, 12\)"):
        convert_int8(_dense_model("relu"), X[:, :5], n_calibration=10)
    with pytest.raises(ValueError, match="NaN"):
        bad = X.copy()
        bad[0, 0] = np.nan
        convert_int8(_dense_model("relu"), bad, n_calibration=40)


def test_calibration_samples_are_reproducible_and_bounded():
    data = np.arange(100, dtype=np.float32).reshape(100, 1)
    first = calibration_samples(data, 10)
    assert first.shape == (10, 1)
    assert np.array_equal(first, calibration_samples(data, 10))
    assert np.all(np.diff(first[:, 0]) > 0)  # original order kept, no repeats
    assert calibration_samples(data, 500).shape == (100, 1)
    with pytest.raises(ValueError, match="empty"):
        calibration_samples(data[:0], 10)


def test_model_input_shape_drops_batch():
    assert model_input_shape(_dense_model("relu")) == (12,)
