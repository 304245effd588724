"""Windows of a recording, the repetition split, and input normalisation.

:func:`make_windows` turns a :class:`~myoedge.training.recording.Recording`
into a :class:`WindowSet`: the preprocessed windows the models see (``x``),
the raw samples of the same spans (``raw``, for Hudgins features and for
sending raw windows to a board that preprocesses on its own) and, per window,
its label, repetition, subject and first sample. :func:`split_by_repetition`
applies the papers' split (test = repetition 5, validation = repetition 3,
train = the rest, rest-only repetition 0 included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .preprocess import PreprocessConfig, filter_stream, moving_average_valid, window_starts, windows_from_averaged
from .recording import Recording

SPLIT_NAMES = ("train", "validation", "test")
_ARRAY_FIELDS = ("x", "raw", "y", "repetition", "subject", "start")


@dataclass
class WindowSet:
    """Windows with their bookkeeping; every array has one row per window.

    x:          (n, T, C) float32 preprocessed windows (T = output_steps).
    raw:        (n, window, C) float32 raw samples of the same span.
    y:          (n,) int64 label of the window's first sample.
    repetition: (n,) int64 repetition of the window (constant inside it).
    subject:    (n,) int64 subject the window comes from.
    start:      (n,) int64 index of the window's first sample in its recording.
    """

    x: np.ndarray
    raw: np.ndarray
    y: np.ndarray
    repetition: np.ndarray
    subject: np.ndarray
    start: np.ndarray

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=np.float32)
        self.raw = np.asarray(self.raw, dtype=np.float32)
        for name in ("y", "repetition", "subject", "start"):
            setattr(self, name, np.asarray(getattr(self, name)).reshape(-1).astype(np.int64))
        if self.x.ndim != 3 or self.raw.ndim != 3:
            raise ValueError(f"window set: x and raw must be 3-D, got {self.x.shape} and {self.raw.shape}")
        n = self.x.shape[0]
        for name in ("raw", "y", "repetition", "subject", "start"):
            if getattr(self, name).shape[0] != n:
                raise ValueError(f"window set: {name} has {getattr(self, name).shape[0]} rows, x has {n}")
        if self.raw.shape[2] != self.x.shape[2]:
            raise ValueError(f"window set: raw has {self.raw.shape[2]} channels, x has {self.x.shape[2]}")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.x.shape[2])

    def select(self, mask: np.ndarray) -> "WindowSet":
        """The windows picked by a boolean mask or an index array."""
        mask = np.asarray(mask)
        if mask.dtype == bool and mask.shape != (len(self),):
            raise ValueError(f"window set: mask has shape {mask.shape}, expected ({len(self)},)")
        return WindowSet(**{name: getattr(self, name)[mask] for name in _ARRAY_FIELDS})


def make_windows(rec: Recording, cfg: PreprocessConfig) -> WindowSet:
    """All windows of one recording that do not span two repetitions.

    Windows start every ``cfg.step`` samples from the first one; a window is
    dropped when ``repetitions`` changes anywhere inside it (and, with
    ``cfg.constant_label``, when ``labels`` does). Its label is the label of
    its first sample. The high-pass and moving average run over the whole
    recording (as the streaming transform does), not window by window.
    """
    if abs(float(rec.sampling_rate_hz) - float(cfg.sampling_rate_hz)) > 1e-9:
        raise ValueError(
            f"make_windows: recording{f' {rec.source}' if rec.source else ''} is sampled at "
            f"{rec.sampling_rate_hz} Hz, the preprocessing expects {cfg.sampling_rate_hz} Hz"
        )
    starts = window_starts(rec.n_samples, cfg)
    keep = _constant_over_window(rec.repetitions, starts, cfg.window)
    if cfg.constant_label:
        keep &= _constant_over_window(rec.labels, starts, cfg.window)
    starts = starts[keep]
    averaged = moving_average_valid(filter_stream(cfg, rec.emg), cfg.moving_average)
    x = windows_from_averaged(averaged, starts, cfg)
    raw = rec.emg[starts[:, None] + np.arange(cfg.window, dtype=np.int64)[None, :]]
    return WindowSet(
        x=x,
        raw=raw,
        y=rec.labels[starts],
        repetition=rec.repetitions[starts],
        subject=np.full(starts.shape[0], rec.subject, dtype=np.int64),
        start=starts,
    )


def _constant_over_window(values: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """True where ``values`` does not change inside ``[start, start + window)``."""
    # changes[i] = number of positions j <= i with values[j] != values[j - 1]
    changes = np.concatenate([[0], np.cumsum(values[1:] != values[:-1])])
    return changes[starts + window - 1] == changes[starts]


def concat(sets: Sequence[WindowSet]) -> WindowSet:
    """One window set holding all windows of ``sets`` in order (pooled subjects)."""
    if not sets:
        raise ValueError("concat: no window sets given")
    shapes = {(s.x.shape[1:], s.raw.shape[1:]) for s in sets}
    if len(shapes) > 1:
        raise ValueError(f"concat: window sets have different shapes {sorted(map(str, shapes))}")
    return WindowSet(**{name: np.concatenate([getattr(s, name) for s in sets]) for name in _ARRAY_FIELDS})


def split_by_repetition(
    ws: WindowSet, test: Sequence[int] = (5,), validation: Sequence[int] = (3,)
) -> dict[str, WindowSet]:
    """Split by repetition: ``train`` holds every repetition not in test or validation."""
    overlap = set(test) & set(validation)
    if overlap:
        raise ValueError(f"split: repetitions {sorted(overlap)} are in both test and validation")
    is_test = np.isin(ws.repetition, list(test))
    is_validation = np.isin(ws.repetition, list(validation))
    return {
        "train": ws.select(~is_test & ~is_validation),
        "validation": ws.select(is_validation),
        "test": ws.select(is_test),
    }


def train_repetitions(ws: WindowSet, test: Sequence[int] = (5,), validation: Sequence[int] = (3,)) -> list[int]:
    """The repetitions that :func:`split_by_repetition` puts in ``train`` (for bundle.json)."""
    return sorted(int(r) for r in np.unique(ws.repetition) if r not in set(test) | set(validation))


@dataclass
class Normaliser:
    """Per-channel input scaling fitted on the training split.

    kind "none" leaves inputs alone; "standardize" subtracts the channel mean
    and divides by the channel standard deviation (over all windows and time
    steps of the training split; a constant channel keeps std 1).
    """

    kind: str = "none"
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    std: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def __post_init__(self) -> None:
        if self.kind not in ("none", "standardize"):
            raise ValueError(f"normaliser: kind must be 'none' or 'standardize', got {self.kind!r}")
        self.mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(self.std, dtype=np.float32).reshape(-1)
        if self.kind == "standardize":
            if self.mean.shape != self.std.shape or self.mean.size == 0:
                raise ValueError(f"normaliser: mean {self.mean.shape} and std {self.std.shape} must match, non-empty")
            if not np.all(self.std > 0):
                raise ValueError("normaliser: std must be > 0")

    @classmethod
    def fit(cls, x: np.ndarray, kind: str = "standardize") -> "Normaliser":
        """Fit on training inputs (n, T, C)."""
        if kind == "none":
            return cls("none")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 3 or x.shape[0] == 0:
            raise ValueError(f"normaliser: fit needs non-empty (n, T, C) inputs, got shape {x.shape}")
        mean = x.mean(axis=(0, 1))
        std = x.std(axis=(0, 1))
        std = np.where(std > 0, std, 1.0)
        return cls(kind, mean, std)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Scaled float32 copy of inputs whose last axis is the channel."""
        x = np.asarray(x, dtype=np.float32)
        if self.kind == "none":
            return x.copy()
        if x.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"normaliser: inputs have {x.shape[-1]} channels, fitted on {self.mean.shape[0]}")
        return ((x - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Normaliser":
        unknown = sorted(set(data) - {"kind", "mean", "std"})
        if unknown:
            raise ValueError(f"normaliser: unknown keys {unknown}")
        return cls(data.get("kind", "none"), data.get("mean", []), data.get("std", []))


def save_npz(path: Path, splits: dict[str, WindowSet]) -> Path:
    """Write each split's arrays as ``<split>_<field>`` (train_x, train_raw, train_y, ...)."""
    arrays: dict[str, np.ndarray] = {}
    for split, ws in splits.items():
        if "_" in split:
            raise ValueError(f"save_npz: split name {split!r} must not contain '_'")
        for name in _ARRAY_FIELDS:
            arrays[f"{split}_{name}"] = np.ascontiguousarray(getattr(ws, name))
    path = Path(path)
    with path.open("wb") as handle:  # a file object keeps numpy from appending ".npz"
        np.savez(handle, **arrays)
    return path


def load_npz(path: Path) -> dict[str, WindowSet]:
    """Read what :func:`save_npz` wrote (no pickle); errors name the file and the key."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: cannot be read as window splits ({err})") from err
    splits: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        split, _, name = key.partition("_")
        if name not in _ARRAY_FIELDS:
            raise ValueError(f"{path}: unexpected array {key!r}")
        splits.setdefault(split, {})[name] = value
    out: dict[str, WindowSet] = {}
    for split, parts in splits.items():
        missing = [name for name in _ARRAY_FIELDS if name not in parts]
        if missing:
            raise ValueError(f"{path}: split {split!r} lacks {', '.join(f'{split}_{m}' for m in missing)}")
        try:
            out[split] = WindowSet(**parts)
        except ValueError as err:
            raise ValueError(f"{path}: split {split!r}: {err}") from err
    return out
