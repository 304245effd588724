"""``myoedge train``: recordings in, a run folder out.

Steps: load the recordings -> preprocess into windows -> split by repetition
-> fit the normalisation on the training split -> score the classical peers
-> train the Keras model (tf.data, early stopping on validation, checkpoints)
-> score the test split -> write the run folder (see ``run.py``).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import run as runfolder
from .classical import fit_classical_peers
from .evaluate import majority_vote, plot_training_curves, score_predictions
from .loaders import label_names as dataset_label_names
from .loaders import load_dataset
from .preprocess import PreprocessConfig
from .recipes import TrainConfig, preprocess_overrides_for, recipe_for
from .windows import WindowSet, concat, make_windows, split_by_repetition


@dataclass
class PreparedData:
    """Windows of one subject, split, in the shape the model takes."""

    splits: dict[str, WindowSet]
    inputs: dict[str, np.ndarray]  # model-shaped, not normalised
    preprocess: PreprocessConfig
    label_names: list[str]
    layout_name: str
    input_kind: str


def prepare_data(
    dataset: str,
    data_dir: Path,
    subject: int | list[int],
    exercise: int | None,
    input_kind: str,
    config: TrainConfig,
    preprocess_overrides: dict[str, Any] | None = None,
    model_name: str | None = None,
) -> PreparedData:
    """Load, preprocess, window and split one subject's recordings.

    The preprocessing is the data set's preset, then ``model_name``'s recipe
    overrides (``recipes.PREPROCESS_OVERRIDES``), then ``preprocess_overrides``
    (the user's ``--preprocess``), later ones winning.
    """
    subjects = [subject] if isinstance(subject, int) else list(subject)
    recordings = [rec for s in subjects for rec in load_dataset(dataset, Path(data_dir), s, exercise)]
    if not recordings:
        raise FileNotFoundError(f"no recordings for {dataset} subject(s) {subjects} in {data_dir}")
    cfg = PreprocessConfig.for_dataset(dataset, **preprocess_overrides_for(model_name, preprocess_overrides))
    windows = concat([make_windows(rec, cfg) for rec in recordings])
    splits = split_by_repetition(
        windows, test=config.test_repetitions, validation=config.validation_repetitions
    )
    for name, ws in splits.items():
        if len(ws.y) == 0:
            raise ValueError(
                f"{dataset} subject {subject}: the {name} split is empty "
                f"(repetitions present: {sorted(set(windows.repetition.tolist()))})"
            )
    layout = recordings[0].layout
    inputs = {name: to_model_input(ws.x, input_kind, layout) for name, ws in splits.items()}
    names = list(dataset_label_names(dataset, exercise))
    return PreparedData(splits, inputs, cfg, names, layout.name, input_kind)


def to_model_input(x: np.ndarray, input_kind: str, layout) -> np.ndarray:
    """Windows (n, T, C) -> what the model takes: the same, or (n, rows, cols, 1) images."""
    if input_kind == "sequence":
        return x.astype(np.float32)
    if input_kind == "image":
        if x.shape[1] != 1:
            raise ValueError(f"image models take single frames; windows have {x.shape[1]} steps")
        return layout.to_grid(x[:, 0, :])[..., None].astype(np.float32)
    raise ValueError(f"unknown input kind {input_kind!r}")


def fit_normalisation(x_train: np.ndarray, kind: str, input_kind: str) -> dict[str, Any]:
    """Per-channel (sequences) or per-electrode (images) mean and std of the training inputs."""
    if kind == "none":
        return {"kind": "none"}
    axes = tuple(range(x_train.ndim - 1)) if input_kind == "sequence" else (0,)
    mean = x_train.mean(axis=axes)
    std = x_train.std(axis=axes)
    std = np.where(std < 1e-6, 1.0, std)
    return {"kind": "standardize", "mean": mean.tolist(), "std": std.tolist()}


def _strategy(distribute: str):
    import tensorflow as tf

    if distribute == "mirrored":
        return tf.distribute.MirroredStrategy()
    if distribute == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise RuntimeError("--distribute multi-worker needs TF_CONFIG set on every worker (see docs/TRAINING.md)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def train_run(
    dataset: str,
    data_dir: Path,
    subject: int | list[int],
    model_name: str,
    out: Path,
    exercise: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    model_options: dict[str, Any] | None = None,
    train_overrides: dict[str, Any] | None = None,
    preprocess_overrides: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train one model on one subject and write the run folder. Returns the metrics."""
    import keras
    import tensorflow as tf

    from . import models
    from .callbacks import ProgressBar
    from .datasets import make_dataset

    started = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = recipe_for(model_name).with_overrides(epochs=epochs, **(train_overrides or {}))
    keras.utils.set_random_seed(seed)

    input_kind = models.model_input_kind(model_name)
    data = prepare_data(dataset, data_dir, subject, exercise, input_kind, config, preprocess_overrides,
                        model_name=model_name)
    n_classes = len(data.label_names)
    normalisation = fit_normalisation(data.inputs["train"], config.normalisation, input_kind)
    bundle_stub = runfolder.RunBundle(
        dataset=dataset, subject=subject, exercise=exercise,
        model=runfolder.ModelSpec(model_name, dict(model_options or {}), 0, [], n_classes, input_kind),
        label_names=data.label_names, preprocess=data.preprocess.to_dict(), normalisation=normalisation,
        split={"test": list(config.test_repetitions), "validation": list(config.validation_repetitions),
               "train": sorted(int(r) for r in np.unique(data.splits["train"].repetition))},
        train=config.to_dict(), data_dir=str(data_dir), seed=seed, layout=data.layout_name,
    )
    x = {name: bundle_stub.normalise(v) for name, v in data.inputs.items()}
    y = {name: ws.y for name, ws in data.splits.items()}
    _log(progress, f"{dataset} subject {subject}: {len(y['train'])} train / {len(y['validation'])} validation / "
         f"{len(y['test'])} test windows, input {x['train'].shape[1:]}, {n_classes} classes")

    _log(progress, "classical peers (LDA, linear SVM on Hudgins features) ...")
    baselines = fit_classical_peers(data.splits["train"], data.splits["test"], n_classes, cfg=data.preprocess)

    strategy = _strategy(config.distribute)
    with strategy.scope():
        model = models.build_model(model_name, x["train"].shape[1:], n_classes, **(model_options or {}))
        model.compile(optimizer=_optimizer(config, steps_per_epoch=_steps(len(y["train"]), config.batch_size)),
                      loss=_loss(config), metrics=["accuracy"])
    params = int(model.count_params())
    _log(progress, f"model {model_name}: {params:,} parameters")

    train_ds = make_dataset(data.inputs["train"], y["train"], config, training=True, normalisation=normalisation,
                            seed=seed, cache_dir=out / "shards" if config.stream_from_disk else None)
    val_ds = make_dataset(data.inputs["validation"], y["validation"], config, training=False,
                          normalisation=normalisation)
    checkpoint = out / "checkpoints" / "best.weights.h5"
    checkpoint.parent.mkdir(exist_ok=True)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stopping_patience,
                                      restore_best_weights=True),
        keras.callbacks.ModelCheckpoint(str(checkpoint), monitor="val_loss", save_best_only=True,
                                        save_weights_only=True),
        keras.callbacks.CSVLogger(str(out / "history.csv")),
    ]
    if progress:
        callbacks.append(ProgressBar(config.epochs))
    fit_started = time.monotonic()
    history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, verbose=0, callbacks=callbacks,
                        shuffle=False)  # the tf.data pipeline shuffles
    train_seconds = time.monotonic() - fit_started

    scores = model.predict(tf.constant(x["test"]), batch_size=512, verbose=0)
    y_pred = scores.argmax(axis=1)
    metrics = score_predictions(y["test"], y_pred, n_classes, data.label_names, out,
                                title=f"{model_name}, {dataset} s{subject}, test repetitions {list(config.test_repetitions)}")
    if config.vote_frames > 1:
        test = data.splits["test"]
        groups = test.repetition * 1_000_003 + test.subject
        voted = majority_vote(y_pred, groups, config.vote_frames)
        metrics["majority_vote"] = {"frames": config.vote_frames, **_core(score_predictions(y["test"], voted, n_classes, data.label_names))}
    metrics.update(
        baselines={name: _core(m) for name, m in baselines.items()},
        params=params,
        train_seconds=round(train_seconds, 2),
        total_seconds=round(time.monotonic() - started, 2),
        epochs_run=len(history.history.get("loss", [])),
        n_windows={k: int(len(v)) for k, v in y.items()},
    )

    model.save(out / runfolder.MODEL_FILE)
    bundle_stub.model.params = params
    bundle_stub.model.input_shape = [int(d) for d in x["train"].shape[1:]]
    bundle_stub.model.options = dict(model_options or {})
    bundle_stub.save(out)
    runfolder.save_model_splits(out, {
        "train": {"x": data.inputs["train"], "y": y["train"]},
        "validation": {"x": data.inputs["validation"], "y": y["validation"]},
        "test": {"x": data.inputs["test"], "y": y["test"], "raw": data.splits["test"].raw},
    })
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    runfolder.write_json(out / runfolder.HISTORY_FILE, hist)
    plot_training_curves(hist, out / runfolder.CURVES_PNG)
    runfolder.write_json(out / runfolder.METRICS_FILE, metrics)
    return metrics


