"""Models built by name, a MAC counter, and the batch-1 function the int8 export converts.

``build_model(name, input_shape, n_classes, **options)`` is the one entry
point the trainer uses; :data:`MODEL_NAMES` lists what it knows. Importing
this package registers every custom layer, the focal loss, Ranger and the
delayed cosine schedule, so a saved ``.keras`` file (compiled or not) reloads
with ``keras.models.load_model(path, safe_mode=True)``.

To add a model (``edge``, ``lstm-fin``): write its builder in its own module
here and add one :class:`ModelSpec` line to ``_REGISTRY`` below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import keras

from .. import losses as _losses  # noqa: F401  (registers FocalLoss)
from .. import optimizers as _optimizers  # noqa: F401  (registers Ranger, DelayedCosine)
from .attention import COMPACT_OPTIONS, PAPER_OPTIONS, build_attention
from .convnets import build_allconvnet, build_sconvnet
from .edge import EDGE_OPTIONS, build_edge
from .layers import FeedForwardAttention, HardMish, LayerNorm, Mish
from .lstm_fin import LSTM_FIN_OPTIONS, build_lstm_fin


@dataclass(frozen=True)
class ModelSpec:
    """How to build one named model: its builder, default options and input kind."""

    builder: Callable[..., keras.Model]
    defaults: dict[str, Any]
    input_kind: str  # "sequence": (time, channels) windows; "image": (rows, cols, 1) frames


_REGISTRY: dict[str, ModelSpec] = {
    "attention": ModelSpec(build_attention, PAPER_OPTIONS, "sequence"),
    "attention-compact": ModelSpec(build_attention, COMPACT_OPTIONS, "sequence"),
    "sconvnet": ModelSpec(build_sconvnet, {}, "image"),
    "allconvnet": ModelSpec(build_allconvnet, {}, "image"),
    "edge": ModelSpec(build_edge, EDGE_OPTIONS, "sequence"),
    "lstm-fin": ModelSpec(build_lstm_fin, LSTM_FIN_OPTIONS, "sequence"),  # tf_keras; trained by training/fin.py
}

MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def _spec(name: str) -> ModelSpec:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}")
    return _REGISTRY[name]


def build_model(name: str, input_shape: tuple, n_classes: int, **options: Any) -> keras.Model:
    """Build model ``name`` for inputs of ``input_shape`` (no batch axis); ``options`` override its defaults."""
    spec = _spec(name)
    model_options = {**spec.defaults, **options}
    return spec.builder(input_shape=tuple(input_shape), n_classes=int(n_classes), name=name, **model_options)


def model_input_kind(name: str) -> str:
    """``"sequence"`` for (time, channels) windows, ``"image"`` for (rows, cols, 1) grid frames."""
    return _spec(name).input_kind


def model_defaults(name: str) -> dict[str, Any]:
    """The default options of model ``name`` (a copy, safe to record in a run bundle)."""
    return dict(_spec(name).defaults)


def _layer_macs(layer: keras.layers.Layer, input_shape: tuple, output_shape: tuple) -> int:
    """Multiply-accumulates of one Dense / Conv layer (or a layer with ``count_macs``) per single input."""
    if hasattr(layer, "count_macs"):
        return int(layer.count_macs(input_shape))
    if isinstance(layer, keras.layers.Dense):
        positions = math.prod(int(d) for d in input_shape[1:-1])
        return positions * int(input_shape[-1]) * int(layer.units)
    if isinstance(layer, (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)):
        positions = math.prod(int(d) for d in output_shape[1:])  # includes channels * multiplier
        return positions * math.prod(layer.kernel_size)
    if isinstance(layer, (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)):
        in_channels = int(input_shape[-1])
        spatial = math.prod(int(d) for d in output_shape[1:-1])
        depthwise = spatial * in_channels * layer.depth_multiplier * math.prod(layer.kernel_size)
        pointwise = spatial * in_channels * layer.depth_multiplier * int(output_shape[-1])
        return depthwise + pointwise
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D)):
        in_channels = int(input_shape[-1]) // int(getattr(layer, "groups", 1))
        positions = math.prod(int(d) for d in output_shape[1:])  # output pixels * filters
        return positions * in_channels * math.prod(layer.kernel_size)
    return 0


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates of the Dense and Conv layers for one input (for reporting during search).

    Element-wise work (activations, normalisation, softmax) is not counted;
    the quantize stage computes the exact figure from the TFLite graph.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += count_macs(layer)
            continue
        try:
            input_shape = tuple(layer.input.shape)
            output_shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            continue
        total += _layer_macs(layer, input_shape, output_shape)
    return total


__all__ = [
    "MODEL_NAMES",
    "ModelSpec",
    "build_model",
    "model_input_kind",
    "model_defaults",
    "count_macs",
    "FeedForwardAttention",
    "HardMish",
    "LayerNorm",
    "Mish",
]
