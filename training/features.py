"""Hand-crafted window features: Hudgins' time-domain set and the LSTM-FIN targets.

Hudgins features (Hudgins, Parker and Scott 1993), per channel over a window
``x[0..T-1]``:

- MAV: mean absolute value, ``mean |x_t|``;
- WL:  waveform length, ``sum |x_{t+1} - x_t|``;
- ZC:  zero crossings, the count of ``t`` with ``x_t * x_{t+1} < 0`` and
  ``|x_t - x_{t+1}| >= threshold``;
- SSC: slope sign changes, the count of ``t`` in ``1..T-2`` with
  ``(x_t - x_{t-1}) * (x_t - x_{t+1}) > 0`` (a strict local peak or trough)
  and ``max(|x_t - x_{t-1}|, |x_t - x_{t+1}|) >= threshold``.

The deadband ``threshold`` is in signal units for both counts, so one number
means the same for ZC and SSC. Its default is 0 (no deadband) because the
data sets' units differ by orders of magnitude (Myo: 8-bit ADC counts; Delsys:
volts): any fixed non-zero default would be wrong for some of them. Callers
that want a deadband pass one in their data's units, as a scalar or one value
per channel (the classical peers derive it from the training data).

LSTM-FIN features (Wu et al. 2024), per channel over a window: entropy of
softmax(x) over time (natural log), RMS, variance (population) and the simple
square integral ``sum x_t^2``.
"""

from __future__ import annotations

import numpy as np

HUDGINS_NAMES = ("mav", "wl", "zc", "ssc")
FIN_NAMES = ("entropy", "rms", "variance", "ssi")


def _as_windows(windows: np.ndarray) -> np.ndarray:
    windows = np.asarray(windows, dtype=np.float64)
    if windows.ndim != 3:
        raise ValueError(f"features: windows must be 3-D (n, T, C), got shape {windows.shape}")
    return windows


def _channel_threshold(threshold: float | np.ndarray, n_channels: int) -> np.ndarray:
    value = np.asarray(threshold, dtype=np.float64)
    if value.ndim == 0:
        value = np.full(n_channels, float(value))
    if value.shape != (n_channels,):
        raise ValueError(f"features: threshold must be a scalar or ({n_channels},), got shape {value.shape}")
    if np.any(value < 0) or not np.all(np.isfinite(value)):
        raise ValueError("features: threshold must be finite and >= 0")
    return value


def hudgins_features(raw_windows: np.ndarray, threshold: float | np.ndarray = 0.0) -> np.ndarray:
    """MAV, WL, ZC and SSC of every channel: (n, T, C) -> (n, 4*C) float32.

    Columns are grouped by feature: ``[MAV_0..MAV_{C-1}, WL_0.., ZC_0.., SSC_0..]``.
    Windows need T >= 3 for SSC to be defined (shorter ones give SSC = 0).
    """
    x = _as_windows(raw_windows)
    thr = _channel_threshold(threshold, x.shape[2])[None, None, :]
    mav = np.abs(x).mean(axis=1)
    diff = np.diff(x, axis=1)  # x_{t+1} - x_t
    wl = np.abs(diff).sum(axis=1)
    crossing = (x[:, :-1] * x[:, 1:] < 0) & (np.abs(diff) >= thr)
    zc = crossing.sum(axis=1)
    before = diff[:, :-1]  # x_t - x_{t-1}, t = 1..T-2
    after = -diff[:, 1:]  # x_t - x_{t+1}
    turning = (before * after > 0) & (np.maximum(np.abs(before), np.abs(after)) >= thr)
    ssc = turning.sum(axis=1)
    return np.concatenate([mav, wl, zc, ssc], axis=1).astype(np.float32)


def fin_features(windows: np.ndarray) -> np.ndarray:
    """Entropy of softmax, RMS, variance, square integral: (n, T, C) -> (n, 4, C) float32."""
    x = _as_windows(windows)
    shifted = x - x.max(axis=1, keepdims=True)  # softmax is shift-invariant; avoids overflow
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    entropy = -(np.exp(log_p) * log_p).sum(axis=1)
    square_integral = (x * x).sum(axis=1)
    rms = np.sqrt(square_integral / x.shape[1])
    variance = x.var(axis=1)
    return np.stack([entropy, rms, variance, square_integral], axis=1).astype(np.float32)
