"""Preprocessing parameters and the streaming transform that applies them.

:class:`PreprocessConfig` is the single source of truth for how raw sEMG
becomes model input. It is written to ``RUN_DIR/bundle.json`` (``to_dict``)
and generated into the firmware's model manifest, so every parameter the
transform uses lives here and nowhere else.

The transform, in the order of the attention paper (seed-systems.md):

1. rectify (absolute value), if ``rectify``;
2. causal Butterworth high-pass along time (``highpass_sos``), started from
   rest (zero state) at the first sample of the stream;
3. moving average of ``moving_average`` samples along time ('valid');
4. windows of ``window`` raw samples every ``step`` samples; each window holds
   the ``output_steps = window - moving_average + 1`` moving-average outputs
   that lie wholly inside it;
5. optionally a z-score per channel per window (LSTM-FIN).

:class:`StreamingPreprocessor` carries the filter state, the moving-average
history and the partly filled window between calls, so that its output does
not depend on how the stream is cut into chunks; :func:`preprocess_stream` is
the one-shot path over a whole recording and gives identical numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
from scipy import signal

# Below this standard deviation a window's channel is treated as constant by
# the z-score: it is centred but not scaled, so silent channels stay zero
# instead of blowing up to noise / 0.
ZSCORE_MIN_STD = 1e-12

# Windows cut per block in windows_from_averaged.
_WINDOW_BLOCK = 1024


@dataclass(frozen=True)
class PreprocessConfig:
    """Every parameter of the preprocessing, for one data set.

    sampling_rate_hz: samples per second of the stream.
    rectify:          take the absolute value first.
    highpass_hz:      Butterworth high-pass cut-off; ``None`` for no filter.
    highpass_order:   order of that filter.
    window:           raw samples per window.
    step:             raw samples between the starts of two windows.
    moving_average:   width of the moving average in samples (1 = none).
    zscore_window:    z-score each channel of each window (LSTM-FIN).
    frames:           instantaneous images: every sample is a window of one
                      (CapgMyo, S-ConvNet); requires window = step = 1.
    constant_label:   also drop windows whose label changes inside them
                      (LSTM-FIN keeps only windows with one label and one
                      repetition); windows spanning two repetitions are
                      always dropped.
    """

    sampling_rate_hz: float
    rectify: bool = False
    highpass_hz: float | None = None
    highpass_order: int = 3
    window: int = 1
    step: int = 1
    moving_average: int = 1
    zscore_window: bool = False
    frames: bool = False
    constant_label: bool = False

    def __post_init__(self) -> None:
        _check_type("sampling_rate_hz", self.sampling_rate_hz, (int, float))
        for name in ("rectify", "zscore_window", "frames", "constant_label"):
            _check_type(name, getattr(self, name), (bool,))
        for name in ("highpass_order", "window", "step", "moving_average"):
            _check_type(name, getattr(self, name), (int,))
        if self.highpass_hz is not None:
            _check_type("highpass_hz", self.highpass_hz, (int, float))
        if not (math.isfinite(self.sampling_rate_hz) and self.sampling_rate_hz > 0):
            raise ValueError(f"preprocess: sampling_rate_hz must be > 0, got {self.sampling_rate_hz}")
        if self.window < 1 or self.step < 1:
            raise ValueError(f"preprocess: window ({self.window}) and step ({self.step}) must be >= 1")
        if not 1 <= self.moving_average <= self.window:
            raise ValueError(
                f"preprocess: moving_average must be in 1..window ({self.window}), got {self.moving_average}"
            )
        if self.highpass_hz is not None:
            nyquist = self.sampling_rate_hz / 2.0
            if not 0.0 < self.highpass_hz < nyquist:
                raise ValueError(
                    f"preprocess: highpass_hz must lie in (0, {nyquist}) Hz (Nyquist), got {self.highpass_hz}"
                )
            if self.highpass_order < 1:
                raise ValueError(f"preprocess: highpass_order must be >= 1, got {self.highpass_order}")
        if self.frames and (self.window != 1 or self.step != 1):
            raise ValueError(f"preprocess: frames need window = step = 1, got {self.window} / {self.step}")

    @property
    def output_steps(self) -> int:
        """Time steps per preprocessed window: window - moving_average + 1."""
        return self.window - self.moving_average + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every parameter (bundle.json, firmware generator)."""
        out = asdict(self)
        out["sampling_rate_hz"] = float(self.sampling_rate_hz)
        if self.highpass_hz is not None:
            out["highpass_hz"] = float(self.highpass_hz)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PreprocessConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise, so typos never pass silently."""
        if not isinstance(data, dict):
            raise ValueError(f"preprocess: expected a dict, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"preprocess: unknown keys {unknown}; known keys are {sorted(known)}")
        if "sampling_rate_hz" not in data:
            raise ValueError("preprocess: missing key 'sampling_rate_hz'")
        return cls(**data)

    @classmethod
    def for_dataset(cls, name: str, **overrides: Any) -> "PreprocessConfig":
        """The seed papers' preprocessing for a data set, with optional overrides.

        ``ninapro-db5`` / ``synthetic-myo16`` and ``ninapro-db4``: the attention
        paper. Its text says a 20 Hz high-pass, its authors' code uses 2 Hz
        (and filters along the wrong axis). The default follows the published
        text, the method the paper's figures are reported for; pass
        ``highpass_hz=2.0`` to follow the code instead.
        ``ninapro-db2`` / ``synthetic-delsys12``: LSTM-FIN (raw samples, one
        label per window, z-score per window).
        ``capgmyo`` / ``synthetic-hd8x16``: S-ConvNet instantaneous frames of
        the already filtered ``dba-preprocessed`` data.
        """
        try:
            preset = _PRESETS[name]
        except KeyError:
            raise ValueError(f"preprocess: no preset for data set {name!r}; known: {sorted(_PRESETS)}") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"preprocess: unknown override keys {unknown}")
        return replace(preset, **overrides)


def _check_type(name: str, value: Any, types: tuple[type, ...]) -> None:
    # bool is an int subclass: reject it where a number is expected, and
    # reject numbers where a bool is expected.
    if bool not in types and isinstance(value, bool):
        raise ValueError(f"preprocess: {name} must be {'/'.join(t.__name__ for t in types)}, got a bool")
    if not isinstance(value, types):
        raise ValueError(
            f"preprocess: {name} must be {'/'.join(t.__name__ for t in types)}, got {type(value).__name__}"
        )


_ATTENTION_DB5 = PreprocessConfig(
    sampling_rate_hz=200.0,
    rectify=True,
    highpass_hz=20.0,
    highpass_order=3,
    window=52,
    step=5,
    moving_average=15,
)
_ATTENTION_DB4 = replace(_ATTENTION_DB5, sampling_rate_hz=2000.0, window=520, step=50, moving_average=150)
_LSTM_FIN_DB2 = PreprocessConfig(
    sampling_rate_hz=2000.0,
    window=600,
    step=20,
    zscore_window=True,
    constant_label=True,
)
_FRAMES_CAPGMYO = PreprocessConfig(sampling_rate_hz=1000.0, frames=True)

_PRESETS: dict[str, PreprocessConfig] = {
    "ninapro-db5": _ATTENTION_DB5,
    "synthetic-myo16": _ATTENTION_DB5,
    "ninapro-db4": _ATTENTION_DB4,
    "ninapro-db2": _LSTM_FIN_DB2,
    "synthetic-delsys12": _LSTM_FIN_DB2,
    "capgmyo": _FRAMES_CAPGMYO,
    "synthetic-hd8x16": _FRAMES_CAPGMYO,
}


def highpass_sos(cfg: PreprocessConfig) -> np.ndarray | None:
    """The high-pass as second-order sections (n_sections, 6), or ``None``.

    The one place the filter is designed: the Python transform and the
    firmware generator both take their coefficients from here.
    """
    if cfg.highpass_hz is None:
        return None
    return signal.butter(
        cfg.highpass_order, cfg.highpass_hz, btype="highpass", fs=cfg.sampling_rate_hz, output="sos"
    )


def moving_average_valid(x: np.ndarray, width: int) -> np.ndarray:
    """Mean of every run of ``width`` consecutive rows ('valid': n - width + 1 rows).

    Each output adds its ``width`` inputs one after the other in time order,
    the same additions whichever slice of the stream it is computed from, so
    the streaming and one-shot paths agree to the last bit (a running
    cumulative sum would not).
    """
    n_out = x.shape[0] - width + 1
    if n_out <= 0:
        return np.zeros((0, *x.shape[1:]), dtype=np.float64)
    acc = np.array(x[0:n_out], dtype=np.float64)
    for offset in range(1, width):
        acc += x[offset : offset + n_out]
    return acc / width


def zscore_windows(windows: np.ndarray) -> np.ndarray:
    """Z-score each channel of each window over time: (n, T, C) -> (n, T, C).

    Population statistics (ddof 0); a channel with std below
    ``ZSCORE_MIN_STD`` is only centred.
    """
    mean = windows.mean(axis=1, keepdims=True)
    std = windows.std(axis=1, keepdims=True)
    std = np.where(std < ZSCORE_MIN_STD, 1.0, std)
    return (windows - mean) / std


def filter_stream(cfg: PreprocessConfig, emg: np.ndarray) -> np.ndarray:
    """Steps 1-2 (rectify, causal high-pass) over a whole stream, float64 (n, C)."""
    x = np.asarray(emg, dtype=np.float64)
    if cfg.rectify:
        x = np.abs(x)
    sos = highpass_sos(cfg)
    if sos is not None:
        zi = np.zeros((sos.shape[0], 2, x.shape[1]), dtype=np.float64)
        x, _ = signal.sosfilt(sos, x, axis=0, zi=zi)
    return x


def window_starts(n_samples: int, cfg: PreprocessConfig) -> np.ndarray:
    """First raw sample of every complete window in a stream of ``n_samples``."""
    if n_samples < cfg.window:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n_samples - cfg.window + 1, cfg.step, dtype=np.int64)


def windows_from_averaged(averaged: np.ndarray, starts: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Cut preprocessed windows out of the averaged stream.

    ``averaged[j]`` is the moving average ending at raw sample
    ``j + moving_average - 1``. The window starting at raw sample ``s`` holds
    the averages ending at ``s + moving_average - 1 .. s + window - 1``, i.e.
    ``averaged[s : s + output_steps]``: a 'valid' moving average computed
    inside the window equals this slice of the streaming average, because
    every one of those averages only reads samples of the window.
    """
    t = cfg.output_steps
    out = np.empty((starts.shape[0], t, averaged.shape[1]), dtype=np.float32)
    offsets = np.arange(t, dtype=np.int64)[None, :]
    # Blocks keep the float64 intermediate small for long windows (600 x 12 in DB2).
    for first in range(0, starts.shape[0], _WINDOW_BLOCK):
        block = averaged[starts[first : first + _WINDOW_BLOCK, None] + offsets]
        if cfg.zscore_window:
            block = zscore_windows(block)
        out[first : first + _WINDOW_BLOCK] = block
    return out


