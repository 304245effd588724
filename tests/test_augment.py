"""SNR-noise augmentation: rest windows untouched, measured SNR as asked, numpy and TF agree."""

from __future__ import annotations

import numpy as np
import pytest

from myoedge.training.augment import noise_std, ramp_snr_db, snr_noise, snr_noise_map, snr_noise_tf


def _windows(n: int = 6, steps: int = 8000, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Windows with a different power per window and channel."""
    rng = np.random.default_rng(seed)
    gains = rng.uniform(0.1, 5.0, size=(n, 1, channels))
    return (rng.standard_normal((n, steps, channels)) * gains).astype(np.float32)


def _measured_snr_db(clean: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    noise = noisy.astype(np.float64) - clean
    return 10.0 * np.log10(np.mean(clean.astype(np.float64) ** 2, axis=-2) / np.mean(noise**2, axis=-2))


def test_rest_windows_untouched_and_others_changed():
    x = _windows()
    y = np.array([0, 3, 0, 1, 2, 0])
    noisy = snr_noise(x, y, rng=1)
    rest = y == 0
    np.testing.assert_array_equal(noisy[rest], x[rest])
    assert np.all(np.any(noisy[~rest] != x[~rest], axis=(1, 2)))
    assert noisy.dtype == x.dtype and noisy.shape == x.shape


def test_rest_label_is_configurable_and_one_hot_labels_work():
    x = _windows(n=4)
    y = np.array([2, 0, 2, 1])
    one_hot = np.eye(3)[y]
    noisy = snr_noise(x, one_hot, rng=2, rest_label=2)
    np.testing.assert_array_equal(noisy[y == 2], x[y == 2])
    assert np.any(noisy[1] != x[1]) and np.any(noisy[3] != x[3])


@pytest.mark.parametrize("snr_db", [1.0, 10.0, 30.0])
def test_measured_snr_matches_requested_per_channel(snr_db):
    x = _windows(steps=40_000)
    y = np.ones(len(x), dtype=int)
    noisy = snr_noise(x, y, rng=3, snr_db_range=(snr_db, snr_db))
    measured = _measured_snr_db(x, noisy)
    # 40 000 Gaussian samples: the noise power estimate has a spread of
    # sqrt(2 / 40 000) = 0.7 %, i.e. 0.03 dB; 0.15 dB is five of those.
    np.testing.assert_allclose(measured, snr_db, atol=0.15)


def test_noise_std_follows_the_papers_formula():
    x = _windows(n=2, steps=50)
    snr = np.array([7.0, 22.0])
    power = np.mean(x.astype(np.float64) ** 2, axis=1)
    expected = np.sqrt(10 ** ((10 * np.log10(power) - snr[:, None]) / 10))
    np.testing.assert_allclose(noise_std(x, snr)[:, 0, :], expected, rtol=1e-12)


def test_zero_window_gets_no_noise_and_no_warning():
    x = np.zeros((2, 20, 3), dtype=np.float32)
    with np.errstate(all="raise"):
        noisy = snr_noise(x, np.array([1, 1]), rng=0)
    np.testing.assert_array_equal(noisy, x)


def test_snr_distribution_rises_towards_high_snr():
    draws = ramp_snr_db(np.random.default_rng(0).uniform(size=200_000), (1.0, 30.0))
    assert draws.min() >= 1.0 and draws.max() <= 30.0
    counts, _ = np.histogram(draws, bins=[1, 8.25, 15.5, 22.75, 30])
    assert np.all(np.diff(counts) > 0)
    # Linear ramp density: the median is low + (high - low) / sqrt(2).
    assert np.median(draws) == pytest.approx(1 + 29 / np.sqrt(2), abs=0.1)


def test_bad_label_shape_is_named():
    with pytest.raises(ValueError, match="labels of shape"):
        snr_noise(_windows(n=3, steps=10), np.array([1, 2]), rng=0)
    with pytest.raises(ValueError, match="snr_db_range"):
        snr_noise(_windows(n=1, steps=10), np.array([1]), rng=0, snr_db_range=(10, 1))


def test_tf_version_matches_numpy_maths():
    tf = pytest.importorskip("tensorflow")
    x = _windows()
    y = np.array([0, 3, 0, 1, 2, 0])
    noisy = snr_noise_tf(tf.constant(x), tf.constant(y), seed=tf.constant([1, 2]), snr_db_range=(12.0, 12.0)).numpy()
    rest = y == 0
    np.testing.assert_array_equal(noisy[rest], x[rest])
    np.testing.assert_allclose(_measured_snr_db(x[~rest], noisy[~rest]), 12.0, atol=0.3)
    again = snr_noise_tf(tf.constant(x), tf.constant(y), seed=tf.constant([1, 2]), snr_db_range=(12.0, 12.0)).numpy()
    np.testing.assert_array_equal(noisy, again)


def test_tf_version_inside_dataset_map_per_window():
    tf = pytest.importorskip("tensorflow")
    tf.random.set_seed(0)  # stateful random ops: fix the graph-level seed so the test is repeatable
    x = _windows(n=4)
    y = np.eye(3, dtype=np.float32)[[0, 1, 0, 2]]  # one-hot labels, rest = class 0
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).map(snr_noise_map((20.0, 20.0)))
    noisy = np.stack([window.numpy() for window, _ in dataset])
    np.testing.assert_array_equal(noisy[[0, 2]], x[[0, 2]])
    np.testing.assert_allclose(_measured_snr_db(x[[1, 3]], noisy[[1, 3]]), 20.0, atol=0.3)


def test_tf_version_keeps_float64_rest_windows_bit_exact():
    tf = pytest.importorskip("tensorflow")
    x = _windows(n=2, steps=100).astype(np.float64) * (1 + 1e-12)
    noisy = snr_noise_tf(tf.constant(x), tf.constant([0, 1]), seed=tf.constant([3, 4])).numpy()
    assert noisy.dtype == np.float64
    np.testing.assert_array_equal(noisy[0], x[0])
    assert np.any(noisy[1] != x[1])
