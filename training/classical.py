"""The classical peers every evaluation scores: LDA and a linear SVM on Hudgins features.

They run on the same windows and the same split as the deep model, so the
results table always shows whether the deep model earns its cost.

Features (one choice, documented):

- Sequence data: Hudgins MAV, WL, ZC and SSC per channel of the window's
  *raw* samples, high-passed with the run's Butterworth filter
  (``highpass_sos(cfg)``) but *not* rectified: ZC and SSC count sign changes,
  which rectification would erase, and the high-pass removes electrode offset
  and motion drift that would otherwise dominate MAV and ZC. The filter runs
  over each window on its own, started in the steady state of the window's
  first sample (``sosfilt_zi`` scaled by it), so a constant offset produces no
  start-up transient and a board holding only the raw window can compute the
  same features. Without a high-pass in the config the raw samples are used.
- ZC/SSC deadband: per channel, ``DEADBAND_FRACTION`` times the median
  absolute (filtered) sample of the training windows. Rest dominates these
  recordings, so that median is close to the resting noise floor; a fixed
  fraction of it scales with each data set's units (Myo ADC counts vs Delsys
  volts) and is fitted on the training split only. The fraction comes from
  that reasoning, not from a search (on DB5 subject 1, exercise 1, 0 and 0.5
  differ by about 0.01 balanced accuracy on the test repetition).
- Frames (window of one sample, CapgMyo): the raw frame values themselves.

Features are standardised with the training split's mean and std. The
classifiers are fixed, not tuned on anything (no search on validation or
test): scikit-learn's LDA (SVD solver) and ``LinearSVC(C=1.0)``, squared hinge,
one-vs-rest, ``dual="auto"`` (the primal solver when windows outnumber
features, which converges in seconds on ~20 k windows), ``max_iter=5000``,
``random_state=0``.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from scipy import signal

from .features import hudgins_features
from .metrics import classification_metrics
from .preprocess import PreprocessConfig, highpass_sos
from .windows import WindowSet

DEADBAND_FRACTION = 0.5
SVM_C = 1.0
SVM_MAX_ITER = 5000
RANDOM_STATE = 0


def highpass_windows(raw: np.ndarray, sos: np.ndarray | None) -> np.ndarray:
    """High-pass each window on its own along time, from the steady state of its first sample."""
    raw = np.asarray(raw, dtype=np.float64)
    if sos is None:
        return raw
    # Initial state per section for a unit step, scaled by each window's first
    # sample per channel: shape (sections, n, 2, C) as sosfilt wants for axis=1.
    unit = signal.sosfilt_zi(sos)  # (sections, 2)
    zi = unit[:, None, :, None] * raw[None, :, 0, :][:, :, None, :]
    filtered, _ = signal.sosfilt(sos, raw, axis=1, zi=zi)
    return filtered


def deadband(filtered_train: np.ndarray) -> np.ndarray:
    """Per-channel ZC/SSC threshold from the training windows (see module doc)."""
    if filtered_train.shape[0] == 0:
        return np.zeros(filtered_train.shape[2])
    return DEADBAND_FRACTION * np.median(np.abs(filtered_train), axis=(0, 1))


def peer_features(
    ws: WindowSet, cfg: PreprocessConfig | None, threshold: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix (n, F) of a window set, and the deadband it used."""
    if ws.raw.shape[1] == 1:  # frames: the electrode values are the features
        return ws.raw[:, 0, :].astype(np.float64), np.zeros(ws.n_channels)
    filtered = highpass_windows(ws.raw, None if cfg is None else highpass_sos(cfg))
    if threshold is None:
        threshold = deadband(filtered)
    return hudgins_features(filtered, threshold).astype(np.float64), threshold


def fit_classical_peers(
    train: WindowSet, test: WindowSet, n_classes: int, cfg: PreprocessConfig | None = None
) -> dict[str, dict[str, Any]]:
    """Fit LDA and a linear SVM on ``train``, score on ``test``.

    Returns ``{"lda": metrics, "linear_svm": metrics}``, each the
    :func:`~myoedge.training.metrics.classification_metrics` dict plus
    ``fit_seconds``. ``cfg`` supplies the high-pass; without it the raw
    samples are used unfiltered.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    if len(train) == 0 or len(test) == 0:
        raise ValueError(f"classical peers: empty split (train {len(train)}, test {len(test)} windows)")
    if np.unique(train.y).size < 2:
        raise ValueError("classical peers: the training split holds fewer than two classes")
    if train.raw.shape[1:] != test.raw.shape[1:]:
        raise ValueError(f"classical peers: train windows {train.raw.shape[1:]} and test {test.raw.shape[1:]} differ")

    train_features, threshold = peer_features(train, cfg, None)
    test_features, _ = peer_features(test, cfg, threshold)
    scaler = StandardScaler().fit(train_features)
    train_features = scaler.transform(train_features)
    test_features = scaler.transform(test_features)

    models = {
        "lda": LinearDiscriminantAnalysis(solver="svd"),
        "linear_svm": LinearSVC(C=SVM_C, dual="auto", max_iter=SVM_MAX_ITER, random_state=RANDOM_STATE),
    }
    results: dict[str, dict[str, Any]] = {}
    for name, model in models.items():
        started = time.perf_counter()
        with warnings.catch_warnings():
            # Constant feature columns (e.g. ZC of a silent channel) make LDA
            # warn about collinearity; the SVD solver handles them.
            warnings.filterwarnings("ignore", message="Variables are collinear")
            model.fit(train_features, train.y)
        fit_seconds = time.perf_counter() - started
        metrics = classification_metrics(test.y, model.predict(test_features), n_classes)
        metrics["fit_seconds"] = float(fit_seconds)
        results[name] = metrics
    return results
