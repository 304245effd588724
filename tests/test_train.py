"""End to end through the training stage on a small synthetic data set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from myoedge.training import run as runfolder
from myoedge.training.evaluate import majority_vote
from myoedge.training.recipes import TrainConfig, recipe_for


@pytest.fixture(scope="module")
def synthetic_myo(tmp_path_factory) -> Path:
    from myoedge.training.synthetic import write_synthetic_dataset

    out = tmp_path_factory.mktemp("synth")
    write_synthetic_dataset("myo16", 1, out, seed=3, progress=False)
    return out


@pytest.fixture(scope="module")
def trained_run(synthetic_myo, tmp_path_factory) -> tuple[Path, dict]:
    from myoedge.training.train import train_run

    out = tmp_path_factory.mktemp("run")
    metrics = train_run("synthetic-myo16", synthetic_myo, 1, "attention-compact", out, epochs=2, seed=0,
                        progress=False)
    return out, metrics


def test_run_folder_has_every_artefact(trained_run):
    out, metrics = trained_run
    for name in ("model.keras", "bundle.json", "metrics.json", "history.json", "splits.npz",
                 "confusion_matrix.png", "training_curves.png"):
        assert (out / name).is_file(), name
    on_disk = json.loads((out / "metrics.json").read_text())
    for key in ("accuracy", "balanced_accuracy", "mcc", "params", "baselines", "confusion_matrix"):
        assert key in on_disk
    assert set(on_disk["baselines"]) == {"lda", "linear_svm"}
    for peer in on_disk["baselines"].values():
        assert 0.0 <= peer["balanced_accuracy"] <= 1.0
    n_test = on_disk["n_windows"]["test"]
    assert np.asarray(on_disk["confusion_matrix"]).sum() == n_test
    # two epochs on learnable data: clearly above chance (13 classes, balanced chance ~0.077)
    assert metrics["balanced_accuracy"] > 0.15


def test_bundle_records_preprocessing_and_normalisation(trained_run):
    out, metrics = trained_run
    bundle = runfolder.RunBundle.load(out)
    assert bundle.preprocess["window"] == 52 and bundle.preprocess["moving_average"] == 15
    assert bundle.preprocess["highpass_hz"] == 20
    assert bundle.model.input_shape == [38, 16]
    assert bundle.model.params == metrics["params"]
    assert len(bundle.label_names) == bundle.model.n_classes == 13
    assert bundle.normalisation["kind"] == "standardize"
    assert len(bundle.normalisation["mean"]) == 16


def test_saved_model_reloads_safely_and_reproduces_test_scores(trained_run):
    import keras

    import myoedge.training.models  # noqa: F401  registers the custom layers

    out, metrics = trained_run
    model = keras.models.load_model(out / "model.keras", safe_mode=True)
    splits = runfolder.load_model_splits(out)
    bundle = runfolder.RunBundle.load(out)
    x = bundle.normalise(splits["test"]["x"])
    pred = model.predict(x, verbose=0).argmax(axis=1)
    accuracy = float((pred == splits["test"]["y"]).mean())
    assert accuracy == pytest.approx(metrics["accuracy"], abs=1e-6)
    assert splits["test"]["raw"].shape[1:] == (52, 16)


def test_splits_keep_test_and_validation_repetitions_apart(synthetic_myo):
    from myoedge.training.train import prepare_data

    data = prepare_data("synthetic-myo16", synthetic_myo, 1, None, "sequence", recipe_for("attention"))
    assert set(np.unique(data.splits["test"].repetition)) == {5}
    assert set(np.unique(data.splits["validation"].repetition)) == {3}
    assert not ({3, 5} & set(np.unique(data.splits["train"].repetition)))


def test_bad_training_setting_is_named():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="unknown training settings"):
        TrainConfig().with_overrides(learning_rat=0.1)


def test_majority_vote_looks_back_within_a_group_only():
    predictions = np.array([1, 2, 2, 1, 1, 1, 3, 3])
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    voted = majority_vote(predictions, groups, run=3)
    # i=3: window [2,2,1] -> 2; i=4: [2,1,1] -> 1; i=5 starts a new group: [1] -> 1; i=6: [1,3] tie -> latest 3
    assert voted.tolist() == [1, 2, 2, 2, 1, 1, 3, 3]


def test_cli_train_writes_metrics(synthetic_myo, tmp_path):
    from myoedge.cli import main

    out = tmp_path / "cli-run"
    code = main(["train", "--dataset", "synthetic-myo16", "--data-dir", str(synthetic_myo), "--subject", "1",
                 "--model", "attention-compact", "--epochs", "1", "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "balanced_accuracy", "mcc", "baselines", "params"} <= set(metrics)


def test_cli_reports_missing_data_clearly(tmp_path, capsys):
    from myoedge.cli import main

    code = main(["train", "--dataset", "ninapro-db5", "--data-dir", str(tmp_path), "--subject", "1",
                 "--model", "attention-compact", "--out", str(tmp_path / "r")])
    assert code == 2
    assert "error" in capsys.readouterr().err


def test_streaming_from_disk_shards_matches_in_memory_windows(tmp_path):
    from myoedge.training.datasets import shard_generator, write_shards

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4, 3)).astype(np.float32)
    y = np.arange(50, dtype=np.int64)
    paths = write_shards(x, y, tmp_path, shard_windows=16)
    assert len(paths) == 4  # 16 + 16 + 16 + 2
    seen = list(shard_generator(tmp_path, shuffle=True, seed=1)())
    labels = sorted(int(label) for _, label in seen)
    assert labels == list(range(50))  # every window exactly once per pass
    for window, label in seen:
        np.testing.assert_array_equal(window, x[label])
    first_pass = [int(label) for _, label in seen]
    assert first_pass != list(range(50))  # shuffled


def test_shard_with_mismatched_labels_is_named(tmp_path):
    from myoedge.training.datasets import shard_generator

    np.save(tmp_path / "x_00000.npy", np.zeros((4, 2), np.float32))
    np.save(tmp_path / "y_00000.npy", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="x_00000.npy"):
        list(shard_generator(tmp_path, shuffle=False, seed=0)())


def test_training_streams_from_disk(synthetic_myo, tmp_path):
    from myoedge.training.train import train_run

    metrics = train_run("synthetic-myo16", synthetic_myo, 1, "attention-compact", tmp_path, epochs=2, seed=0,
                        train_overrides={"stream_from_disk": True, "early_stopping_patience": 5}, progress=False)
    assert sorted(p.name for p in (tmp_path / "shards").glob("x_*.npy"))
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) == 2  # the second pass over the shards ran too
    assert metrics["epochs_run"] == 2 and 0.0 <= metrics["balanced_accuracy"] <= 1.0


def test_image_model_on_hd_grid_scores_frames_and_majority_vote(tmp_path):
    from myoedge.training.synthetic import write_synthetic_dataset
    from myoedge.training.train import train_run

    data = tmp_path / "hd"
    write_synthetic_dataset("hd8x16", 1, data, seed=0, progress=False)
    metrics = train_run("synthetic-hd8x16", data, 1, "sconvnet", tmp_path / "run", epochs=1, seed=0,
                        model_options={"width": 8, "dense_units": 16}, progress=False)
    bundle = runfolder.RunBundle.load(tmp_path / "run")
    assert bundle.model.input_shape == [8, 16, 1] and bundle.model.input_kind == "image"
    vote = metrics["majority_vote"]
    assert vote["frames"] == 40
    # single frames of a 1 s trial are noisy; voting over 40 ms must not make things worse on this data
    assert vote["accuracy"] >= metrics["accuracy"] - 0.02


def test_pooled_subjects_share_one_split(tmp_path):
    from myoedge.training.synthetic import write_synthetic_dataset
    from myoedge.training.train import prepare_data

    write_synthetic_dataset("myo16", [1, 2], tmp_path, seed=5, progress=False)
    one = prepare_data("synthetic-myo16", tmp_path, 1, None, "sequence", recipe_for("attention"))
    pooled = prepare_data("synthetic-myo16", tmp_path, [1, 2], None, "sequence", recipe_for("attention"))
    assert set(np.unique(pooled.splits["train"].subject)) == {1, 2}
    assert len(pooled.splits["test"].y) > len(one.splits["test"].y)
    assert set(np.unique(pooled.splits["test"].repetition)) == {5}


def test_broken_splits_files_name_the_problem(tmp_path):
    (tmp_path / "splits.npz").write_bytes(b"not a zip file")
    with pytest.raises(runfolder.RunFolderError, match="splits.npz"):
        runfolder.load_model_splits(tmp_path)
    np.savez(tmp_path / "splits.npz", train_x=np.zeros((2, 3, 1), np.float32))
    with pytest.raises(runfolder.RunFolderError, match="lacks x or y"):
        runfolder.load_model_splits(tmp_path)
    np.savez(tmp_path / "splits.npz", train_x=np.array([{"a": 1}], dtype=object), train_y=np.zeros(1))
    with pytest.raises(runfolder.RunFolderError, match="splits.npz"):
        runfolder.load_model_splits(tmp_path)


def test_bundle_that_is_not_ours_is_named(tmp_path):
    (tmp_path / "bundle.json").write_text('{"format": "something-else"}')
    with pytest.raises(runfolder.RunFolderError, match="format"):
        runfolder.RunBundle.load(tmp_path)
    with pytest.raises(runfolder.RunFolderError, match="no bundle.json"):
        runfolder.RunBundle.load(tmp_path / "missing")
