"""SNR-noise augmentation of the attention paper: Gaussian noise on non-rest windows.

For each window (shape ``(time, channels)``) that is not rest, one SNR in dB
is drawn and every channel ``c`` gets independent Gaussian noise of variance

    sigma_c^2 = 10 ** ((10 * log10(mean_t(x[t, c]^2)) - snr) / 10)
              = mean_t(x[t, c]^2) * 10 ** (-snr / 10)

so each channel ends up at that SNR relative to its own power in that
window. Rest windows (label ``rest_label``) are returned unchanged: the
paper's code checked the wrong index here; this module reads the window's
own label (integer, or one-hot via argmax).

SNR distribution ("higher SNRs more likely"): a linear ramp on
``[low, high]``, density ``p(s) = 2 (s - low) / (high - low)^2``, drawn as
``low + (high - low) * sqrt(u)`` with ``u ~ U(0, 1)``. With the default
1-30 dB the median is 21.5 dB and a quarter of the draws fall below 15.5 dB.
``snr_db_range=(a, a)`` fixes the SNR (used by the tests).

Two implementations with the same maths: :func:`snr_noise` (numpy, for
arrays in memory) and :func:`snr_noise_tf` (TensorFlow ops, usable inside
``tf.data.Dataset.map``; :func:`snr_noise_map` builds that map function).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

SNR_DB_RANGE = (1.0, 30.0)


def _check_range(snr_db_range: tuple[float, float]) -> tuple[float, float]:
    low, high = float(snr_db_range[0]), float(snr_db_range[1])
    if not low <= high:
        raise ValueError(f"snr_db_range must be (low, high) with low <= high, got {snr_db_range}")
    return low, high


def ramp_snr_db(uniform: np.ndarray, snr_db_range: tuple[float, float] = SNR_DB_RANGE) -> np.ndarray:
    """Map ``U(0, 1)`` draws onto the rising-ramp SNR distribution on ``snr_db_range``."""
    low, high = _check_range(snr_db_range)
    return low + (high - low) * np.sqrt(uniform)


def noise_std(x: np.ndarray, snr_db: np.ndarray) -> np.ndarray:
    """Noise standard deviation per window and channel: ``x`` is ``(..., time, channels)``, ``snr_db`` is ``(...)``.

    Returns ``(..., 1, channels)``; an all-zero channel gets zero noise.
    """
    power = np.mean(np.square(x, dtype=np.float64), axis=-2, keepdims=True)
    snr = np.asarray(snr_db, dtype=np.float64)[..., None, None]
    return np.sqrt(power * np.power(10.0, -snr / 10.0))


def _integer_labels(x_shape: tuple[int, ...], y: np.ndarray) -> np.ndarray:
    """Labels as integers of shape ``x_shape[:-2]``, accepting integer or one-hot ``y``."""
    y = np.asarray(y)
    batch_shape = tuple(x_shape[:-2])
    if y.shape == batch_shape:
        return y.astype(np.int64)
    if y.shape[:-1] == batch_shape and y.ndim == len(batch_shape) + 1:
        return np.argmax(y, axis=-1)
    raise ValueError(
        f"labels of shape {y.shape} do not match windows of shape {x_shape}: "
        f"expected {batch_shape} (integers) or {batch_shape + ('n_classes',)} (one-hot)"
    )


def snr_noise(
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator | int | None = None,
    snr_db_range: tuple[float, float] = SNR_DB_RANGE,
    rest_label: int = 0,
) -> np.ndarray:
    """Return a noisy copy of windows ``x`` ``(..., time, channels)``; rest windows are copied unchanged.

    ``y``: one integer label per window (shape ``x.shape[:-2]``) or one-hot
    rows. ``rng``: a ``numpy.random.Generator`` or a seed.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"snr_noise expects windows of shape (..., time, channels), got {x.shape}")
    labels = _integer_labels(x.shape, y)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    snr_db = ramp_snr_db(generator.uniform(size=labels.shape), snr_db_range)
    std = noise_std(x, snr_db)
    noise = generator.standard_normal(size=x.shape) * std
    active = (labels != rest_label)[..., None, None]
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
    return np.where(active, x + noise, x).astype(out_dtype, copy=False)


def _tf_integer_labels(tf, x, y):
    """TF version of :func:`_integer_labels` (static ranks decide integer vs one-hot)."""
    if y.shape.rank == x.shape.rank - 1:
        return tf.argmax(y, axis=-1, output_type=tf.int64)
    if y.shape.rank == x.shape.rank - 2:
        return tf.cast(y, tf.int64)
    raise ValueError(f"labels of rank {y.shape.rank} do not match windows of rank {x.shape.rank}")


def snr_noise_tf(
    x,
    y,
    seed=None,
    snr_db_range: tuple[float, float] = SNR_DB_RANGE,
    rest_label: int = 0,
):
    """TensorFlow version of :func:`snr_noise` for ``x`` ``(..., time, channels)`` and its labels ``y``.

    ``seed``: ``None`` for TensorFlow's stateful random ops, or a shape-[2]
    integer tensor for stateless (reproducible) draws.
    """
    import tensorflow as tf

    low, high = _check_range(snr_db_range)
    x = tf.convert_to_tensor(x)
    y = tf.convert_to_tensor(y)
    labels = _tf_integer_labels(tf, x, y)
    dtype = x.dtype if x.dtype.is_floating else tf.float32
    signal = tf.cast(x, dtype)
    batch_shape = tf.shape(x)[:-2]
    if seed is None:
        uniform = tf.random.uniform(batch_shape, dtype=dtype)
        normal = tf.random.normal(tf.shape(x), dtype=dtype)
    else:
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
        uniform = tf.random.stateless_uniform(batch_shape, seed=seeds[0], dtype=dtype)
        normal = tf.random.stateless_normal(tf.shape(x), seed=seeds[1], dtype=dtype)
    snr_db = low + (high - low) * tf.sqrt(uniform)
    power = tf.reduce_mean(signal * signal, axis=-2, keepdims=True)
    std = tf.sqrt(power * tf.pow(tf.constant(10.0, dtype), -snr_db / 10.0)[..., None, None])
    active = tf.not_equal(labels, tf.cast(rest_label, tf.int64))[..., None, None]
    return tf.where(active, signal + normal * std, signal)


def snr_noise_map(
    snr_db_range: tuple[float, float] = SNR_DB_RANGE, rest_label: int = 0
) -> Callable:
    """A ``(x, y) -> (noisy x, y)`` function for ``tf.data.Dataset.map`` (stateful random ops)."""

    def augment(x, y):
        return snr_noise_tf(x, y, None, snr_db_range, rest_label), y

    return augment
