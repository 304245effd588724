"""LSTM-FIN end to end: data, feature targets, FIN pre-training, transfer, low latency, run folder.

``train_fin_run`` is what ``myoedge train --model lstm-fin`` calls. Stages
(``fin_stage`` setting):

- ``pretrain``: train the FINs to imitate the window features on single-channel
  windows of the training repetitions; report R^2 per feature on the held-out
  test repetitions; save them under ``RUN_DIR/fins/`` with ``fin_pretrain.json``.
- ``transfer``: load pre-trained FINs from ``fin_dir`` (a folder written by the
  ``pretrain`` stage), put them on every channel in front of the downstream
  CNN, fine-tune all of it jointly on the gestures, score, write the run folder.
- ``all`` (default): both, into the same folder.
- ``scratch``: the classifier with freshly initialised FINs (no pre-training).

Choices, each a setting (see :class:`FinTrainConfig`) with the paper's value
as the default unless said otherwise:

- Data: rest is excluded and the 17 movements are numbered 0..16; windows are
  cut from each movement segment (label and repetition constant), 600 samples
  every 20. Windows are *not* z-scored one by one: after a per-window z-score
  the RMS, variance and square integral of every window are 1, 1 and 600, so
  there would be nothing to imitate. The authors' code standardises over the
  data set instead; here the model input is standardised per channel with the
  training split's mean and std (the run's ``normalisation``, which the
  quantize stage and the board apply too), and the features are computed on
  that standardised input.
- Split (paper): FINs pre-train on repetitions 1, 3, 4 and are scored on 2, 5;
  the classifier trains on 1, 3, 4, stops early on 6 and is tested on 2, 5.
- Targets: each feature standardised with the training sequences' mean and std
  (kept in ``bundle.json`` -> ``extra.fin.target_scaler``); a FIN with
  ``fin_outputs`` = k copies is trained against the target tiled k times, as
  the authors do, and scored on the mean of its copies.
- Low latency (``predict_ahead`` = p): window i is paired with the label of
  the window p steps later (its start ``p * step`` samples later, same
  recording and repetition); windows without such a partner are dropped.
  Because windows are label-constant and rest is excluded, this removes the
  last p windows of each movement segment; the authors' shift of the
  concatenated window list instead labels those windows with the next
  movement.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import run as runfolder
from .features import FIN_NAMES, fin_features
from .preprocess import PreprocessConfig
from .recording import Recording
from .windows import WindowSet, concat, make_windows, split_by_repetition

MODEL_NAME = "lstm-fin"
FINS_DIR = "fins"
PRETRAIN_REPORT = "fin_pretrain.json"
STAGES = ("pretrain", "transfer", "all", "scratch")


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FinTrainConfig:
    """Every training setting of an LSTM-FIN run (recorded in ``bundle.json`` -> ``train``)."""

    fin_stage: str = "all"
    fin_dir: str | None = None  # transfer: folder holding fins/ from a pretrain run
    epochs: int = 30  # classifier (authors: 30 epochs for the CNN)
    pretrain_epochs: int = 60  # FINs (paper: 60 with early stopping)
    batch_size: int = 64
    learning_rate: float = 1e-3
    early_stopping_patience: int = 8
    fine_tune_fins: bool = True  # joint fine-tuning of FINs and CNN (paper); False freezes them
    predict_ahead: int = 0  # low-latency setting: label of the window this many steps later
    max_pretrain_sequences: int = 20000  # single-channel windows drawn for FIN pre-training
    max_score_sequences: int = 5000  # held-out single-channel windows scored for R^2
    max_train_windows: int = 0  # 0 = all; else a random subset of the training windows
    test_repetitions: tuple[int, ...] = (2, 5)
    validation_repetitions: tuple[int, ...] = (6,)

    def __post_init__(self) -> None:
        if self.fin_stage not in STAGES:
            raise ValueError(f"lstm-fin: fin_stage must be one of {STAGES}, got {self.fin_stage!r}")
        if self.fin_stage == "transfer" and not self.fin_dir:
            raise ValueError("lstm-fin: fin_stage=transfer needs fin_dir=<folder of a pretrain run>")
        for name in ("epochs", "pretrain_epochs", "batch_size", "max_pretrain_sequences", "max_score_sequences"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"lstm-fin: {name} must be >= 1, got {getattr(self, name)}")
        if self.predict_ahead < 0 or self.max_train_windows < 0:
            raise ValueError("lstm-fin: predict_ahead and max_train_windows must be >= 0")

    def with_overrides(self, **overrides: Any) -> "FinTrainConfig":
        """A copy with ``overrides`` applied (None values ignored); unknown names raise."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"lstm-fin: unknown training settings {unknown}; known: {sorted(known)}")
        values = {k: v for k, v in overrides.items() if v is not None}
        for name in ("test_repetitions", "validation_repetitions"):
            if name in values:
                value = values[name]
                values[name] = tuple(int(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
        return replace(self, **values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def movement_segments(rec: Recording) -> list[tuple[int, int]]:
    """``[start, end)`` sample ranges where the label is a movement (not 0) and label and repetition are constant."""
    change = np.flatnonzero((np.diff(rec.labels) != 0) | (np.diff(rec.repetitions) != 0)) + 1
    bounds = np.concatenate([[0], change, [rec.n_samples]])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if rec.labels[a] != 0]


def movement_windows(rec: Recording, cfg: PreprocessConfig) -> WindowSet | None:
    """The windows of every movement segment of ``rec`` (rest never windowed); None when there are none.

    Windows are cut per segment from its first sample, so rest costs no
    memory (a DB2 subject at step 20 would otherwise hold ~80 k windows).
    ``start`` stays the index in the whole recording.
    """
    sets = []
    for a, b in movement_segments(rec):
        if b - a < cfg.window:
            continue
        part = Recording(emg=rec.emg[a:b], labels=rec.labels[a:b], repetitions=rec.repetitions[a:b],
                         layout=rec.layout, subject=rec.subject, exercise=rec.exercise, source=rec.source)
        ws = make_windows(part, cfg)
        ws.start = ws.start + a
        sets.append(ws)
    return concat(sets) if sets else None


def label_ahead(ws: WindowSet, ahead: int, step: int) -> WindowSet:
    """Low-latency pairs: each window with the label of the window ``ahead`` steps later.

    The partner starts ``ahead * step`` samples later in the same subject and
    repetition; windows without a partner are dropped. ``ahead=0`` returns ``ws``.
    """
    if ahead == 0 or len(ws) == 0:
        return ws
    key = np.stack([ws.subject, ws.repetition, ws.start], axis=1)
    index_of = {tuple(row): i for i, row in enumerate(key.tolist())}
    found = np.array([index_of.get((s, r, start + ahead * step), -1) for s, r, start in key.tolist()],
                     dtype=np.int64)
    keep = found >= 0
    shifted = ws.select(keep)
    shifted.y = ws.y[found[keep]]
    return shifted


def drop_rest(ws: WindowSet) -> WindowSet:
    """Windows of movements only, relabelled 1..M -> 0..M-1 (the paper's 17 classes)."""
    kept = ws.select(ws.y != 0)
    kept.y = kept.y - 1
    return kept


@dataclass
class FinData:
    """Movement windows of one run, split by repetition (labels 0..M-1)."""

    splits: dict[str, WindowSet]
    preprocess: PreprocessConfig
    label_names: list[str]
    layout_name: str


def prepare_fin_data(
    dataset: str,
    data_dir: Path,
    subject: int | list[int],
    exercise: int | None,
    config: FinTrainConfig,
    preprocess_overrides: dict[str, Any] | None = None,
    seed: int = 0,
) -> FinData:
    """Load, window (movement segments), apply the low-latency pairing, drop rest, split."""
    from .loaders import label_names as dataset_label_names
    from .loaders import load_dataset

    subjects = [subject] if isinstance(subject, int) else list(subject)
    exercise = 1 if exercise is None else exercise  # DB2 exercise B is file E1
    overrides = {"zscore_window": False, **(preprocess_overrides or {})}
    cfg = PreprocessConfig.for_dataset(dataset, **overrides)
    sets = []
    layout_name = ""
    for s in subjects:
        for rec in load_dataset(dataset, Path(data_dir), s, exercise):
            layout_name = rec.layout.name
            ws = movement_windows(rec, cfg)
            if ws is not None:
                sets.append(label_ahead(ws, config.predict_ahead, cfg.step))
    if not sets:
        raise FileNotFoundError(f"lstm-fin: no movement windows for {dataset} subject(s) {subjects} in {data_dir}")
    windows = drop_rest(concat(sets))
    splits = split_by_repetition(windows, test=config.test_repetitions, validation=config.validation_repetitions)
    for name, ws in splits.items():
        if len(ws) == 0:
            raise ValueError(
                f"lstm-fin: {dataset} subject {subject}: the {name} split is empty (repetitions present: "
                f"{sorted(set(windows.repetition.tolist()))}; test {config.test_repetitions}, "
                f"validation {config.validation_repetitions})"
            )
    if config.max_train_windows and len(splits["train"]) > config.max_train_windows:
        rng = np.random.default_rng(seed)
        picked = np.sort(rng.choice(len(splits["train"]), config.max_train_windows, replace=False))
        splits["train"] = splits["train"].select(picked)
    names = list(dataset_label_names(dataset, exercise))[1:]
    return FinData(splits, cfg, names, layout_name)


# ---------------------------------------------------------------------------
# Feature targets
# ---------------------------------------------------------------------------


def channel_sequences(x: np.ndarray) -> np.ndarray:
    """Windows (n, T, C) -> single-channel windows (n * C, T, 1), window-major then channel."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"lstm-fin: windows must be (n, T, C), got shape {x.shape}")
    return np.ascontiguousarray(np.transpose(x, (0, 2, 1)).reshape(-1, x.shape[1], 1))


def sequence_features(sequences: np.ndarray) -> np.ndarray:
    """Reference features of single-channel windows (m, T, 1) -> (m, 4) in ``FIN_NAMES`` order."""
    return fin_features(sequences)[:, :, 0].astype(np.float64)


@dataclass(frozen=True)
class TargetScaler:
    """Per-feature mean and std of the training targets; FINs learn the standardised feature."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, features: np.ndarray) -> "TargetScaler":
        std = features.std(axis=0)
        std = np.where(std < 1e-12, 1.0, std)
        return cls(tuple(float(v) for v in features.mean(axis=0)), tuple(float(v) for v in std))

    def apply(self, features: np.ndarray) -> np.ndarray:
        return ((features - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(FIN_NAMES), "mean": list(self.mean), "std": list(self.std)}


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot (can be negative; NaN for a constant target)."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    if ss_tot == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((y_true - y_pred) ** 2)) / ss_tot


def fin_targets(standardised: np.ndarray, features: tuple[str, ...], copies: int) -> np.ndarray:
    """Columns of ``features`` from (m, 4) standardised targets, each tiled ``copies`` times, feature-major."""
    columns = [standardised[:, FIN_NAMES.index(name)] for name in features]
    return np.repeat(np.stack(columns, axis=1), copies, axis=1).astype(np.float32)


def fin_predictions(outputs: np.ndarray, n_features: int, copies: int) -> np.ndarray:
    """(m, n_features * copies) FIN outputs -> (m, n_features): the mean of each feature's copies."""
    return np.asarray(outputs).reshape(len(outputs), n_features, copies).mean(axis=2)


# ---------------------------------------------------------------------------
# Pre-training and transfer
# ---------------------------------------------------------------------------


def _subsample(x: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    if len(x) <= limit:
        return x
    return x[np.sort(rng.choice(len(x), limit, replace=False))]


def pretrain_fins(
    train_x: np.ndarray,
    validation_x: np.ndarray,
    test_x: np.ndarray,
    options: dict[str, Any],
    config: FinTrainConfig,
    seed: int = 0,
    progress: bool = True,
) -> tuple[list, dict[str, Any]]:
    """Train the FIN bank on single-channel windows of ``train_x`` (standardised model inputs).

    Returns ``(fins, report)``; ``report`` holds ``r2`` (feature -> R^2 on the
    channels of ``test_x``), ``target_scaler``, per-FIN ``history`` and
    ``seconds``, and the numbers of sequences used.
    """
    import tf_keras as tfk

    from .models.lstm_fin import build_fin, fin_groups, resolve_options

    options = resolve_options(options)
    rng = np.random.default_rng(seed)
    window = int(train_x.shape[1])
    train_seq = _subsample(channel_sequences(train_x), config.max_pretrain_sequences, rng)
    val_seq = _subsample(channel_sequences(validation_x), config.max_score_sequences, rng)
    test_seq = _subsample(channel_sequences(test_x), config.max_score_sequences, rng)
    scaler = TargetScaler.fit(sequence_features(train_seq))
    targets = {name: scaler.apply(sequence_features(seq)) for name, seq in
               (("train", train_seq), ("validation", val_seq), ("test", test_seq))}
    copies = options["fin_outputs"]
    fins, r2, histories, seconds = [], {}, {}, {}
    for group in fin_groups(options):
        fin = build_fin(window, group, options)
        fin.compile(optimizer=tfk.optimizers.Adam(config.learning_rate), loss="mse")
        callbacks = [tfk.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stopping_patience,
                                                 restore_best_weights=True)]
        if progress:
            callbacks.append(_progress_callback(fin.name, config.pretrain_epochs))
        started = time.monotonic()
        history = fin.fit(train_seq, fin_targets(targets["train"], group, copies),
                          validation_data=(val_seq, fin_targets(targets["validation"], group, copies)),
                          epochs=config.pretrain_epochs, batch_size=config.batch_size, verbose=0,
                          callbacks=callbacks)
        seconds[fin.name] = round(time.monotonic() - started, 2)
        predicted = fin_predictions(fin.predict(test_seq, batch_size=256, verbose=0), len(group), copies)
        for column, name in enumerate(group):
            r2[name] = r2_score(targets["test"][:, FIN_NAMES.index(name)], predicted[:, column])
        histories[fin.name] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        fins.append(fin)
    report = {
        "r2": r2,
        "target_scaler": scaler.to_dict(),
        "history": histories,
        "seconds": seconds,
        "sequences": {name: int(len(seq)) for name, seq in (("train", train_seq), ("validation", val_seq),
                                                             ("test", test_seq))},
    }
    return fins, report


def save_fins(fins: list, folder: Path, report: dict[str, Any], options: dict[str, Any]) -> Path:
    """Write each FIN as ``<folder>/fins/<name>.keras`` and the report as ``fin_pretrain.json``."""
    folder = Path(folder)
    (folder / FINS_DIR).mkdir(parents=True, exist_ok=True)
    for fin in fins:
        fin.save(folder / FINS_DIR / f"{fin.name}.keras")
    runfolder.write_json(folder / PRETRAIN_REPORT, {**report, "options": options,
                                                     "fins": [fin.name for fin in fins]})
    return folder / PRETRAIN_REPORT


def load_fins(folder: Path, options: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """FINs and report saved by :func:`save_fins`; checks they match the variant's options."""
    import tf_keras as tfk

    from .models.lstm_fin import fin_groups, fin_name, resolve_options

    folder = Path(folder)
    report_path = folder / PRETRAIN_REPORT
    if not report_path.is_file():
        raise FileNotFoundError(f"lstm-fin: {report_path} missing; run with fin_stage=pretrain first")
    report = json.loads(report_path.read_text())
    options = resolve_options(options)
    saved = resolve_options(report.get("options", {}))
    if saved != options:
        differ = sorted(k for k in options if options[k] != saved.get(k))
        raise ValueError(f"lstm-fin: FINs in {folder} were pre-trained with other options ({differ})")
    fins = []
    for group in fin_groups(options):
        path = folder / FINS_DIR / f"{fin_name(group)}.keras"
        if not path.is_file():
            raise FileNotFoundError(f"lstm-fin: {path} missing")
        fins.append(tfk.models.load_model(path, safe_mode=True, compile=False))
    return fins, report


def _progress_callback(label: str, epochs: int):
    """A tf_keras callback printing one line per epoch (FIN pre-training and the classifier)."""
    import tf_keras as tfk

    class ProgressLine(tfk.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items())
            print(f"  {label} epoch {epoch + 1}/{epochs}: {shown}", flush=True)

    return ProgressLine()


def fit_normalisation(x_train: np.ndarray) -> dict[str, Any]:
    """Per-channel mean and std of the training windows (the run's ``standardize`` normalisation)."""
    from .train import fit_normalisation as fit

    return fit(x_train, "standardize", "sequence")


def train_fin_run(
    dataset: str,
    data_dir: Path,
    subject: int | list[int],
    out: Path,
    exercise: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    model_options: dict[str, Any] | None = None,
    train_overrides: dict[str, Any] | None = None,
    preprocess_overrides: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the ``fin_stage`` of LSTM-FIN on one subject (or pooled subjects); returns the metrics.

    Stages ``transfer``, ``all`` and ``scratch`` write a full run folder (see
    docs/ARCHITECTURE.md) with ``metrics.json`` also holding ``fin_r2`` and
    ``macs``; ``pretrain`` writes ``fins/`` and ``fin_pretrain.json`` and
    returns that report.
    """
    import tf_keras as tfk

    from .evaluate import plot_training_curves, score_predictions
    from .classical import fit_classical_peers
    from .models.lstm_fin import build_lstm_fin, lstm_fin_macs, resolve_options

    started = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = FinTrainConfig().with_overrides(epochs=epochs, **(train_overrides or {}))
    options = resolve_options(model_options)
    tfk.utils.set_random_seed(seed)
    data = prepare_fin_data(dataset, data_dir, subject, exercise, config, preprocess_overrides, seed)
    n_classes = len(data.label_names)
    normalisation = fit_normalisation(data.splits["train"].x)
    mean = np.asarray(normalisation["mean"], dtype=np.float32)
    std = np.asarray(normalisation["std"], dtype=np.float32)
    x = {name: ((ws.x - mean) / std).astype(np.float32) for name, ws in data.splits.items()}
    y = {name: ws.y for name, ws in data.splits.items()}
    _log(progress, f"lstm-fin ({options['variant']}) on {dataset} subject {subject}: "
                   f"{len(y['train'])} train / {len(y['validation'])} validation / {len(y['test'])} test windows, "
                   f"{n_classes} classes, stage {config.fin_stage}")

    fins, pretrain_report = None, None
    if config.fin_stage in ("pretrain", "all"):
        _log(progress, "pre-training the FINs ...")
        fins, pretrain_report = pretrain_fins(x["train"], x["validation"], x["test"], options, config, seed, progress)
        save_fins(fins, out, pretrain_report, options)
        _log(progress, "FIN R^2 on held-out repetitions: "
                       + ", ".join(f"{k} {v:.3f}" for k, v in pretrain_report["r2"].items()))
        if config.fin_stage == "pretrain":
            return pretrain_report
    elif config.fin_stage == "transfer":
        fins, pretrain_report = load_fins(Path(config.fin_dir), options)

    if fins is not None and not config.fine_tune_fins:
        for fin in fins:
            fin.trainable = False
    window, channels = int(x["train"].shape[1]), int(x["train"].shape[2])
    model = build_lstm_fin((window, channels), n_classes, name=MODEL_NAME, fins=fins, **options)
    model.compile(optimizer=tfk.optimizers.Adam(config.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    params = int(model.count_params())
    _log(progress, "classical peers (LDA, linear SVM on Hudgins features) ...")
    baselines = fit_classical_peers(data.splits["train"], data.splits["test"], n_classes, cfg=data.preprocess)
    _log(progress, f"training the classifier ({params:,} parameters) ...")
    callbacks = [tfk.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stopping_patience,
                                             restore_best_weights=True)]
    if progress:
        callbacks.append(_progress_callback("classifier", config.epochs))
    fit_started = time.monotonic()
    history = model.fit(x["train"], y["train"], validation_data=(x["validation"], y["validation"]),
                        epochs=config.epochs, batch_size=config.batch_size, verbose=0, callbacks=callbacks)
    train_seconds = time.monotonic() - fit_started

    y_pred = model.predict(x["test"], batch_size=256, verbose=0).argmax(axis=1)
    metrics = score_predictions(y["test"], y_pred, n_classes, data.label_names, out,
                                title=f"lstm-fin ({options['variant']}), {dataset} s{subject}, "
                                      f"test repetitions {list(config.test_repetitions)}")
    metrics.update(
        baselines={name: {k: m[k] for k in ("accuracy", "balanced_accuracy", "mcc", "fit_seconds")}
                   for name, m in baselines.items()},
        params=params,
        macs=lstm_fin_macs(window, channels, n_classes, options),
        fin_r2=pretrain_report["r2"] if pretrain_report else None,
        fin_pretrain_seconds=pretrain_report["seconds"] if pretrain_report else None,
        predict_ahead=config.predict_ahead,
        train_seconds=round(train_seconds, 2),
        total_seconds=round(time.monotonic() - started, 2),
        epochs_run=len(history.history.get("loss", [])),
        n_windows={k: int(len(v)) for k, v in y.items()},
    )

    model.save(out / runfolder.MODEL_FILE)
    bundle = runfolder.RunBundle(
        dataset=dataset, subject=subject, exercise=1 if exercise is None else exercise,
        model=runfolder.ModelSpec(MODEL_NAME, options, params, [window, channels], n_classes, "sequence"),
        label_names=data.label_names, preprocess=data.preprocess.to_dict(), normalisation=normalisation,
        split={"test": list(config.test_repetitions), "validation": list(config.validation_repetitions),
               "train": sorted(int(r) for r in np.unique(data.splits["train"].repetition))},
        train=config.to_dict(), data_dir=str(data_dir), seed=seed, layout=data.layout_name,
        extra={"fin": {"stage": config.fin_stage, "predict_ahead": config.predict_ahead,
                       "rest_excluded": True, "framework": "tf_keras",
                       "target_scaler": pretrain_report["target_scaler"] if pretrain_report else None,
                       "r2": pretrain_report["r2"] if pretrain_report else None}},
    )
    bundle.save(out)
    runfolder.save_model_splits(out, {
        "train": {"x": data.splits["train"].x, "y": y["train"]},
        "validation": {"x": data.splits["validation"].x, "y": y["validation"]},
        "test": {"x": data.splits["test"].x, "y": y["test"], "raw": data.splits["test"].raw},
    })
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    runfolder.write_json(out / runfolder.HISTORY_FILE, hist)
    plot_training_curves(hist, out / runfolder.CURVES_PNG)
    runfolder.write_json(out / runfolder.METRICS_FILE, metrics)
    return metrics


def _log(enabled: bool, message: str) -> None:
    if enabled:
        print(message, flush=True)