def preprocess_stream(cfg: PreprocessConfig, emg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-shot path: all windows of a whole recording.

    Returns ``(windows (m, output_steps, C) float32, starts (m,) int64)``.
    """
    emg = _check_samples(emg, None)
    averaged = moving_average_valid(filter_stream(cfg, emg), cfg.moving_average)
    starts = window_starts(emg.shape[0], cfg)
    return windows_from_averaged(averaged, starts, cfg), starts


def _check_samples(chunk: np.ndarray, n_channels: int | None) -> np.ndarray:
    chunk = np.asarray(chunk)
    if chunk.ndim != 2:
        raise ValueError(f"preprocess: samples must be 2-D (samples, channels), got shape {chunk.shape}")
    if n_channels is not None and chunk.shape[1] != n_channels:
        raise ValueError(f"preprocess: expected {n_channels} channels, got shape {chunk.shape}")
    if chunk.size and not np.all(np.isfinite(chunk)):
        raise ValueError("preprocess: samples hold NaN or infinity")
    return chunk


class StreamingPreprocessor:
    """The preprocessing as a stream transform: push samples, get finished windows.

    State carried between :meth:`push` calls: the high-pass state (one
    ``sosfilt`` ``zi`` per section and channel), the last
    ``moving_average - 1`` filtered samples, and the moving averages of the
    window that is still filling. The output is the same whatever the chunk
    sizes (including chunks of one sample or none), and equal to
    :func:`preprocess_stream` on the concatenated stream.
    """

    def __init__(self, cfg: PreprocessConfig, n_channels: int) -> None:
        if n_channels < 1:
            raise ValueError(f"preprocess: n_channels must be >= 1, got {n_channels}")
        self.cfg = cfg
        self.n_channels = int(n_channels)
        self._sos = highpass_sos(cfg)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next sample is the first one again."""
        c = self.n_channels
        self._zi = None if self._sos is None else np.zeros((self._sos.shape[0], 2, c), dtype=np.float64)
        self._history = np.zeros((0, c), dtype=np.float64)  # last moving_average - 1 filtered samples
        self._averaged = np.zeros((0, c), dtype=np.float64)  # averages from _averaged_first on
        self._averaged_first = 0  # stream index of the average in _averaged[0] (index of its first sample)
        self._n_seen = 0  # samples pushed so far
        self._next_start = 0  # raw sample where the next window starts

    @property
    def samples_seen(self) -> int:
        return self._n_seen

    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Feed ``chunk`` (n, C); return the windows it completed, (m, output_steps, C) float32."""
        cfg = self.cfg
        chunk = _check_samples(chunk, self.n_channels)
        n = chunk.shape[0]
        if n == 0:
            return np.zeros((0, cfg.output_steps, self.n_channels), dtype=np.float32)
        x = np.asarray(chunk, dtype=np.float64)
        if cfg.rectify:
            x = np.abs(x)
        if self._sos is not None:
            x, self._zi = signal.sosfilt(self._sos, x, axis=0, zi=self._zi)

        # Averages whose last sample is in this chunk; they start at stream
        # index (n_seen - len(history)) + j.
        extended = np.concatenate([self._history, x], axis=0)
        new_averages = moving_average_valid(extended, cfg.moving_average)
        keep = cfg.moving_average - 1
        self._history = extended[max(0, extended.shape[0] - keep) :] if keep else extended[:0]
        self._averaged = np.concatenate([self._averaged, new_averages], axis=0)
        self._n_seen += n

        last_start = self._n_seen - cfg.window  # latest start whose window is complete
        n_windows = 0 if last_start < self._next_start else (last_start - self._next_start) // cfg.step + 1
        starts = self._next_start + cfg.step * np.arange(n_windows, dtype=np.int64)
        self._next_start += cfg.step * n_windows
        windows = windows_from_averaged(self._averaged, starts - self._averaged_first, cfg)

        # Drop averages no future window reads.
        drop = min(self._next_start - self._averaged_first, self._averaged.shape[0])
        if drop > 0:
            self._averaged = self._averaged[drop:]
            self._averaged_first += drop
        return windows
