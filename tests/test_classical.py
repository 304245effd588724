"""The classical peers on toy problems whose answer is known."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from myoedge.training.classical import fit_classical_peers, highpass_windows
from myoedge.training.preprocess import PreprocessConfig, highpass_sos
from myoedge.training.recording import MYO16, Recording
from myoedge.training.windows import WindowSet, make_windows, split_by_repetition


def shared_db5() -> Path | None:
    """$MYOEDGE_SHARED_DATA (the DB5 folder or its parent), else ../shared/data/ninapro-db5."""
    candidates = []
    if os.environ.get("MYOEDGE_SHARED_DATA"):
        env = Path(os.environ["MYOEDGE_SHARED_DATA"])
        candidates += [env, env / "ninapro-db5"]
    candidates.append(Path(__file__).resolve().parents[2] / "shared/data/ninapro-db5")
    return next((p for p in candidates if (p / "S1_E1_A1.mat").is_file()), None)


def toy_windows(n: int, seed: int, frames: bool = False) -> WindowSet:
    """Three classes told apart by amplitude pattern over 4 channels (plus a DC offset)."""
    rng = np.random.default_rng(seed)
    patterns = np.array([[1.0, 1.0, 1.0, 1.0], [6.0, 1.0, 4.0, 1.0], [1.0, 5.0, 1.0, 6.0]])
    y = rng.integers(0, 3, n)
    length = 1 if frames else 52
    if frames:
        raw = patterns[y][:, None, :] + rng.normal(0, 0.5, (n, 1, 4))
    else:
        raw = rng.normal(0, 1, (n, length, 4)) * patterns[y][:, None, :] + 30.0
    return WindowSet(
        x=raw.astype(np.float32),
        raw=raw.astype(np.float32),
        y=y,
        repetition=np.ones(n),
        subject=np.ones(n),
        start=np.arange(n),
    )


def test_peers_separate_a_separable_problem_deterministically() -> None:
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    train, test = toy_windows(600, seed=0), toy_windows(300, seed=1)
    results = fit_classical_peers(train, test, n_classes=4, cfg=cfg)
    assert set(results) == {"lda", "linear_svm"}
    for name, metrics in results.items():
        assert metrics["accuracy"] > 0.9, name
        assert metrics["balanced_accuracy"] > 0.9 and metrics["mcc"] > 0.85
        assert metrics["per_class_recall"][3] is None  # class 3 is never in the test labels
        assert metrics["fit_seconds"] >= 0.0
    again = fit_classical_peers(train, test, n_classes=4, cfg=cfg)
    for name in results:
        assert again[name]["confusion_matrix"] == results[name]["confusion_matrix"]


def test_peers_on_frames_use_the_frame_values() -> None:
    results = fit_classical_peers(toy_windows(400, 2, frames=True), toy_windows(200, 3, frames=True), 3)
    assert results["lda"]["accuracy"] > 0.95 and results["linear_svm"]["accuracy"] > 0.95


def test_window_highpass_starts_in_steady_state() -> None:
    sos = highpass_sos(PreprocessConfig.for_dataset("ninapro-db5"))
    offset = np.full((2, 52, 3), 30.0)
    np.testing.assert_allclose(highpass_windows(offset, sos), 0.0, atol=1e-9)
    rng = np.random.default_rng(4)
    raw = rng.normal(0, 1, (2, 52, 3)) + 30.0
    filtered = highpass_windows(raw, sos)
    zi = signal.sosfilt_zi(sos)[:, :, None] * raw[1, 0, :][None, None, :]
    expected, _ = signal.sosfilt(sos, raw[1], axis=0, zi=zi)
    np.testing.assert_allclose(filtered[1], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(highpass_windows(raw, None), raw)


def test_a_single_training_class_is_refused() -> None:
    train = toy_windows(50, 5)
    train = train.select(train.y == 1)
    with pytest.raises(ValueError, match="two classes"):
        fit_classical_peers(train, toy_windows(20, 6), 3)


@pytest.mark.realdata
def test_peers_on_real_db5_subject_1_beat_the_all_rest_baseline() -> None:
    folder = shared_db5()
    if folder is None:
        pytest.skip("NinaPro DB5 S1_E1_A1.mat not found (set MYOEDGE_SHARED_DATA or use ../shared/data/ninapro-db5)")
    from scipy.io import loadmat

    mat = loadmat(folder / "S1_E1_A1.mat", variable_names=("emg", "restimulus", "rerepetition"))
    rec = Recording(mat["emg"], mat["restimulus"], mat["rerepetition"], MYO16, subject=1, exercise=1)
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    splits = split_by_repetition(make_windows(rec, cfg))
    results = fit_classical_peers(splits["train"], splits["test"], 13, cfg)
    rest_share = float(np.mean(splits["test"].y == 0))
    for name, metrics in results.items():
        # all-rest scores accuracy = rest share, balanced 1/13, MCC 0
        assert metrics["accuracy"] > rest_share + 0.1, name
        assert metrics["balanced_accuracy"] > 0.5 and metrics["mcc"] > 0.6, name
