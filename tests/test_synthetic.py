"""Synthetic data sets: deterministic, in the real formats, rest-dominant,
and learnable but not trivial for a linear classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import loadmat
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import balanced_accuracy_score

from myoedge.training.loaders import load_dataset
from myoedge.training.recording import DELSYS12, HD8X16, MYO16, Recording
from myoedge.training.synthetic import write_synthetic_dataset

WINDOW = 52  # the attention paper's window at 200 Hz


@pytest.fixture(scope="module")
def myo16_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default myo16 data set (12 gestures x 6 repetitions), one subject."""
    out = tmp_path_factory.mktemp("myo16")
    write_synthetic_dataset("myo16", 1, out, seed=0, progress=False)
    return out


@pytest.fixture(scope="module")
def hd_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default hd8x16 data set (8 gestures x 10 trials), one subject."""
    out = tmp_path_factory.mktemp("hd8x16")
    write_synthetic_dataset("hd8x16", 1, out, seed=0, progress=False)
    return out


def mav_windows(rec: Recording, width: int = WINDOW, step: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel mean absolute value over windows that stay inside one repetition.

    Returns features, the label of each window's first sample, and its repetition.
    """
    cumulative = np.vstack([np.zeros((1, rec.n_channels)), np.cumsum(np.abs(rec.emg.astype(np.float64)), axis=0)])
    starts = np.arange(0, rec.n_samples - width + 1, step)
    mav = (cumulative[starts + width] - cumulative[starts]) / width
    keep = rec.repetitions[starts] == rec.repetitions[starts + width - 1]
    return mav[keep], rec.labels[starts][keep], rec.repetitions[starts][keep]


def lda_on_held_out(recs: list[Recording], test_repetition: int, step: int = 5) -> tuple[float, float, float]:
    """(accuracy, balanced accuracy, share of the majority class) of LDA on MAV, one repetition held out."""
    parts = [mav_windows(r, step=step) for r in recs]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    rep = np.concatenate([p[2] for p in parts])
    test = rep == test_repetition
    predicted = LinearDiscriminantAnalysis(solver="lsqr").fit(x[~test], y[~test]).predict(x[test])
    majority = np.bincount(y[test]).max() / test.sum()
    return float(np.mean(predicted == y[test])), float(balanced_accuracy_score(y[test], predicted)), float(majority)


# ---------------------------------------------------------------------------
# Format and determinism
# ---------------------------------------------------------------------------


def test_myo16_file_format(myo16_default: Path) -> None:
    path = myo16_default / "s1" / "S1_E1_A1.mat"
    assert path.is_file()
    raw = loadmat(str(path))
    for name in ("emg", "restimulus", "rerepetition", "stimulus", "repetition", "frequency", "subject", "exercise"):
        assert name in raw, name
    emg = raw["emg"]
    assert emg.dtype == np.float32 and emg.shape[1] == 16
    assert np.all(emg == np.round(emg)) and emg.min() >= -128 and emg.max() <= 127  # the Myo's 8-bit samples
    assert raw["restimulus"].shape == (emg.shape[0], 1) and raw["restimulus"].dtype == np.int8
    assert float(raw["frequency"][0, 0]) == 200.0 and int(raw["exercise"][0, 0]) == 1
    # Size of a DB5 exercise-1 file: 12 gestures x 6 repetitions of 5 s cue + 3 s rest.
    assert 100_000 < emg.shape[0] < 140_000
    rec = load_dataset("synthetic-myo16", myo16_default, 1)[0]
    assert rec.layout is MYO16 and rec.sampling_rate_hz == 200.0 and rec.subject == 1 and rec.exercise == 1
    assert set(np.unique(rec.labels)) == set(range(13)) and set(np.unique(rec.repetitions)) == set(range(7))
    assert rec.label_names[1] == "gesture 1" and len(rec.label_names) == 13
    np.testing.assert_array_equal(rec.emg, emg)


