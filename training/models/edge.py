"""``edge``: a small temporal convolution net on high-passed raw sEMG windows.

Why this shape: on NinaPro DB5 the classical peers (LDA, linear SVM on
Hudgins MAV/WL/ZC/SSC per channel) beat the attention model, whose front end
rectifies and smooths the signal before the network sees it. The edge model
reads the high-passed, *unrectified* window instead (its recipe's
preprocessing, ``recipes.PREPROCESS_OVERRIDES["edge"]``: rectify off, moving
average 1, so a (52, 16) window at 200 Hz) and learns Hudgins-like features
itself:

1. per-channel filter bank: a depthwise temporal convolution gives each
   electrode ``feature_multiplier`` learned FIR filters of ``feature_kernel``
   taps (identity-like filters give MAV after the ReLU, difference-like
   filters give WL-like slopes), BatchNorm, ReLU (the rectifier), average
   pooling over ``feature_pool`` samples (the integrator);
2. ``filters`` / ``kernel_sizes`` / ``pools``: temporal convolutions that mix
   electrodes and see how the feature amplitudes evolve inside the window
   (optionally depthwise-separable);
3. mean over time (MEAN), Dropout, Dense(``head_units``, ReLU), Dropout,
   Dense(n_classes, softmax).

Default (``EDGE_OPTIONS``) on (52, 16) inputs with 13 classes: depthwise
5 x 1 x 8 -> pool 4 -> Conv 3 x 1, 64 filters -> mean -> 64 -> 13; 30 989
parameters, about 0.36 M multiply-accumulates (the choice and the figures
behind it are in docs/EDGE_MODEL.md).

Every convolution is a Conv2D / DepthwiseConv2D over a (T, 1, C) map rather
than Conv1D, whose TF lowering adds EXPAND_DIMS / SQUEEZE ops the
ahead-of-time C engine does not implement. BatchNorm folds into the
convolution at conversion, so the int8 graph holds only RESHAPE,
DEPTHWISE_CONV_2D, CONV_2D, AVERAGE_POOL_2D, MEAN, FULLY_CONNECTED and
SOFTMAX (plus QUANTIZE at the edges), ReLU fused into the convolutions.
"""

from __future__ import annotations

from typing import Any

import keras

EDGE_OPTIONS: dict[str, Any] = {
    "feature_multiplier": 8,
    "feature_kernel": 5,
    "feature_pool": 4,
    "filters": (64,),
    "kernel_sizes": (3,),
    "pools": (1,),
    "separable": False,
    "head_units": 64,
    "dropout": 0.2,
}


def _channel_filter_bank(x, multiplier: int, kernel: int, pool: int):
    """Per-electrode learned FIR filters -> BatchNorm -> ReLU (rectifier) -> average pool (integrator)."""
    x = keras.layers.DepthwiseConv2D((kernel, 1), padding="same", depth_multiplier=multiplier,
                                     use_bias=False, name="channel_filters")(x)
    x = keras.layers.BatchNormalization(name="channel_norm")(x)
    x = keras.layers.ReLU(name="channel_relu")(x)
    if pool > 1:
        x = keras.layers.AveragePooling2D((pool, 1), name="channel_pool")(x)
    return x


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
    feature_multiplier: int = 8,
    feature_kernel: int = 5,
    feature_pool: int = 4,
    filters: tuple[int, ...] = (64,),
    kernel_sizes: tuple[int, ...] = (3,),
    pools: tuple[int, ...] = (1,),
    separable: bool = False,
    head_units: int = 64,
    dropout: float = 0.2,
    name: str = "edge",
) -> keras.Model:
    """Build the edge model for ``(time, channels)`` windows; outputs class probabilities.

    ``feature_multiplier`` 0 drops the per-channel filter bank; ``filters``,
    ``kernel_sizes`` and ``pools`` give one convolution stage each (same
    length, may be empty); ``separable`` makes every stage depthwise + 1x1;
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
        x = _channel_filter_bank(x, int(feature_multiplier), int(feature_kernel), int(feature_pool))
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