def _core(metrics: dict[str, Any]) -> dict[str, Any]:
    keep = ("accuracy", "balanced_accuracy", "mcc", "fit_seconds")
    return {k: metrics[k] for k in keep if k in metrics}


def _steps(n: int, batch: int) -> int:
    return max(1, -(-n // batch))


def _optimizer(config: TrainConfig, steps_per_epoch: int):
    import keras

    from .optimizers import DelayedCosine, Ranger

    total = config.epochs * steps_per_epoch
    flat = int(round(config.flat_fraction * total))
    schedule = DelayedCosine(
        initial_learning_rate=config.learning_rate, min_learning_rate=config.min_learning_rate,
        flat_steps=flat, decay_steps=max(1, total - flat),
    )
    if config.optimizer == "ranger":
        return Ranger(learning_rate=schedule)
    return keras.optimizers.Adam(learning_rate=schedule)


def _loss(config: TrainConfig):
    import keras

    from .losses import FocalLoss

    if config.loss == "focal":
        return FocalLoss(gamma=config.focal_gamma, alpha=config.focal_alpha)
    if config.label_smoothing > 0:
        return _SmoothedSparseCrossentropy(config.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def _SmoothedSparseCrossentropy(smoothing: float):
    import keras

    @keras.saving.register_keras_serializable(package="myoedge")
    def smoothed_sparse_crossentropy(y_true, y_pred):
        n = keras.ops.shape(y_pred)[-1]
        one_hot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), n)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=smoothing)

    return smoothed_sparse_crossentropy


def _log(enabled: bool, message: str) -> None:
    if enabled:
        print(message, flush=True)


def load_metrics(run_dir: Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / runfolder.METRICS_FILE).read_text())
