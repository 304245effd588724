"""``export_windows`` on a run folder written here: synthetic recordings, a tiny
Dense model, its int8 build; the windows file is checked against TFLM, the
run's own preprocessing and the recordings it came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from myoedge.hil.windows import FORMAT, export_windows, load_windows  # noqa: E402

CLASSES = 3


@pytest.fixture(scope="module")
def run_and_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Synthetic myo16 data (3 gestures x 6 repetitions), a Dense model, quantised."""
    from myoedge.quantize.pipeline import quantize_run
    from myoedge.training.loaders import load_dataset
    from myoedge.training.preprocess import PreprocessConfig
    from myoedge.training.run import ModelSpec, RunBundle, save_model_splits
    from myoedge.training.synthetic import write_synthetic_dataset
    from myoedge.training.windows import concat, make_windows, split_by_repetition

    root = tmp_path_factory.mktemp("hil-windows")
    data_dir, run_dir, build_dir = root / "data", root / "run", root / "build"
    write_synthetic_dataset("myo16", 1, data_dir, seed=1, progress=False, gestures=CLASSES - 1)
    cfg = PreprocessConfig.for_dataset("synthetic-myo16", window=20, step=10, moving_average=5)
    recordings = load_dataset("synthetic-myo16", data_dir, 1)
    splits = split_by_repetition(concat([make_windows(r, cfg) for r in recordings]))
    mean = splits["train"].x.reshape(-1, 16).mean(axis=0)
    std = splits["train"].x.reshape(-1, 16).std(axis=0) + 1e-6

    keras.utils.set_random_seed(0)
    inputs = keras.Input(splits["train"].x.shape[1:])
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(hidden))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit((splits["train"].x - mean) / std, splits["train"].y, epochs=2, verbose=0)
    run_dir.mkdir()
    model.save(run_dir / "model.keras")
    save_model_splits(run_dir, {
        "train": {"x": splits["train"].x, "y": splits["train"].y},
        "validation": {"x": splits["validation"].x, "y": splits["validation"].y},
        "test": {"x": splits["test"].x, "y": splits["test"].y, "raw": splits["test"].raw}})
    RunBundle(
        dataset="synthetic-myo16", subject=1, exercise=None,
        model=ModelSpec("tiny-dense", {}, int(model.count_params()),
                        list(splits["train"].x.shape[1:]), CLASSES, "sequence"),
        label_names=["rest", "g1", "g2"], preprocess=cfg.to_dict(),
        normalisation={"kind": "standardize", "mean": mean.tolist(), "std": std.tolist()},
        split={"test": [5], "validation": [3], "train": [0, 1, 2, 4, 6]}, train={"epochs": 2},
        data_dir=str(data_dir), seed=0, layout="myo16",
    ).save(run_dir)
    quantize_run(run_dir, build_dir, progress=False, n_calibration=50, probe=False)
    return run_dir, build_dir


def test_export_holds_reference_bookkeeping_and_stream(run_and_build, tmp_path: Path) -> None:
    from myoedge.quantize.headers import model_hash
    from myoedge.quantize.tflm_reference import TflmReference
    from myoedge.training.run import RunBundle, load_model_splits

    run_dir, build_dir = run_and_build
    path = export_windows(run_dir, "test", tmp_path / "windows.npz", build_dir, progress=False)
    windows = load_windows(path)
    bundle = RunBundle.load(run_dir)
    test = load_model_splits(run_dir)["test"]
    model_bytes = (build_dir / "model.tflite").read_bytes()
    reference = TflmReference(model_bytes)

    meta = windows.metadata
    assert meta["format"] == FORMAT and meta["model_hash"] == model_hash(model_bytes).hex16
    assert meta["input_scale"] == pytest.approx(reference.input_scale)
    assert meta["preprocess"]["window"] == 20 and meta["label_names"] == ["rest", "g1", "g2"]
    assert np.array_equal(windows.x_int8, reference.quantize_input(bundle.normalise(test["x"])))
    assert np.array_equal(windows.scores_int8, reference.run_batch(windows.x_int8))
    assert np.array_equal(windows.y, test["y"])
    assert np.array_equal(windows.raw, test["raw"])
    # Bookkeeping recomputed from the recordings: every test window is repetition 5.
    assert meta["bookkeeping"] == "recomputed from the recordings"
    assert set(windows.repetition.tolist()) == {5} and set(windows.subject.tolist()) == {1}
    assert np.all(np.diff(windows.start) > 0)

    stream = windows.stream
    assert stream is not None and len(stream.positions) > 10
    assert np.array_equal(stream.positions, 20 + 10 * np.arange(len(stream.positions)))
    # The stream's hops are the same windows the training transform cuts.
    from myoedge.training.preprocess import PreprocessConfig, preprocess_stream

    cfg = PreprocessConfig.from_dict(meta["preprocess"])
    cut, _ = preprocess_stream(cfg, stream.samples)
    host = reference.run_batch(reference.quantize_input(bundle.normalise(cut))).argmax(axis=1)
    assert np.array_equal(stream.expected, host[:len(stream.expected)])
    if stream.expected_board is not None:  # cmsisdsp present: board preprocessing agrees closely
        assert np.mean(stream.expected_board == stream.expected) > 0.9
        assert "board-preprocessing" in meta["stream_note"]


def test_other_split_is_computed_and_missing_build_is_named(run_and_build, tmp_path: Path) -> None:
    run_dir, build_dir = run_and_build
    windows = load_windows(export_windows(run_dir, "validation", tmp_path / "v.npz", build_dir,
                                          progress=False, stream_seconds=2.0))
    assert windows.raw is None and set(windows.repetition.tolist()) == {3}
    assert len(windows.stream.samples) <= 2 * 200
    with pytest.raises(FileNotFoundError, match="run `myoedge quantize"):
        export_windows(run_dir, "test", tmp_path / "x.npz", tmp_path / "nowhere")


def test_without_the_recordings_the_export_says_so(run_and_build, tmp_path: Path) -> None:
    import shutil

    from myoedge.training.run import RunBundle

    run_dir, build_dir = run_and_build
    moved = tmp_path / "run"
    shutil.copytree(run_dir, moved)
    bundle = RunBundle.load(moved)
    bundle.data_dir = str(tmp_path / "recordings-elsewhere")
    bundle.save(moved)
    windows = load_windows(export_windows(moved, "test", tmp_path / "w.npz", build_dir, progress=False))
    assert windows.stream is None and set(windows.start.tolist()) == {-1}
    assert "recordings-elsewhere" in windows.metadata["stream_note"]
    assert windows.metadata["bookkeeping"] == "unknown (-1)"
    assert len(windows) > 0 and windows.raw is not None  # the windows themselves are all there
