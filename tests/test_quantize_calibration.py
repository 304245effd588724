"""Activation-range calibration: the calibrate-only path, percentile ranges, and ``auto``'s choice."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")
pytest.importorskip("ai_edge_litert")

from myoedge.quantize.calibration import (  # noqa: E402
    CalibrationConfig,
    TensorRange,
    calibrate_int8,
    fixed_range_tensors,
    percentile_ranges,
    recorded_ranges,
    sample_activations,
    square_tensors,
    with_ranges,
)
from myoedge.quantize.convert import (  # noqa: E402
    calibrate_float,
    check_pure_int8,
    convert_int8,
    quantize_calibrated,
)
from myoedge.quantize.tflite_graph import load_graph  # noqa: E402
from myoedge.quantize.tflm_reference import TflmReference  # noqa: E402


def _small_model() -> keras.Model:
    """Dense -> ReLU -> Dense -> softmax on 12 features (random weights, fixed seed)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12,))
    hidden = keras.layers.ReLU()(keras.layers.Dense(6)(inputs))
    outputs = keras.layers.Softmax()(keras.layers.Dense(3)(hidden))
    return keras.Model(inputs, outputs)


def _sign_model() -> keras.Model:
    """Two classes by the sign of the first feature: logits (-10 x0, 10 x0), fixed weights."""
    inputs = keras.Input((4,))
    dense = keras.layers.Dense(2, use_bias=False)
    outputs = keras.layers.Softmax()(dense(inputs))
    model = keras.Model(inputs, outputs)
    weights = np.zeros((4, 2), dtype=np.float32)
    weights[0] = (-10.0, 10.0)
    dense.set_weights([weights])
    return model


