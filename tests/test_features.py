"""Hudgins and LSTM-FIN features against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from myoedge.training.features import fin_features, hudgins_features

# channel 0: 1, -2, 3, 3, -1 ; channel 1: 0.5, 0.5, -0.5, 0.5, 0.5
WINDOW = np.array([[[1.0, 0.5], [-2.0, 0.5], [3.0, -0.5], [3.0, 0.5], [-1.0, 0.5]]])


def test_hudgins_features_by_hand_without_deadband() -> None:
    features = hudgins_features(WINDOW)
    assert features.shape == (1, 8) and features.dtype == np.float32
    mav, wl, zc, ssc = features[0].reshape(4, 2)
    # channel 0: |x| mean = 10/5; diffs -3, 5, 0, -4; crossings at (1,-2), (-2,3), (3,-1);
    # turning points: -2 (trough); the plateau 3, 3 is not a strict peak
    # channel 1: diffs 0, -1, 1, 0; crossings (0.5,-0.5), (-0.5,0.5); -0.5 is a trough
    np.testing.assert_allclose(mav, [2.0, 0.5])
    np.testing.assert_allclose(wl, [12.0, 2.0])
    np.testing.assert_array_equal(zc, [3, 2])
    np.testing.assert_array_equal(ssc, [1, 1])


def test_deadband_scalar_and_per_channel() -> None:
    # crossings of channel 0 have jumps 3, 5, 4; its trough has slopes 3 and 5
    zc, ssc = hudgins_features(WINDOW, threshold=3.5)[0].reshape(4, 2)[2:]
    np.testing.assert_array_equal(zc, [2, 0])
    np.testing.assert_array_equal(ssc, [1, 0])
    zc, ssc = hudgins_features(WINDOW, threshold=np.array([4.5, 1.0]))[0].reshape(4, 2)[2:]
    np.testing.assert_array_equal(zc, [1, 2])
    np.testing.assert_array_equal(ssc, [1, 1])
    zc, ssc = hudgins_features(WINDOW, threshold=np.array([5.5, 1.5]))[0].reshape(4, 2)[2:]
    np.testing.assert_array_equal(zc, [0, 0])
    np.testing.assert_array_equal(ssc, [0, 0])
    with pytest.raises(ValueError, match="threshold"):
        hudgins_features(WINDOW, threshold=np.ones(3))
    with pytest.raises(ValueError, match="3-D"):
        hudgins_features(WINDOW[0])


def test_features_of_many_windows_match_one_by_one() -> None:
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(6, 20, 3))
    together = hudgins_features(windows, 0.3)
    for i in range(6):
        np.testing.assert_array_equal(together[i], hudgins_features(windows[i : i + 1], 0.3)[0])


def test_fin_features_by_hand() -> None:
    # channel 0: x = 0, ln 3 -> softmax 1/4, 3/4; channel 1: 3, 4
    windows = np.array([[[0.0, 3.0], [np.log(3.0), 4.0]]])
    features = fin_features(windows)
    assert features.shape == (1, 4, 2) and features.dtype == np.float32
    entropy, rms, variance, ssi = features[0]
    assert entropy[0] == pytest.approx(-(0.25 * np.log(0.25) + 0.75 * np.log(0.75)), rel=1e-6)
    softmax_1 = np.exp([3.0, 4.0]) / np.exp([3.0, 4.0]).sum()
    assert entropy[1] == pytest.approx(-(softmax_1 * np.log(softmax_1)).sum(), rel=1e-6)
    assert rms[1] == pytest.approx(np.sqrt(12.5), rel=1e-6)
    assert variance[1] == pytest.approx(0.25, rel=1e-6)
    assert ssi[1] == pytest.approx(25.0, rel=1e-6)
    assert ssi[0] == pytest.approx(np.log(3.0) ** 2, rel=1e-6)


def test_fin_entropy_is_stable_for_large_values_and_maximal_for_flat_windows() -> None:
    flat = np.full((1, 600, 1), 1000.0)
    assert fin_features(flat)[0, 0, 0] == pytest.approx(np.log(600.0), rel=1e-6)
    spike = np.zeros((1, 600, 1))
    spike[0, 10, 0] = 1e4
    assert fin_features(spike)[0, 0, 0] == pytest.approx(0.0, abs=1e-6)
