"""``quantize_run`` end to end on a run folder written here by hand (tiny model, synthetic data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from myoedge.quantize.convert import NotPureInt8Error  # noqa: E402
from myoedge.quantize.pipeline import QuantizeError, quantize_run  # noqa: E402
from myoedge.quantize.report import AOT_FIELDS, graph_costs  # noqa: E402
from myoedge.quantize.tflite_graph import load_graph  # noqa: E402
from myoedge.quantize.tflm_reference import TflmReference  # noqa: E402
from myoedge.training.preprocess import PreprocessConfig  # noqa: E402
from myoedge.training.run import ModelSpec, RunBundle, save_model_splits  # noqa: E402

STEPS, CHANNELS, CLASSES = 6, 4, 3
LABELS = ["rest", "fist", "pinch"]


def _windows(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows whose class shifts the mean of one channel; raw units far from zero mean/unit std."""
    y = rng.integers(0, CLASSES, size=n)
    x = rng.normal(size=(n, STEPS, CHANNELS)) * 0.6
    for k in range(1, CLASSES):
        x[y == k, :, k] += 2.0
    return (x * 40.0 + 100.0).astype(np.float32), y.astype(np.int64)


def _write_run(run_dir: Path, middle: str = "relu") -> None:
    """A run folder in the documented format, with a briefly trained Dense model."""
    rng = np.random.default_rng(7)
    splits = {name: dict(zip(("x", "y"), _windows(rng, n))) for name, n in
              (("train", 240), ("validation", 60), ("test", 120))}
    mean = splits["train"]["x"].reshape(-1, CHANNELS).mean(axis=0)
    std = splits["train"]["x"].reshape(-1, CHANNELS).std(axis=0)

    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, CHANNELS))
    hidden = keras.layers.Dense(8)(keras.layers.Flatten()(inputs))
    hidden = keras.layers.ReLU()(hidden) if middle == "relu" else keras.layers.ELU()(hidden)
    outputs = keras.layers.Softmax()(keras.layers.Dense(CLASSES)(hidden))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    model.fit((splits["train"]["x"] - mean) / std, splits["train"]["y"], epochs=15, batch_size=32, verbose=0)

    run_dir.mkdir(parents=True, exist_ok=True)
    model.save(run_dir / "model.keras")
    save_model_splits(run_dir, splits)
    preprocess = PreprocessConfig(sampling_rate_hz=200.0, rectify=True, highpass_hz=20.0,
                                  window=10, step=5, moving_average=5).to_dict()
    RunBundle(
        dataset="synthetic-myo16", subject=1, exercise=None,
        model=ModelSpec(name="tiny-dense", options={}, params=int(model.count_params()),
                        input_shape=[STEPS, CHANNELS], n_classes=CLASSES, input_kind="sequence"),
        label_names=LABELS, preprocess=preprocess,
        normalisation={"kind": "standardize", "mean": mean.tolist(), "std": std.tolist()},
        split={"test": [5], "validation": [3], "train": [1, 2, 4, 6]}, train={"epochs": 15},
        data_dir="(synthetic)", seed=0, layout="myo16",
    ).save(run_dir)