def test_myo16_timeline_like_ninapro(myo16_default: Path) -> None:
    raw = loadmat(str(myo16_default / "s1" / "S1_E1_A1.mat"))
    labels, reps = raw["restimulus"].ravel(), raw["rerepetition"].ravel()
    cue, cue_reps = raw["stimulus"].ravel(), raw["repetition"].ravel()
    rest = np.mean(labels == 0)
    assert 0.55 < rest < 0.68, rest  # NinaPro DB5: about 62 % rest
    assert np.mean(cue != 0) > np.mean(labels != 0)  # the cue is longer than the movement
    assert np.all(cue_reps[cue == 0] == 0)
    # Each (gesture, repetition) is one contiguous movement of about 3 s (600 samples).
    starts = np.flatnonzero(np.diff(np.r_[0, labels]) > 0)
    ends = np.flatnonzero(np.diff(np.r_[labels, 0]) < 0) + 1
    assert len(starts) == 72
    order = [(g, r) for g in range(1, 13) for r in range(1, 7)]
    assert [(int(labels[s]), int(reps[s])) for s in starts] == order
    assert np.all((ends - starts > 400) & (ends - starts < 800))
    # Rest before a movement carries that movement's repetition; after the last one, 0.
    for s, (_, r) in zip(starts, order):
        assert reps[s - 1] == r
    assert reps[0] == 1 and np.all(reps[ends[-1]:] == 0)


def test_delsys12_and_hd8x16_formats(tmp_path: Path) -> None:
    write_synthetic_dataset("delsys12", [2], tmp_path, seed=3, gestures=3, repetitions=2, progress=False)
    raw = loadmat(str(tmp_path / "DB2_s2" / "S2_E1_A1.mat"))
    assert raw["emg"].shape[1] == 12 and float(raw["frequency"][0, 0]) == 2000.0
    assert 1e-6 < np.std(raw["emg"]) < 1e-3  # volts, as the Delsys files hold
    rec = load_dataset("synthetic-delsys12", tmp_path, 2)[0]
    assert rec.layout is DELSYS12 and rec.labels.max() == 3 and len(rec.label_names) == 18

    paths = write_synthetic_dataset("hd8x16", 1, tmp_path, seed=3, gestures=2, repetitions=3, progress=False)
    folder = tmp_path / "dba-preprocessed-001"
    assert sorted(p.name for p in paths) == sorted(p.name for p in folder.iterdir())
    assert (folder / "001-002-003.mat").is_file() and (folder / "001-100-001.mat").is_file()
    trial = loadmat(str(folder / "001-002-003.mat"))
    assert trial["data"].shape == (1000, 128) and int(trial["gesture"][0, 0]) == 2 and int(trial["trial"][0, 0]) == 3
    recs = load_dataset("synthetic-hd8x16", tmp_path, 1)  # the extra gesture-100 file is skipped
    assert len(recs) == 6 and all(r.layout is HD8X16 for r in recs)
    assert [(int(r.labels[0]), int(r.repetitions[0])) for r in recs] == [(g, t) for g in (1, 2) for t in (1, 2, 3)]


def test_deterministic_by_seed(tmp_path: Path) -> None:
    def emg(out: Path, seed: int, subjects: int | list[int], subject: int) -> np.ndarray:
        write_synthetic_dataset("myo16", subjects, out, seed=seed, gestures=3, repetitions=2, progress=False)
        return load_dataset("synthetic-myo16", out, subject)[0].emg

    first = emg(tmp_path / "a", 5, 2, 2)
    again = emg(tmp_path / "b", 5, [2], 2)  # a subject does not depend on which others are written
    other_seed = emg(tmp_path / "c", 6, [2], 2)
    other_subject = emg(tmp_path / "a", 5, 2, 1)
    np.testing.assert_array_equal(first, again)
    assert first.shape != other_seed.shape or not np.array_equal(first, other_seed)
    assert first.shape != other_subject.shape or not np.array_equal(first, other_subject)


