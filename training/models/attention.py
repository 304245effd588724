"""The attention model of Josephs et al. 2020 and its compact, board-sized presets.

Paper model (about 1.43 M parameters with 53 classes on (38, 16) windows):

    input (T, C)
    -> expansion: Dense(128) per time step (or Conv1D(128, 3, same), or none)
       -> Mish -> LayerNorm(eps 1e-5)
    -> feed-forward attention over time -> context vector (128,)
    -> classifier: 3 x [Dropout(0.36) -> Dense(500 / 500 / 2000) -> Mish -> LayerNorm]
    -> Dense(n_classes, softmax)

Every ablation of the paper is a keyword: ``expansion``, ``attention``,
``classifier`` (any tuple of widths, ``()`` for none), ``layer_norm``,
``activation``. Mish and LayerNorm are the exportable forms from
:mod:`layers`, so every variant converts to a pure-int8 TFLite graph.

``attention-compact`` (:data:`COMPACT_OPTIONS`) is sized for a Cortex-M4 with
64 KB RAM and 256 KB flash after int8: expansion 64, classifier (256, 256).
With (38, 16) inputs and 53 classes that is 99 775 parameters (a 119 KB int8
flatbuffer) and 227 k Dense MACs (expansion 39 k, attention 92 k, classifier
95 k), inside issue 6's 500 k MAC budget. Activations: the largest tensor is
one 38 x 64 int8 map (2.4 KB); the TFLM interpreter needed a ~30 KB arena
with exact Mish and ~21 KB with ``activation="hard_mish"`` (probed with the
TFLM Python runtime; the paper model needs ~67 KB, over the 64 KB budget).
Most of its cycles go to element-wise work (Mish, LayerNorm, softmax over
64 x 38), not to MACs: ``hard_mish`` is the cheap switch.

The Conv1D expansion is built as Reshape -> Conv2D(k x 1) -> Reshape rather
than ``keras.layers.Conv1D``, whose TF lowering adds EXPAND_DIMS/SQUEEZE ops;
it computes the same function as Conv1D(kernel_size, padding="same").
"""

from __future__ import annotations

from typing import Any

import keras

from .layers import FeedForwardAttention, LayerNorm, activation_layer

EXPANSION_KINDS = ("dense", "conv1d", "none")
ACTIVATIONS = ("mish", "relu", "hard_mish")

PAPER_OPTIONS: dict[str, Any] = {
    "expansion": "dense",
    "expansion_units": 128,
    "attention": "feedforward",
    "classifier": (500, 500, 2000),
    "dropout": 0.36,
    "layer_norm": True,
    "activation": "mish",
}

COMPACT_OPTIONS: dict[str, Any] = {
    **PAPER_OPTIONS,
    "expansion_units": 64,
    "classifier": (256, 256),
}


def _expand(x, kind: str, units: int, kernel_size: int, activation: str, layer_norm: bool):
    """Per-time-step expansion of the channels to ``units`` features."""
    if kind == "none":
        return x
    steps, channels = x.shape[1], x.shape[2]
    if kind == "dense":
        x = keras.layers.Dense(units, name="expansion")(x)
    else:
        x = keras.layers.Reshape((steps, 1, channels), name="expansion_to_image")(x)
        x = keras.layers.Conv2D(units, (kernel_size, 1), padding="same", name="expansion")(x)
        x = keras.layers.Reshape((steps, units), name="expansion_to_sequence")(x)
    x = activation_layer(activation, "expansion_activation")(x)
    if layer_norm:
        x = LayerNorm(name="expansion_norm")(x)
    return x


def build_attention(
    input_shape: tuple[int, int] = (38, 16),
    n_classes: int = 53,
    expansion: str = "dense",
    expansion_units: int = 128,
    attention: str = "feedforward",
    classifier: tuple[int, ...] = (500, 500, 2000),
    dropout: float = 0.36,
    layer_norm: bool = True,
    activation: str = "mish",
    conv_kernel_size: int = 3,
    name: str = "attention",
) -> keras.Model:
    """Build the attention model for ``(time, channels)`` windows; outputs class probabilities."""
    if len(input_shape) != 2:
        raise ValueError(f"attention model expects input_shape (time, channels), got {input_shape}")
    if expansion not in EXPANSION_KINDS:
        raise ValueError(f"expansion {expansion!r} is not one of {EXPANSION_KINDS}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {ACTIVATIONS}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    inputs = keras.Input(shape=tuple(int(d) for d in input_shape), name="window")
    x = _expand(inputs, expansion, int(expansion_units), int(conv_kernel_size), activation, layer_norm)
    x = FeedForwardAttention(attention, name="attention")(x)
    for index, units in enumerate(classifier):
        x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
        x = keras.layers.Dense(int(units), name=f"dense_{index}")(x)
        x = activation_layer(activation, f"activation_{index}")(x)
        if layer_norm:
            x = LayerNorm(name=f"norm_{index}")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name=name)
