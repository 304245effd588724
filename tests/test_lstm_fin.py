"""LSTM-FIN: feature targets, FIN shapes, transfer wiring, low latency, int8 LSTM export and parity, the CLI run.

Models here are tiny (short windows, a few hidden units) or untrained: the
tests check wiring and arithmetic, not accuracy. The benchmark
(``benchmarks/lstm_fin.py``) measures accuracy and R^2.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("tf_keras")

from myoedge.training.fin import (  # noqa: E402
    FinTrainConfig,
    TargetScaler,
    channel_sequences,
    drop_rest,
    fin_predictions,
    fin_targets,
    label_ahead,
    load_fins,
    movement_segments,
    r2_score,
    save_fins,
    sequence_features,
)
from myoedge.training.models.lstm_fin import (  # noqa: E402
    build_fin,
    build_fins,
    build_lstm_fin,
    cnn_macs,
    fin_macs,
    lstm_fin_macs,
    resolve_options,
)
from myoedge.training.recording import ElectrodeLayout, Recording  # noqa: E402
from myoedge.training.windows import WindowSet  # noqa: E402

# faithful layout (a FIN per feature, copies, concatenation) with tiny FINs, so tests build fast
SMALL_FAITHFUL = {"variant": "faithful", "hidden": 2, "lstm_layers": 1, "fin_outputs": 9, "cnn_filters": [2, 2]}


# ------------------------------------------------------------------ feature targets


def test_channel_sequences_and_features_match_hand_computed_values() -> None:
    # one window, T = 4, two channels: [1, -1, 1, -1] and [0, 0, 3, 3]
    window = np.array([[[1.0, 0.0], [-1.0, 0.0], [1.0, 3.0], [-1.0, 3.0]]])
    sequences = channel_sequences(window)
    assert sequences.shape == (2, 4, 1)
    np.testing.assert_array_equal(sequences[1, :, 0], [0.0, 0.0, 3.0, 3.0])
    features = sequence_features(sequences)  # (2, 4): entropy, rms, variance, ssi
    e, inv_e = math.e, 1.0 / math.e
    big, small = e / (2 * e + 2 * inv_e), inv_e / (2 * e + 2 * inv_e)
    assert features[0, 0] == pytest.approx(-2 * big * math.log(big) - 2 * small * math.log(small), rel=1e-6)
    assert features[0, 1:].tolist() == pytest.approx([1.0, 1.0, 4.0], rel=1e-6)
    high, low = math.exp(3) / (2 * math.exp(3) + 2), 1.0 / (2 * math.exp(3) + 2)
    assert features[1, 0] == pytest.approx(-2 * high * math.log(high) - 2 * low * math.log(low), rel=1e-6)
    assert features[1, 1] == pytest.approx(math.sqrt(18.0 / 4.0), rel=1e-6)
    assert features[1, 2] == pytest.approx(2.25, rel=1e-6)  # mean 1.5, deviations +-1.5
    assert features[1, 3] == pytest.approx(18.0, rel=1e-6)


def test_targets_are_standardised_tiled_feature_major_and_scored_by_mean() -> None:
    features = np.array([[1.0, 2.0, 3.0, 4.0], [3.0, 6.0, 3.0, 0.0]])
    scaler = TargetScaler.fit(features)
    standard = scaler.apply(features)
    np.testing.assert_allclose(standard[:, 0], [-1.0, 1.0])
    np.testing.assert_allclose(standard[:, 2], [0.0, 0.0])  # constant feature: std 1, centred
    tiled = fin_targets(standard, ("rms", "ssi"), copies=3)
    np.testing.assert_allclose(tiled[0], [-1, -1, -1, 1, 1, 1])
    outputs = np.array([[0.0, 1.0, 2.0, 10.0, 10.0, 10.0]])
    np.testing.assert_allclose(fin_predictions(outputs, 2, 3), [[1.0, 10.0]])


def test_r2_score() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(4, 2.5)) == pytest.approx(0.0)
    assert r2_score(y, y[::-1]) == pytest.approx(1.0 - 20.0 / 5.0)
    assert math.isnan(r2_score(np.ones(3), np.zeros(3)))


# ------------------------------------------------------------------ data: rest, segments, low latency


def _window_set(starts, labels, repetitions) -> WindowSet:
    n = len(starts)
    return WindowSet(x=np.arange(n, dtype=np.float32).reshape(n, 1, 1), raw=np.zeros((n, 1, 1)), y=labels,
                     repetition=repetitions, subject=np.ones(n), start=starts)


def test_label_ahead_pairs_each_window_with_the_label_p_steps_later() -> None:
    ws = _window_set([0, 20, 40, 60, 80, 0, 20], [3, 3, 3, 4, 4, 5, 5], [1, 1, 1, 1, 1, 2, 2])
    ahead = label_ahead(ws, ahead=2, step=20)
    # partners: 0->40 (3), 20->60 (4), 40->80 (4); 60, 80 have none; repetition 2: 0 -> 40 missing
    np.testing.assert_array_equal(ahead.start, [0, 20, 40])
    np.testing.assert_array_equal(ahead.y, [3, 4, 4])
    np.testing.assert_array_equal(ahead.x[:, 0, 0], [0, 1, 2])  # inputs stay the earlier windows
    assert label_ahead(ws, ahead=0, step=20) is ws


def test_drop_rest_relabels_movements_from_zero() -> None:
    ws = _window_set([0, 20, 40], [0, 1, 17], [1, 1, 1])
    kept = drop_rest(ws)
    np.testing.assert_array_equal(kept.y, [0, 16])
    np.testing.assert_array_equal(kept.start, [20, 40])


def test_movement_segments_skip_rest_and_split_on_repetition() -> None:
    labels = np.array([0, 0, 2, 2, 2, 2, 0, 3, 3, 3])
    reps = np.array([0, 1, 1, 1, 2, 2, 2, 2, 2, 2])
    layout = ElectrodeLayout("test", 1, 100.0)
    rec = Recording(emg=np.zeros((10, 1), np.float32), labels=labels, repetitions=reps, layout=layout, subject=1)
    assert movement_segments(rec) == [(2, 4), (4, 6), (7, 10)]


def test_settings_check_their_values() -> None:
    with pytest.raises(ValueError, match="fin_stage"):
        FinTrainConfig(fin_stage="later")
    with pytest.raises(ValueError, match="fin_dir"):
        FinTrainConfig(fin_stage="transfer")
    with pytest.raises(ValueError, match="unknown training settings"):
        FinTrainConfig().with_overrides(epoch=3)
    assert FinTrainConfig().with_overrides(test_repetitions=[5]).test_repetitions == (5,)


# ------------------------------------------------------------------ shapes and costs


def test_faithful_fin_and_classifier_shapes_and_parameter_counts() -> None:
    fin = build_fin(600, ("rms",), {})
    assert fin.input_shape == (None, 600, 1) and fin.output_shape == (None, 12)
    # 2 bidirectional layers of 32 and one backward layer of 32, then Linear(32 -> 12)
    lstm = lambda i, h: 4 * h * (i + h + 1)  # noqa: E731
    assert fin.count_params() == 2 * lstm(1, 32) + 2 * lstm(64, 32) + lstm(64, 32) + 32 * 12 + 12
    # the CNN depends only on the channels and the 12 copies: tiny FINs keep the build fast
    model = build_lstm_fin((600, 12), 17, hidden=2, lstm_layers=1)
    assert model.output_shape == (None, 17)
    assert model.get_layer("feature_map").output_shape == (None, 12, 12, 4)
    cnn = [model.get_layer(n) for n in ("conv1", "bn1", "act1", "conv2", "bn2", "act2", "conv3", "bn3", "act3")]
    trainable = sum(int(np.prod(w.shape)) for layer in cnn for w in layer.trainable_weights)
    assert trainable == 66_646  # the authors' CNN: Conv 5x5 64, Conv 5x5 32, Conv 4x4 17, BN, one PReLU slope each
    macs = lstm_fin_macs(600, 12, 17, {})
    assert macs["fins"] == 4 * 12 * fin_macs(600, 12, {}) and macs["total"] > 1e9


def test_on_device_variant_shapes_and_macs() -> None:
    options = resolve_options({"variant": "on-device"})
    (fin,) = build_fins(600, options)
    assert fin.output_shape == (None, 4)
    model = build_lstm_fin((600, 12), 17, **options)
    assert model.output_shape == (None, 17)
    assert model.get_layer("feature_map").output_shape == (None, 12, 1, 4)
    assert lstm_fin_macs(600, 12, 17, options)["fins"] == 12 * (60 * 4 * 16 * (1 + 16) + 16 * 4)
    assert cnn_macs(12, 1, 4, 17, options) == 8 * 32 * 5 * 4 + 4 * 32 * 5 * 32 + 17 * 4 * 32
    probabilities = model.predict(np.zeros((2, 600, 12), np.float32), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_bad_options_are_named() -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        resolve_options({"variant": "tiny"})
    with pytest.raises(ValueError, match="unknown options"):
        resolve_options({"hiden": 3})
    with pytest.raises(ValueError, match="fin_outputs"):
        resolve_options({"fin_outputs": 4})
    with pytest.raises(ValueError, match=">= 9 channels"):
        build_lstm_fin((600, 8), 17, variant="on-device")


# ------------------------------------------------------------------ transfer wiring


def test_transferred_fins_feed_the_cnn_channel_by_channel(tmp_path) -> None:
    import tf_keras as tfk

    tfk.utils.set_random_seed(1)
    window, channels = 30, 10
    fins = build_fins(window, SMALL_FAITHFUL)
    for fin in fins:  # "pre-trained": distinct random weights
        fin.set_weights([w + 0.1 * np.random.default_rng(2).standard_normal(w.shape) for w in fin.get_weights()])
    save_fins(fins, tmp_path, {"r2": {}}, resolve_options(SMALL_FAITHFUL))
    loaded, _ = load_fins(tmp_path, SMALL_FAITHFUL)
    model = build_lstm_fin((window, channels), 17, fins=loaded, **SMALL_FAITHFUL)
    x = np.random.default_rng(3).standard_normal((2, window, channels)).astype(np.float32)
    feature_map = tfk.Model(model.input, model.get_layer("feature_map").output)(x, training=False).numpy()
    assert feature_map.shape == (2, channels, 9, 4)
    for f, fin in enumerate(fins):  # the original (saved) FINs, applied to each channel alone
        for c in range(channels):
            expected = fin(x[:, :, c : c + 1], training=False).numpy()  # (2, 9 copies)
            np.testing.assert_allclose(feature_map[:, c, :, f], expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="other options"):
        load_fins(tmp_path, {**SMALL_FAITHFUL, "hidden": 5})


# ------------------------------------------------------------------ int8 export and parity


def _on_device_int8(seed: int = 0) -> tuple[object, bytes, np.ndarray]:
    import tf_keras as tfk

    from myoedge.quantize.convert import convert_int8

    tfk.utils.set_random_seed(seed)
    model = build_lstm_fin((600, 12), 17, variant="on-device")
    rng = np.random.default_rng(seed)
    for layer in model.layers:  # non-trivial batch-norm statistics, as after training
        if isinstance(layer, tfk.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([1 + 0.2 * rng.standard_normal(gamma.shape), 0.1 * rng.standard_normal(beta.shape),
                               0.1 * rng.standard_normal(mean.shape), 1 + rng.random(var.shape)])
    x = rng.standard_normal((40, 600, 12)).astype(np.float32)
    return model, convert_int8(model, x[:20], n_calibration=20), x[20:]


def test_on_device_variant_exports_pure_int8_with_the_fused_lstm_and_aot_matches_tflm() -> None:
    pytest.importorskip("tflite_micro")
    from myoedge.quantize.convert import check_pure_int8
    from myoedge.quantize.tflite_graph import load_graph
    from myoedge.quantize.tflm_reference import TflmReference

    model, tflite, x = _on_device_int8()
    graph = load_graph(tflite)
    opcodes = [op.opcode for op in graph.ops]
    assert opcodes.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == 1 and "WHILE" not in opcodes
    check_pure_int8(graph)
    reference = TflmReference(tflite)
    x_int8 = reference.quantize_input(x)
    scores = reference.run_batch(x_int8)
    float_scores = model.predict(x, verbose=0)
    assert np.abs(reference.dequantize_output(scores) - float_scores).max() < 0.05
    # TFLM resets the LSTM state per window: the same window twice gives the same scores
    np.testing.assert_array_equal(reference.run_batch(x_int8[:1]), scores[:1])

    aot = pytest.importorskip("myoedge.quantize.aot.host_build")
    compiled = aot.AotModel(tflite, name="lstm_fin_on_device")
    ours = compiled.run_batch(x_int8).reshape(scores.shape)
    mismatched = np.flatnonzero((ours != scores).any(axis=1))
    assert mismatched.size == 0, (
        f"AOT engine differs from TFLM on windows {mismatched.tolist()} "
        f"(max {np.abs(ours.astype(int) - scores).max()} LSB)"
    )


# ------------------------------------------------------------------ the command line


@pytest.fixture(scope="module")
def tiny_delsys(tmp_path_factory):
    from myoedge.training.synthetic import write_synthetic_dataset

    folder = tmp_path_factory.mktemp("delsys")
    write_synthetic_dataset("delsys12", 1, folder, gestures=3, repetitions=6, progress=False)
    return folder


@pytest.mark.slow
def test_cli_train_lstm_fin_writes_a_run_folder_the_quantizer_reads(tiny_delsys, tmp_path, capsys) -> None:
    from myoedge.cli import main
    from myoedge.quantize.pipeline import load_run
    from myoedge.training.run import RunBundle

    out = tmp_path / "run"
    code = main([
        "train", "--dataset", "synthetic-delsys12", "--data-dir", str(tiny_delsys), "--subject", "1",
        "--model", "lstm-fin", "--option", "variant=on-device", "--epochs", "1", "--out", str(out),
        "--set", "pretrain_epochs=1", "--set", "max_pretrain_sequences=300", "--set", "predict_ahead=1",
        "--preprocess", "step=200",
    ])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("accuracy", "balanced_accuracy", "mcc", "params", "macs", "fin_r2"):
        assert key in metrics
    assert set(metrics["baselines"]) == {"lda", "linear_svm"}
    assert set(metrics["fin_r2"]) == {"entropy", "rms", "variance", "ssi"}
    bundle = RunBundle.load(out)
    assert bundle.model.name == "lstm-fin" and bundle.model.n_classes == 17 and len(bundle.label_names) == 17
    assert bundle.preprocess["zscore_window"] is False and bundle.split["test"] == [2, 5]
    assert bundle.extra["fin"]["predict_ahead"] == 1 and (out / "fins" / "fin_all.keras").is_file()
    run = load_run(out)  # model.keras loads (tf_keras fallback) and splits normalise
    assert run.test_x.shape[1:] == (600, 12) and run.test_y.max() < 17
    probabilities = run.model.predict(run.test_x[:3], verbose=0)
    assert probabilities.shape == (3, 17)


@pytest.mark.slow
def test_cli_pretrain_stage_then_transfer_stage(tiny_delsys, tmp_path) -> None:
    from myoedge.training.fin import train_fin_run

    common = dict(dataset="synthetic-delsys12", data_dir=tiny_delsys, subject=1, epochs=1, progress=False,
                  model_options={"variant": "on-device", "hidden": 4}, preprocess_overrides={"step": 300})
    report = train_fin_run(out=tmp_path / "pre", train_overrides={"fin_stage": "pretrain", "pretrain_epochs": 1,
                                                                   "max_pretrain_sequences": 200}, **common)
    assert set(report["r2"]) == {"entropy", "rms", "variance", "ssi"}
    assert not (tmp_path / "pre" / "metrics.json").exists()
    metrics = train_fin_run(out=tmp_path / "transfer",
                            train_overrides={"fin_stage": "transfer", "fin_dir": str(tmp_path / "pre"),
                                             "fine_tune_fins": False}, **common)
    assert metrics["fin_r2"] == report["r2"]
    import tf_keras as tfk

    saved = tfk.models.load_model(tmp_path / "pre" / "fins" / "fin_all.keras", safe_mode=True, compile=False)
    trained = tfk.models.load_model(tmp_path / "transfer" / "model.keras", safe_mode=True, compile=False)
    frozen = trained.get_layer("fin_all_per_channel").layer
    for before, after in zip(saved.get_weights(), frozen.get_weights()):
        np.testing.assert_array_equal(before, after)  # fine_tune_fins=False keeps the FINs as pre-trained
