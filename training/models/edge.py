"""``edge``: a small temporal convolution net on high-passed raw sEMG windows.

Why this shape: on NinaPro DB5 the classical peers (LDA, linear SVM on
Hudgins MAV/WL/ZC/SSC) beat the attention model, whose front end rectifies
and smooths the signal before the network sees it. The edge model instead
reads the high-passed, *unrectified* window (``EDGE_PREPROCESS``: rectify
off, moving average 1, so a (52, 16) window at 200 Hz) and learns the
features itself: a temporal convolution mixes channels and time (a learned
spatial and band-pass filter bank), ReLU rectifies it (MAV-like amplitude of
each learned filter; WL-like when the kernel differentiates), average pooling
integrates over time, and a second convolution sees how those amplitudes
evolve across the window. A global mean over time and a small dense head
classify.

Layers (``EDGE_OPTIONS``, with (52, 16) input)::

    input (T, C) -> Reshape (T, 1, C)
    -> for each stage i: [DepthwiseConv (k_i x 1) ->] Conv2D(filters_i, k_i x 1 or 1 x 1)
       -> BatchNorm -> ReLU -> AveragePool(pool_i x 1)
    -> mean over time (MEAN) -> Dropout -> Dense(head, ReLU) -> Dropout
    -> Dense(n_classes, softmax)

Every convolution is a Conv2D over a (T, 1, C) map rather than Conv1D, whose
TF lowering adds EXPAND_DIMS / SQUEEZE ops the ahead-of-time C engine does not
implement. BatchNorm folds into the convolution at conversion, so the int8
graph holds only RESHAPE, CONV_2D (or DEPTHWISE_CONV_2D), AVERAGE_POOL_2D,
MEAN, FULLY_CONNECTED and SOFTMAX (plus QUANTIZE at the edges).
"""

from __future__ import annotations

from typing import Any

import keras

# Preprocessing the edge model is trained and deployed with (merged under the
# user's --preprocess by the trainer; see training/recipes.py).
EDGE_PREPROCESS: dict[str, Any] = {"rectify": False, "moving_average": 1}

EDGE_OPTIONS: dict[str, Any] = {
    "filters": (32, 64),
    "kernel_sizes": (5, 3),
    "pools": (4, 1),
    "separable": False,
    "feature_multiplier": 0,
    "feature_kernel": 5,
    "feature_pool": 1,
    "head_units": 64,
    "dropout": 0.2,
}


def _conv_stage(x, index: int, filters: int, kernel: int, pool: int, separable: bool):
    """One temporal convolution stage on a (T, 1, C) map; returns the pooled map."""
    if separable and x.shape[-1] > 1:
        x = keras.layers.DepthwiseConv2D((kernel, 1), padding="same", use_bias=False, name=f"depthwise_{index}")(x)
        x = keras.layers.Conv2D(filters, (1, 1), use_bias=False, name=f"pointwise_{index}")(x)
    else:
        x = keras.layers.Conv2D(filters, (kernel, 1), padding="same", use_bias=False, name=f"conv_{index}")(x)
    x = keras.layers.BatchNormalization(name=f"norm_{index}")(x)
    x = keras.layers.ReLU(name=f"relu_{index}")(x)
    if pool > 1:
        x = keras.layers.AveragePooling2D((pool, 1), name=f"pool_{index}")(x)
    return x


def build_edge(
    input_shape: tuple[int, int] = (52, 16),
    n_classes: int = 13,
    filters: tuple[int, ...] = (32, 64),
    kernel_sizes: tuple[int, ...] = (5, 3),
    pools: tuple[int, ...] = (4, 1),
    separable: bool = False,
    feature_multiplier: int = 0,
    feature_kernel: int = 5,
    feature_pool: int = 1,
    head_units: int = 64,
    dropout: float = 0.2,
    name: str = "edge",
) -> keras.Model:
    """Build the edge model for ``(time, channels)`` windows; outputs class probabilities.

    ``filters``, ``kernel_sizes`` and ``pools`` give one convolution stage each
    (same length); ``separable`` makes every stage depthwise + 1x1;
    ``head_units`` 0 drops the hidden dense layer.
    """
    if len(input_shape) != 2:
        raise ValueError(f"edge model expects input_shape (time, channels), got {input_shape}")
    filters, kernel_sizes, pools = tuple(filters), tuple(kernel_sizes), tuple(pools)
    if not len(filters) == len(kernel_sizes) == len(pools):
        raise ValueError(
            f"edge model: filters {filters}, kernel_sizes {kernel_sizes} and pools {pools} must be of equal length"
        )
    if not filters and feature_multiplier < 1:
        raise ValueError("edge model: needs at least one convolution stage or feature_multiplier >= 1")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    steps, channels = (int(d) for d in input_shape)
    time_left = steps // int(feature_pool) if feature_multiplier > 0 else steps
    for pool in pools:
        if pool < 1 or time_left // pool < 1:
            raise ValueError(f"edge model: pools {pools} shrink {steps} time steps below one")
        time_left //= pool

    inputs = keras.Input(shape=(steps, channels), name="window")
    x = keras.layers.Reshape((steps, 1, channels), name="to_image")(inputs)
    if feature_multiplier > 0:
        x = keras.layers.DepthwiseConv2D((int(feature_kernel), 1), padding="same", depth_multiplier=int(feature_multiplier),
                                         use_bias=False, name="channel_filters")(x)
        x = keras.layers.BatchNormalization(name="channel_norm")(x)
        x = keras.layers.ReLU(name="channel_relu")(x)
        if feature_pool > 1:
            x = keras.layers.AveragePooling2D((int(feature_pool), 1), name="channel_pool")(x)
    for index, (units, kernel, pool) in enumerate(zip(filters, kernel_sizes, pools)):
        x = _conv_stage(x, index, int(units), int(kernel), int(pool), bool(separable))
    x = keras.layers.GlobalAveragePooling2D(name="mean_over_time")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="dropout_features")(x)
    if head_units > 0:
        x = keras.layers.Dense(int(head_units), activation="relu", name="head")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name="dropout_head")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name=name)