def _heavy_tailed(rng: np.random.Generator, n: int, outliers: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features with a few huge outliers; label = first feature > 0."""
    x = rng.normal(size=(n, 4)).astype(np.float32)
    if outliers:
        rows = rng.choice(n, outliers, replace=False)
        x[rows, 0] = rng.choice([-1.0, 1.0], outliers) * 1500.0
    return x, (x[:, 0] > 0).astype(np.int64)


X = np.random.default_rng(0).normal(size=(64, 12)).astype(np.float32)


def _scores(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    reference = TflmReference(model_bytes)
    return reference.run_batch(reference.quantize_input(x))


def test_calibrate_then_quantize_matches_the_converter():
    model = _small_model()
    direct = convert_int8(model, X, n_calibration=64)
    calibrated = calibrate_float(model, X, n_calibration=64)
    two_step = quantize_calibrated(calibrated)
    check_pure_int8(two_step)
    first, second = load_graph(direct), load_graph(two_step)
    assert [op.opcode for op in first.ops] == [op.opcode for op in second.ops]
    for a, b in ((first.input_tensors[0], second.input_tensors[0]),
                 (first.output_tensors[0], second.output_tensors[0])):
        assert (a.scale, a.zero_point) == (b.scale, b.zero_point)
    assert np.array_equal(_scores(direct, X), _scores(two_step, X))


def test_recorded_ranges_are_the_calibration_min_max():
    calibrated = calibrate_float(_small_model(), X, n_calibration=64)
    graph = load_graph(calibrated)
    ranges = recorded_ranges(calibrated)
    input_range = ranges[graph.inputs[0]]
    assert input_range.low == pytest.approx(float(X.min()), rel=1e-6)
    assert input_range.high == pytest.approx(float(X.max()), rel=1e-6)
    softmax = next(op for op in graph.ops if op.opcode == "SOFTMAX")
    assert softmax.outputs[0] in fixed_range_tensors(calibrated)
    assert graph.inputs[0] not in fixed_range_tensors(calibrated)


def test_percentile_ranges_narrow_keep_zero_and_never_widen():
    recorded = {0: TensorRange(-100.0, 100.0), 1: TensorRange(0.0, 50.0), 2: TensorRange(-1.0, 1.0)}
    rng = np.random.default_rng(1)
    values = {
        0: np.concatenate([rng.normal(size=10_000), [-100.0, 100.0]]),
        1: np.abs(rng.normal(size=10_000)),  # a ReLU output
        2: rng.normal(size=10_000) * 10.0,  # wider than recorded: must be cut back
    }
    ranges = percentile_ranges(recorded, values, 99.0)
    assert -3.0 < ranges[0].low < -2.0 and 2.0 < ranges[0].high < 3.0
    assert ranges[1].low == 0.0 and 2.0 < ranges[1].high < 3.0
    assert ranges[2] == TensorRange(-1.0, 1.0)
    wide = percentile_ranges(recorded, values, 100.0)
    assert wide[0] == TensorRange(-100.0, 100.0)


def test_edited_range_sets_the_int8_scale():
    model = _small_model()
    calibrated = calibrate_float(model, X, n_calibration=64)
    index = load_graph(calibrated).inputs[0]
    edited = quantize_calibrated(with_ranges(calibrated, {index: TensorRange(-1.0, 1.0)}))
    check_pure_int8(edited)
    input_tensor = load_graph(edited).input_tensors[0]
    assert input_tensor.scale == pytest.approx(2.0 / 255.0, rel=1e-5)
    with pytest.raises(ValueError, match="no calibrated range"):
        weights = next(t.index for t in load_graph(calibrated).tensors if t.is_constant)
        with_ranges(calibrated, {weights: TensorRange(-1.0, 1.0)})


def test_sample_activations_bounds_memory_and_sees_relu_zeros():
    model = _small_model()
    calibrated = calibrate_float(model, X, n_calibration=64)
    graph = load_graph(calibrated)
    relu_out = next(op for op in graph.ops if op.opcode == "FULLY_CONNECTED").outputs[0]
    values = sample_activations(calibrated, X, [graph.inputs[0], relu_out], values_per_tensor=128)
    assert values[graph.inputs[0]].size == 64 * 2  # 128 // 64 values from each sample
    assert values[relu_out].min() >= 0.0


def test_auto_picks_percentile_when_outliers_ruin_min_max():
    rng = np.random.default_rng(3)
    train_x, _ = _heavy_tailed(rng, 2000, outliers=4)
    select_x, select_y = _heavy_tailed(rng, 300, outliers=0)
    result = calibrate_int8(_sign_model(), train_x, CalibrationConfig(samples=2000, percentiles=(99.0,)),
                            select_x, select_y)
    check_pure_int8(result.model_bytes)
    by_name = {c.name: c for c in result.candidates}
    assert set(by_name) == {"minmax", "p99"}
    # min/max spends the int8 steps on +-1500: nearly every input rounds to zero.
    assert by_name["p99"].balanced_accuracy > by_name["minmax"].balanced_accuracy + 0.2
    assert result.chosen == "p99" and result.percentile == 99.0 and result.clipped_tensors >= 1
    report = result.to_dict()
    assert report["selection_windows"] == 300 and report["samples"] == 2000
    pred = _scores(result.model_bytes, select_x).argmax(axis=1)
    assert np.mean(pred == select_y) == pytest.approx(by_name["p99"].accuracy, abs=1e-4)


def test_minmax_method_reproduces_the_earlier_default():
    model = _small_model()
    result = calibrate_int8(model, X, CalibrationConfig(method="minmax"))
    assert result.samples == 64 and result.chosen == "minmax" and result.candidates == ()
    assert np.array_equal(_scores(result.model_bytes, X), _scores(convert_int8(model, X), X))
    assert CalibrationConfig(method="minmax").n_samples == 500
    assert CalibrationConfig().n_samples == 2000


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="'median' is unknown"):
        CalibrationConfig(method="median")
    with pytest.raises(ValueError, match="percentile 40"):
        CalibrationConfig(percentiles=(40.0,))
    with pytest.raises(ValueError, match="held-out windows"):
        calibrate_int8(_small_model(), X, CalibrationConfig(samples=32))


def test_layer_norm_variance_is_found_as_a_square_chain():
    from myoedge.training.models.layers import LayerNorm

    keras.utils.set_random_seed(1)
    inputs = keras.Input((12,))
    hidden = LayerNorm()(keras.layers.Dense(8)(inputs))
    outputs = keras.layers.Softmax()(keras.layers.Dense(3)(hidden))
    model = keras.Model(inputs, outputs)
    calibrated = calibrate_float(model, X, n_calibration=64)
    graph = load_graph(calibrated)
    squares = square_tensors(calibrated)
    producers = {out: op.opcode for op in graph.ops for out in op.outputs}
    assert sorted(producers[i] for i in squares) == ["ADD", "MEAN", "MUL"]  # x*x -> mean -> + eps
    rsqrt = next(op for op in graph.ops if op.opcode == "RSQRT")
    assert rsqrt.inputs[0] in squares and rsqrt.outputs[0] not in squares

    select_y = np.argmax(model.predict(X, verbose=0), axis=1)
    result = calibrate_int8(model, X, CalibrationConfig(samples=64, percentiles=(99.9,), square_percentile=95.0),
                            X, select_y)
    check_pure_int8(result.model_bytes)
    names = [c.name for c in result.candidates]
    assert names == ["minmax", "p99.9", "p99.9+sq95"]
    percentile_only = calibrate_int8(model, X, CalibrationConfig(method="percentile", samples=64,
                                                                  percentiles=(99.9,), square_percentile=95.0))
    assert percentile_only.chosen == "p99.9+sq95" and percentile_only.square_percentile == 95.0


def test_fused_lstm_keeps_its_ranges_and_stays_pure_int8():
    tfk = pytest.importorskip("tf_keras")

    tfk.utils.set_random_seed(0)
    inputs = tfk.Input((10, 3), batch_size=1)
    hidden = tfk.layers.LSTM(8)(inputs)
    outputs = tfk.layers.Dense(3, activation="softmax")(hidden)
    model = tfk.Model(inputs, outputs)
    x = np.random.default_rng(4).normal(size=(48, 10, 3)).astype(np.float32)
    y = np.argmax(model.predict(x, verbose=0), axis=1)
    calibrated = calibrate_float(model, x, n_calibration=48)
    graph = load_graph(calibrated)
    lstm = next(op for op in graph.ops if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert {i for i in lstm.outputs if i >= 0} <= fixed_range_tensors(calibrated)
    result = calibrate_int8(model, x, CalibrationConfig(samples=48, percentiles=(99.0,)), x, y)
    check_pure_int8(result.model_bytes)
    assert result.chosen in ("minmax", "p99")
    assert _scores(result.model_bytes, x).shape == (48, 3)


def test_cli_flags_reach_the_calibration_settings():
    from myoedge.cli import build_parser

    args = build_parser().parse_args(["quantize", "RUN", "--out", "BUILD", "--calibration-method", "minmax",
                                      "--calibration", "500", "--no-probe"])
    assert (args.calibration_method, args.calibration, args.no_probe) == ("minmax", 500, True)
    defaults = build_parser().parse_args(["quantize", "RUN", "--out", "BUILD"])
    assert (defaults.calibration_method, defaults.calibration, defaults.no_probe) == ("auto", None, False)
    assert CalibrationConfig(method=defaults.calibration_method, samples=defaults.calibration).n_samples == 2000


def test_auto_keeps_the_default_unless_another_candidate_wins_clearly():
    rng = np.random.default_rng(3)
    train_x, _ = _heavy_tailed(rng, 2000, outliers=4)
    select_x, select_y = _heavy_tailed(rng, 300, outliers=0)
    # Default p100 is as bad as min/max; p99 beats it by far more than the margin.
    clear = calibrate_int8(_sign_model(), train_x, CalibrationConfig(samples=2000, percentiles=(100.0, 99.0)),
                           select_x, select_y)
    assert clear.chosen == "p99" and clear.to_dict()["selection_margin"] == 0.005
    # With a margin wider than the lead, the default stays.
    kept = calibrate_int8(_sign_model(), train_x, CalibrationConfig(samples=2000, percentiles=(100.0, 99.0),
                                                                     selection_margin=0.9), select_x, select_y)
    scores = {c.name: c.balanced_accuracy for c in kept.candidates}
    assert scores["p99"] > scores["p100"] + 0.2
    assert kept.chosen == "p100"