@pytest.fixture(scope="module")
def quantized(tmp_path_factory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("quantize")
    run_dir, build_dir = root / "run", root / "build"
    _write_run(run_dir)
    report = quantize_run(run_dir, build_dir, progress=False, n_calibration=100)
    return run_dir, build_dir, report


def test_build_folder_has_every_artefact(quantized):
    _, build_dir, _ = quantized
    for name in ("model.tflite", "model_data.h", "model_data.c", "model_manifest.h",
                 "quant_report.json", "reference_test.npz", "confusion_int8.png"):
        assert (build_dir / name).is_file(), name


def test_int8_accuracy_is_close_to_float(quantized):
    _, _, report = quantized
    assert report["float"]["accuracy"] > 0.8  # the task is easy: the model learned it
    assert abs(report["int8"]["accuracy"] - report["float"]["accuracy"]) <= 0.05
    assert abs(report["int8"]["mcc"] - report["float"]["mcc"]) <= 0.1
    assert report["int8_float_agreement"] >= 0.9
    assert report["metrics_source"] == "myoedge.training.metrics.classification_metrics"


def test_report_file_holds_measured_figures(quantized):
    _, build_dir, report = quantized
    on_disk = json.loads((build_dir / "quant_report.json").read_text())
    for side in ("float", "int8"):
        assert set(on_disk[side]) >= {"accuracy", "balanced_accuracy", "mcc"}
    # the ahead-of-time stage fills these: generated C equal to TFLM on every test window
    assert on_disk["parity"] == {**on_disk["parity"], "windows": on_disk["test_windows"], "mismatches": 0}
    assert 0 < on_disk["aot_arena_bytes"] <= on_disk["tflm_arena_bytes"]
    assert set(AOT_FIELDS) <= set(on_disk)
    graph = load_graph(build_dir / "model.tflite")
    costs = graph_costs(graph)
    # Flatten(24) -> Dense(8) -> Dense(3): 24*8 + 8*3 MACs.
    assert on_disk["macs"] == costs.macs == 24 * 8 + 8 * 3
    assert on_disk["ops"] == graph.opcode_histogram() and on_disk["ops"]["FULLY_CONNECTED"] == 2
    assert on_disk["weights_bytes"] >= 24 * 8 + 8 * 3  # int8 weights plus int32 biases
    assert on_disk["tflm_arena_bytes"] > 0 and on_disk["tflm_arena_bytes"] % 16 == 0
    assert on_disk["test_windows"] == 120
    assert on_disk["tflite_bytes"] == (build_dir / "model.tflite").stat().st_size
    manifest = (build_dir / "model_manifest.h").read_text()
    assert f"#define MYE_TFLM_ARENA_BYTES {on_disk['tflm_arena_bytes']}u" in manifest
    assert '#define MYE_MODEL_NAME "tiny-dense"' in manifest


def test_reference_outputs_are_tflms(quantized):
    _, build_dir, report = quantized
    with np.load(build_dir / "reference_test.npz", allow_pickle=False) as saved:
        x_int8, scores, y = saved["x_int8"], saved["scores_int8"], saved["y"]
        scores_float = saved["scores_float"]
    assert x_int8.dtype == np.int8 and x_int8.shape == (120, STEPS, CHANNELS)
    assert scores.dtype == np.int8 and scores.shape == (120, CLASSES)
    assert scores_float.shape == (120, CLASSES)
    assert y.dtype == np.int64 and len(y) == 120
    reference = TflmReference((build_dir / "model.tflite").read_bytes())
    assert np.array_equal(reference.run_batch(x_int8[:10]), scores[:10])
    assert np.mean(scores.argmax(axis=1) == y) == pytest.approx(report["int8"]["accuracy"])


def test_float_op_is_refused_and_kept_for_inspection(tmp_path):
    run_dir, build_dir = tmp_path / "run", tmp_path / "build"
    _write_run(run_dir, middle="elu")
    with pytest.raises(NotPureInt8Error, match="ELU"):
        quantize_run(run_dir, build_dir, progress=False, n_calibration=50, probe=False)
    assert (build_dir / "model_rejected.tflite").is_file()
    assert not (build_dir / "model.tflite").exists()


def test_broken_run_folder_names_the_file(tmp_path):
    with pytest.raises(QuantizeError, match="bundle.json"):
        quantize_run(tmp_path, tmp_path / "build", progress=False)


def test_aot_stage_can_fill_in_its_fields(quantized, tmp_path):
    import shutil

    from myoedge.quantize.report import format_report_table, read_quant_report, update_quant_report

    _, build_dir, _ = quantized
    copy = tmp_path / "build"
    shutil.copytree(build_dir, copy)
    updated = update_quant_report(copy, {"aot_arena_bytes": 512, "parity": {"windows": 120, "mismatches": 0},
                                         "flash_estimate_bytes": 4096})
    assert read_quant_report(copy) == updated
    assert updated["aot_arena_bytes"] == 512 and updated["int8"]["accuracy"] is not None
    table = format_report_table(updated)
    assert "AOT arena" in table and "0 mismatches / 120 windows" in table


def test_tf_keras_model_files_load_too(tmp_path):
    """LSTM runs are saved from tf_keras (Keras 2) so that they convert to the fused op."""
    tf_keras = pytest.importorskip("tf_keras")
    from myoedge.quantize.pipeline import _load_keras_model

    model = tf_keras.Sequential([tf_keras.Input((5, 2)), tf_keras.layers.LSTM(4), tf_keras.layers.Dense(2)])
    model.save(tmp_path / "model.keras")
    loaded = _load_keras_model(tmp_path / "model.keras")
    assert type(loaded).__module__.startswith("tf_keras")
    x = np.ones((1, 5, 2), dtype=np.float32)
    assert np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(QuantizeError, match="missing"):
        _load_keras_model(tmp_path / "absent.keras")