def test_signal_properties(myo16_default: Path) -> None:
    """Moving is louder than rest, neighbouring electrodes are correlated, and a 50 Hz hum is present."""
    rec = load_dataset("synthetic-myo16", myo16_default, 1)[0]
    rest, moving = rec.emg[rec.labels == 0], rec.emg[rec.labels != 0]
    ratio = moving.std(axis=0) / rest.std(axis=0)  # rest includes the ramps in and out of movements
    assert np.all(ratio > 1.5) and np.median(ratio) > 2.0, ratio
    # Gestures differ in which electrodes they drive.
    per_gesture = np.array([np.abs(rec.emg[rec.labels == g]).mean(axis=0) for g in range(1, 13)])
    normalised = per_gesture / per_gesture.sum(axis=1, keepdims=True)
    assert np.ptp(normalised, axis=0).max() > 0.05
    # Powerline hum: the rest samples correlate with a 50 Hz sinusoid far beyond what noise alone gives.
    t = np.flatnonzero(rec.labels == 0) / rec.sampling_rate_hz
    sin, cos = np.sin(2 * np.pi * 50 * t), np.cos(2 * np.pi * 50 * t)
    amplitude = 2 * np.hypot(rest.T @ sin, rest.T @ cos) / len(t)
    noise_only = 2 * rest.std(axis=0) / np.sqrt(len(t))  # typical estimate without any hum
    assert np.median(amplitude / noise_only) > 5, amplitude / noise_only


def test_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_synthetic_dataset("myo16", 1, tmp_path, gestures=2, repetitions=1, progress=True)
    assert "synthetic myo16" in capsys.readouterr().err
    write_synthetic_dataset("myo16", 1, tmp_path, gestures=2, repetitions=1, progress=False)
    assert capsys.readouterr().err == ""


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="layout"):
        write_synthetic_dataset("myo8", 1, tmp_path)
    with pytest.raises(ValueError, match="exercise"):
        write_synthetic_dataset("myo16", 1, tmp_path, exercise=4)
    with pytest.raises(ValueError, match="subjects"):
        write_synthetic_dataset("myo16", 0, tmp_path)


# ---------------------------------------------------------------------------
# Learnable but not trivial
# ---------------------------------------------------------------------------


def test_myo16_learnable_not_trivial(myo16_default: Path) -> None:
    """LDA on per-channel MAV, repetition 5 held out: far above chance, short of perfect."""
    recs = load_dataset("synthetic-myo16", myo16_default, 1)
    accuracy, balanced, majority = lda_on_held_out(recs, test_repetition=5)
    chance = 1 / 13
    assert balanced > 4 * chance, balanced
    assert accuracy > majority + 0.05, (accuracy, majority)  # beats always answering "rest"
    assert balanced < 0.97 and accuracy < 0.98, (accuracy, balanced)


def test_hd8x16_learnable_not_trivial(hd_default: Path) -> None:
    """One trial held out (five folds), averaged: far above chance (1/8), short of perfect."""
    recs = load_dataset("synthetic-hd8x16", hd_default, 1)
    scores = [lda_on_held_out(recs, test_repetition=t, step=26)[0] for t in (2, 4, 6, 8, 10)]
    assert 0.4 < np.mean(scores) < 0.97, scores
    assert min(scores) < 0.99, scores


def test_delsys12_learnable_not_trivial(tmp_path: Path) -> None:
    """DB2 format, 6 gestures: LDA on MAV over 200 ms windows, repetition 5 held out."""
    write_synthetic_dataset("delsys12", 1, tmp_path, seed=0, gestures=6, progress=False)
    recs = load_dataset("synthetic-delsys12", tmp_path, 1)
    parts = [mav_windows(r, width=400, step=100) for r in recs]
    x, y, rep = (np.concatenate([p[i] for p in parts]) for i in range(3))
    test = rep == 5
    predicted = LinearDiscriminantAnalysis(solver="lsqr").fit(x[~test], y[~test]).predict(x[test])
    balanced = balanced_accuracy_score(y[test], predicted)
    assert 3 / 7 < balanced < 0.97, balanced
