"""Windows, the repetition rules and the splits."""

from __future__ import annotations

import numpy as np
import pytest

from myoedge.training.preprocess import PreprocessConfig, preprocess_stream
from myoedge.training.recording import ElectrodeLayout, Recording
from myoedge.training.windows import (
    WindowSet,
    concat,
    make_windows,
    split_by_repetition,
    train_repetitions,
)

LAYOUT_200HZ = ElectrodeLayout("test3", 3, 200.0)
LAYOUT_1KHZ = ElectrodeLayout("test5", 5, 1000.0)


def nina_like_recording(layout: ElectrodeLayout = LAYOUT_200HZ, subject: int = 2, seed: int = 0) -> Recording:
    """Repetitions 0..6, each a movement surrounded by rest that carries the repetition's number."""
    rng = np.random.default_rng(seed)
    labels, reps = [np.zeros(80, dtype=int)], [np.zeros(80, dtype=int)]
    for rep in range(1, 7):
        for gesture in (1, 2):
            labels += [np.zeros(23, dtype=int), np.full(61, gesture), np.zeros(17, dtype=int)]
            reps += [np.full(101, rep)]
    labels_all = np.concatenate(labels)
    reps_all = np.concatenate(reps)
    emg = rng.normal(0, 10, (labels_all.size, layout.n_channels)) * (1 + 3 * (labels_all[:, None] > 0))
    return Recording(emg, labels_all, reps_all, layout, subject, exercise=1)


def brute_force_starts(rec: Recording, cfg: PreprocessConfig, constant_label: bool = False) -> list[int]:
    kept = []
    for s in range(0, rec.n_samples - cfg.window + 1, cfg.step):
        span = slice(s, s + cfg.window)
        if len(set(rec.repetitions[span])) == 1 and (not constant_label or len(set(rec.labels[span])) == 1):
            kept.append(s)
    return kept


def test_windows_spanning_two_repetitions_are_dropped_and_labels_come_from_the_first_sample() -> None:
    rec = nina_like_recording()
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    ws = make_windows(rec, cfg)
    expected = brute_force_starts(rec, cfg)
    assert ws.start.tolist() == expected
    assert len(ws) < len(range(0, rec.n_samples - 51, 5))  # some were dropped
    assert ws.x.shape == (len(expected), 38, 3) and ws.raw.shape == (len(expected), 52, 3)
    assert ws.x.dtype == np.float32 and ws.y.dtype == np.int64
    np.testing.assert_array_equal(ws.y, rec.labels[ws.start])
    np.testing.assert_array_equal(ws.repetition, rec.repetitions[ws.start])
    assert np.all(ws.subject == 2)
    # label changes inside a window do not drop it: rest->movement windows are kept
    spans_label_change = [len(set(rec.labels[s : s + 52])) > 1 for s in ws.start]
    assert any(spans_label_change)
    for i in (0, len(ws) // 2, len(ws) - 1):
        s = ws.start[i]
        np.testing.assert_array_equal(ws.raw[i], rec.emg[s : s + 52])


def test_preprocessed_windows_are_the_streams_windows() -> None:
    rec = nina_like_recording(seed=1)
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    ws = make_windows(rec, cfg)
    all_windows, starts = preprocess_stream(cfg, rec.emg)
    np.testing.assert_array_equal(ws.x, all_windows[np.isin(starts, ws.start)])


def test_constant_label_rule_and_zscore_per_window() -> None:
    rec = nina_like_recording(seed=2)
    cfg = PreprocessConfig.for_dataset("ninapro-db2", sampling_rate_hz=200.0, window=20, step=3)
    ws = make_windows(rec, cfg)
    assert ws.start.tolist() == brute_force_starts(rec, cfg, constant_label=True)
    assert all(len(set(rec.labels[s : s + 20])) == 1 for s in ws.start)
    np.testing.assert_allclose(ws.x.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(ws.x.std(axis=1), 1.0, atol=1e-5)
    # the z-score is of the raw window (no rectify, no filter, no average in this preset)
    raw = ws.raw[0].astype(np.float64)
    np.testing.assert_allclose(ws.x[0], (raw - raw.mean(0)) / raw.std(0), rtol=1e-5, atol=1e-5)


def test_frames_are_windows_of_one_sample() -> None:
    rec = nina_like_recording(LAYOUT_1KHZ, seed=3)
    ws = make_windows(rec, PreprocessConfig.for_dataset("capgmyo"))
    assert ws.x.shape == (rec.n_samples, 1, 5) and ws.raw.shape == (rec.n_samples, 1, 5)
    np.testing.assert_array_equal(ws.x[:, 0, :], rec.emg)
    np.testing.assert_array_equal(ws.y, rec.labels)


def test_sampling_rate_mismatch_is_refused() -> None:
    rec = nina_like_recording(LAYOUT_1KHZ)
    with pytest.raises(ValueError, match="1000.0 Hz.*200.0 Hz"):
        make_windows(rec, PreprocessConfig.for_dataset("ninapro-db5"))


def test_short_recording_gives_no_windows() -> None:
    rec = Recording(np.zeros((30, 3)), np.zeros(30), np.zeros(30), LAYOUT_200HZ, 1)
    ws = make_windows(rec, PreprocessConfig.for_dataset("ninapro-db5"))
    assert len(ws) == 0 and ws.x.shape == (0, 38, 3) and ws.raw.shape == (0, 52, 3)


def test_split_by_repetition_follows_the_paper() -> None:
    ws = make_windows(nina_like_recording(), PreprocessConfig.for_dataset("ninapro-db5"))
    splits = split_by_repetition(ws)
    assert set(splits) == {"train", "validation", "test"}
    assert set(splits["test"].repetition.tolist()) == {5}
    assert set(splits["validation"].repetition.tolist()) == {3}
    assert set(splits["train"].repetition.tolist()) == {0, 1, 2, 4, 6}
    assert sum(len(s) for s in splits.values()) == len(ws)
    assert train_repetitions(ws) == [0, 1, 2, 4, 6]
    other = split_by_repetition(ws, test=(2, 5), validation=())
    assert set(other["test"].repetition.tolist()) == {2, 5} and len(other["validation"]) == 0
    with pytest.raises(ValueError, match="both"):
        split_by_repetition(ws, test=(5,), validation=(5,))


def test_concat_and_select_keep_rows_together() -> None:
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    a = make_windows(nina_like_recording(subject=1, seed=4), cfg)
    b = make_windows(nina_like_recording(subject=3, seed=5), cfg)
    pooled = concat([a, b])
    assert len(pooled) == len(a) + len(b)
    assert pooled.subject.tolist() == [1] * len(a) + [3] * len(b)
    picked = pooled.select(pooled.y == 2)
    assert np.all(picked.y == 2)
    np.testing.assert_array_equal(picked.raw, pooled.raw[pooled.y == 2])
    with pytest.raises(ValueError, match="no window sets"):
        concat([])
    frames = make_windows(nina_like_recording(LAYOUT_1KHZ), PreprocessConfig.for_dataset("capgmyo"))
    with pytest.raises(ValueError, match="different shapes"):
        concat([a, frames])
    with pytest.raises(ValueError, match="rows"):
        WindowSet(a.x, a.raw, a.y[:-1], a.repetition, a.subject, a.start)
