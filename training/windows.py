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

from dataclasses import dataclass
from typing import Sequence

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
