"""Preprocessing: parameters, presets, and the streaming transform against one-shot and scipy."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import signal

from myoedge.training.preprocess import (
    PreprocessConfig,
    StreamingPreprocessor,
    highpass_sos,
    moving_average_valid,
    preprocess_stream,
)


def push_in_random_chunks(pre: StreamingPreprocessor, stream: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Push ``stream`` in chunks of random size (0, 1 and larger) and stack the windows."""
    outputs = []
    i = 0
    while i < stream.shape[0]:
        size = int(rng.choice([0, 1, 1, 2, 3, 7, 16, 50, 131]))
        outputs.append(pre.push(stream[i : i + size]))
        i += size
    return np.concatenate(outputs, axis=0)


def emg_like(n: int, channels: int, seed: int) -> np.ndarray:
    """Noise with a DC offset and a slow drift per channel, like an unfiltered electrode."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    return (rng.normal(0, 20, (n, channels)) + 5.0 + 3.0 * np.sin(t / 40.0)).astype(np.float32)


# --- parameters ---------------------------------------------------------------------------


def test_presets_hold_the_papers_parameters() -> None:
    db5 = PreprocessConfig.for_dataset("ninapro-db5")
    assert (db5.sampling_rate_hz, db5.rectify, db5.highpass_hz, db5.highpass_order) == (200.0, True, 20.0, 3)
    assert (db5.window, db5.step, db5.moving_average, db5.output_steps) == (52, 5, 15, 38)
    assert PreprocessConfig.for_dataset("synthetic-myo16") == db5
    db4 = PreprocessConfig.for_dataset("ninapro-db4")
    assert (db4.sampling_rate_hz, db4.window, db4.step, db4.moving_average, db4.output_steps) == (
        2000.0, 520, 50, 150, 371,
    )
    db2 = PreprocessConfig.for_dataset("ninapro-db2")
    assert (db2.rectify, db2.highpass_hz, db2.window, db2.step, db2.zscore_window) == (False, None, 600, 20, True)
    assert db2.output_steps == 600 and db2.constant_label
    assert PreprocessConfig.for_dataset("synthetic-delsys12") == db2
    frames = PreprocessConfig.for_dataset("capgmyo")
    assert frames.frames and frames.window == 1 and frames.output_steps == 1
    assert PreprocessConfig.for_dataset("synthetic-hd8x16") == frames


def test_authors_code_cutoff_is_an_override() -> None:
    cfg = PreprocessConfig.for_dataset("ninapro-db5", highpass_hz=2.0)
    assert cfg.highpass_hz == 2.0 and cfg.window == 52
    with pytest.raises(ValueError, match="unknown override"):
        PreprocessConfig.for_dataset("ninapro-db5", cutoff=2.0)
    with pytest.raises(ValueError, match="no preset"):
        PreprocessConfig.for_dataset("ninapro-db9")


def test_dict_round_trip_through_json_and_strictness() -> None:
    cfg = PreprocessConfig.for_dataset("ninapro-db5", highpass_hz=2.0)
    data = json.loads(json.dumps(cfg.to_dict()))
    assert PreprocessConfig.from_dict(data) == cfg
    assert PreprocessConfig.from_dict(PreprocessConfig.for_dataset("ninapro-db2").to_dict()).highpass_hz is None
    with pytest.raises(ValueError, match="unknown keys"):
        PreprocessConfig.from_dict({**data, "windw": 52})
    with pytest.raises(ValueError, match="sampling_rate_hz"):
        PreprocessConfig.from_dict({k: v for k, v in data.items() if k != "sampling_rate_hz"})
    with pytest.raises(ValueError, match="rectify"):
        PreprocessConfig.from_dict({**data, "rectify": "yes"})
    with pytest.raises(ValueError, match="window"):
        PreprocessConfig.from_dict({**data, "window": 52.0})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"moving_average": 60}, "moving_average"),
        ({"highpass_hz": 100.0}, "Nyquist"),
        ({"step": 0}, "step"),
        ({"frames": True}, "frames"),
        ({"highpass_order": 0}, "highpass_order"),
    ],
)
def test_bad_parameters_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PreprocessConfig.for_dataset("ninapro-db5", **overrides)


def test_highpass_design_is_the_butterworth_of_the_config() -> None:
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    sos = highpass_sos(cfg)
    assert sos.shape == (2, 6)  # order 3 -> two second-order sections
    freqs, response = signal.sosfreqz(sos, worN=[0.0, 20.0, 99.0], fs=200.0)
    gain = np.abs(response)
    assert gain[0] == pytest.approx(0.0, abs=1e-12)
    assert gain[1] == pytest.approx(1 / np.sqrt(2), rel=1e-6)  # -3 dB at the cut-off
    assert gain[2] == pytest.approx(1.0, abs=1e-3)
    assert highpass_sos(PreprocessConfig.for_dataset("ninapro-db2")) is None


# --- streaming transform ------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [
        PreprocessConfig.for_dataset("ninapro-db5"),
        PreprocessConfig.for_dataset("ninapro-db2", sampling_rate_hz=200.0, window=30, step=7),
        PreprocessConfig.for_dataset("capgmyo"),
        PreprocessConfig(sampling_rate_hz=100.0, highpass_hz=5.0, window=6, step=9, moving_average=3),
    ],
    ids=["attention-db5", "lstm-fin-zscore", "frames", "step-longer-than-window"],
)
def test_streaming_output_does_not_depend_on_chunking(cfg: PreprocessConfig) -> None:
    stream = emg_like(1200, 3, seed=1)
    one_shot, starts = preprocess_stream(cfg, stream)
    assert one_shot.shape == (starts.shape[0], cfg.output_steps, 3)
    assert starts[0] == 0 and np.all(np.diff(starts) == cfg.step)
    for seed in range(3):
        streamed = push_in_random_chunks(StreamingPreprocessor(cfg, 3), stream, np.random.default_rng(seed))
        assert streamed.dtype == np.float32
        np.testing.assert_array_equal(streamed, one_shot)
    whole = StreamingPreprocessor(cfg, 3).push(stream)
    np.testing.assert_array_equal(whole, one_shot)


def test_filtering_equals_scipy_on_the_whole_stream() -> None:
    # window 1, no moving average: each output window is one filtered sample
    cfg = PreprocessConfig(sampling_rate_hz=200.0, rectify=True, highpass_hz=20.0, highpass_order=3)
    stream = emg_like(900, 2, seed=2)
    streamed = push_in_random_chunks(StreamingPreprocessor(cfg, 2), stream, np.random.default_rng(5))[:, 0, :]
    rectified = np.abs(stream.astype(np.float64))
    by_sos = signal.sosfilt(highpass_sos(cfg), rectified, axis=0)
    np.testing.assert_allclose(streamed, by_sos.astype(np.float32), rtol=0, atol=1e-5)
    b, a = signal.butter(3, 20.0, btype="highpass", fs=200.0)
    by_ba = signal.lfilter(b, a, rectified, axis=0)
    np.testing.assert_allclose(streamed, by_ba, rtol=1e-5, atol=1e-4)
    # the offset and the rectified mean are gone after the transient
    assert abs(streamed[100:].mean()) < 1.0 < abs(rectified.mean())


def test_moving_average_inside_a_window_is_a_valid_convolution() -> None:
    cfg = PreprocessConfig(sampling_rate_hz=200.0, window=10, step=4, moving_average=4)
    stream = emg_like(60, 2, seed=3)
    windows, starts = preprocess_stream(cfg, stream)
    assert windows.shape[1] == 7
    for w, s in zip(windows, starts):
        for c in range(2):
            expected = np.convolve(stream[s : s + 10, c].astype(np.float64), np.ones(4) / 4, mode="valid")
            np.testing.assert_allclose(w[:, c], expected, rtol=1e-6)


def test_moving_average_of_width_one_is_the_identity() -> None:
    x = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(moving_average_valid(x, 1), x)
    assert moving_average_valid(x, 7).shape == (0, 2)


def test_reset_starts_the_stream_again() -> None:
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    stream = emg_like(300, 2, seed=4)
    pre = StreamingPreprocessor(cfg, 2)
    first = pre.push(stream)
    pre.reset()
    assert pre.samples_seen == 0
    np.testing.assert_array_equal(pre.push(stream), first)


def test_bad_chunks_are_refused() -> None:
    pre = StreamingPreprocessor(PreprocessConfig.for_dataset("ninapro-db5"), 2)
    with pytest.raises(ValueError, match="channels"):
        pre.push(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="2-D"):
        pre.push(np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        pre.push(np.array([[0.0, np.nan]]))
    assert pre.push(np.zeros((0, 2))).shape == (0, 38, 2)
