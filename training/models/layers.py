"""Custom Keras layers written only from ops that quantise to int8 for TFLM.

Why these exist: the TFLite converter turns Keras' own ``mish`` into EXP/LOG
(float-only in TFLite Micro) and Keras' ``LayerNormalization`` leaves a float
NEG in the graph. The forms below compute the same functions in float
(checked by ``tests/test_models.py``) but lower to ops that TFLM runs in
int8:

- :class:`Mish`: ``x * s * (2 - s) / (s*s - 2s + 2)`` with ``s = sigmoid(x)``,
  which is ``x * tanh(softplus(x))`` rewritten (``1 + e^x = 1 / (1 - s)``).
  TFLite ops: LOGISTIC, SUB, MUL, ADD, DIV.
- :class:`HardMish`: ``0.5 * x * clip(x + 2, 0, 2)``, a cheaper piecewise
  approximation (max error vs Mish ~0.1-0.3 on [-6, 6]); MUL, ADD, MUL.
- :class:`LayerNorm`: mean -> subtract -> ``d * d`` -> mean -> ``+ eps`` ->
  rsqrt -> ``* gamma`` -> ``+ beta`` (MEAN, SUB, MUL, ADD, RSQRT). Its weights
  are named and ordered like ``keras.layers.LayerNormalization`` (``gamma``,
  ``beta``) so weights trained with either copy over unchanged.
- :class:`FeedForwardAttention`: the attention paper's feed-forward attention
  and its two ablations (``raffel``, ``sum``); softmax lowers to SOFTMAX and
  the sum over time to SUM.

Every layer is registered under the ``myoedge`` package so
``keras.models.load_model(path, safe_mode=True)`` rebuilds it from its config.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

ATTENTION_KINDS = ("feedforward", "raffel", "sum")


@keras.saving.register_keras_serializable(package="myoedge")
class Mish(keras.layers.Layer):
    """Mish activation, ``x * tanh(softplus(x))``, in its int8-exportable form.

    The sigmoid form equals ``keras.activations.mish`` to within float32
    round-off (about 1e-6), so it is used for training and export alike.
    """

    def call(self, inputs):
        s = ops.sigmoid(inputs)
        numerator = inputs * s * (2.0 - s)
        denominator = s * s - 2.0 * s + 2.0
        return numerator / denominator

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="myoedge")
class HardMish(keras.layers.Layer):
    """Piecewise-linear Mish approximation ``0.5 * x * clip(x + 2, 0, 2)``.

    Cheaper on a microcontroller than :class:`Mish` (no LOGISTIC or DIV).
    Written as ``x * relu6(3x + 6) / 6`` (the same function): the converter
    then emits MUL, ADD with a fused RELU6, MUL, whereas ``clip`` would leave
    MINIMUM and RELU ops that the AOT engine does not implement.
    """

    def call(self, inputs):
        return inputs * ops.relu6(3.0 * inputs + 6.0) * (1.0 / 6.0)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="myoedge")
class LayerNorm(keras.layers.Layer):
    """Layer normalisation over the last axis, written out from quantisable ops.

    Same maths and same weights (``gamma`` then ``beta``) as
    ``keras.layers.LayerNormalization(axis=-1, epsilon=epsilon)``; the
    default ``epsilon`` is the attention paper's 1e-5 (Keras' own is 1e-3).
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape) -> None:
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"{self.name}: the last axis must have a known size, got {input_shape}")
        self.gamma = self.add_weight(name="gamma", shape=(features,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(features,), initializer="zeros")

    def call(self, inputs):
        mean = ops.mean(inputs, axis=-1, keepdims=True)
        centred = inputs - mean
        variance = ops.mean(centred * centred, axis=-1, keepdims=True)
        inverse_std = ops.rsqrt(variance + self.epsilon)
        return centred * inverse_std * self.gamma + self.beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="myoedge")
class FeedForwardAttention(keras.layers.Layer):
    """Collapse a sequence ``h`` of shape ``(T, D)`` into a context vector ``(D,)``.

    ``kind``:

    - ``"feedforward"`` (the attention paper): transpose ``h`` to ``(D, T)``,
      a ``Dense(T)`` with softmax over time gives one set of time weights per
      feature, transpose back, multiply element-wise with ``h``, sum over
      time. TFLite: TRANSPOSE, FULLY_CONNECTED, SOFTMAX, TRANSPOSE, MUL, SUM.
    - ``"raffel"`` (Raffel & Ellis 2015): a learned score ``e_t =
      tanh(w . h_t + b)`` per time step, ``alpha = softmax_t(e)``, context
      ``sum_t alpha_t h_t``. TFLite: FULLY_CONNECTED, TANH, RESHAPE, SOFTMAX,
      RESHAPE, MUL (broadcast over features), SUM.
    - ``"sum"``: the plain sum over time (SUM).
    """

    def __init__(self, kind: str = "feedforward", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"attention kind {kind!r} is not one of {ATTENTION_KINDS}")
        self.kind = kind
        self.score: keras.layers.Dense | None = None

    def build(self, input_shape) -> None:
        if len(input_shape) != 3 or input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                f"{self.name}: expects (batch, time, features) with known time and features, got {input_shape}"
            )
        steps, features = int(input_shape[1]), int(input_shape[2])
        if self.kind == "feedforward":
            self.score = keras.layers.Dense(steps, activation="softmax", name="time_weights")
            self.score.build((input_shape[0], features, steps))
        elif self.kind == "raffel":
            self.score = keras.layers.Dense(1, activation="tanh", name="time_score")
            self.score.build((input_shape[0], steps, features))

    def call(self, inputs):
        if self.kind == "feedforward":
            by_feature = ops.transpose(inputs, (0, 2, 1))
            weights = ops.transpose(self.score(by_feature), (0, 2, 1))
            return ops.sum(inputs * weights, axis=1)
        if self.kind == "raffel":
            steps = inputs.shape[1]
            scores = ops.reshape(self.score(inputs), (-1, steps))
            weights = ops.reshape(ops.softmax(scores, axis=-1), (-1, steps, 1))
            return ops.sum(inputs * weights, axis=1)
        return ops.sum(inputs, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def count_macs(self, input_shape) -> int:
        """Multiply-accumulates of the learned scoring per single input."""
        steps, features = int(input_shape[-2]), int(input_shape[-1])
        if self.kind == "feedforward":
            return features * steps * steps
        if self.kind == "raffel":
            return steps * features
        return 0

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kind": self.kind}


def activation_layer(name: str, layer_name: str | None = None) -> keras.layers.Layer:
    """The exportable activation layer for ``name`` in ``mish``, ``hard_mish``, ``relu``."""
    if name == "mish":
        return Mish(name=layer_name)
    if name == "hard_mish":
        return HardMish(name=layer_name)
    if name == "relu":
        return keras.layers.ReLU(name=layer_name)
    raise ValueError(f"activation {name!r} is not one of ('mish', 'hard_mish', 'relu')")
