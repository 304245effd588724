"""Focal loss on integer class labels (Lin et al. 2017), as the attention paper trains with.

For one window with true class ``t`` and predicted probability ``p_t``::

    FL = alpha * (1 - p_t) ** gamma * -log(p_t)

averaged over the batch. ``gamma`` down-weights windows the model already
gets right (rest dominates sEMG data sets); ``alpha`` is a plain scale, the
same for every class (the attention paper's training script uses gamma 3 and
alpha 6).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="myoedge")
class FocalLoss(keras.losses.Loss):
    """Focal loss for integer labels ``(batch,)`` and class scores ``(batch, n_classes)``.

    ``from_logits=False`` expects probabilities (the models end in softmax);
    ``from_logits=True`` applies the softmax here. Probabilities are clipped
    to ``[epsilon, 1 - epsilon]`` so ``log`` stays finite.
    """

    def __init__(
        self,
        gamma: float = 3.0,
        alpha: float = 6.0,
        from_logits: bool = False,
        epsilon: float = 1e-7,
        name: str = "focal_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.from_logits = bool(from_logits)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        probabilities = ops.softmax(y_pred, axis=-1) if self.from_logits else y_pred
        n_classes = ops.shape(probabilities)[-1]
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        true_class = ops.one_hot(labels, n_classes, dtype=probabilities.dtype)
        p_true = ops.sum(probabilities * true_class, axis=-1)
        p_true = ops.clip(p_true, self.epsilon, 1.0 - self.epsilon)
        return self.alpha * ops.power(1.0 - p_true, self.gamma) * -ops.log(p_true)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "gamma": self.gamma,
            "alpha": self.alpha,
            "from_logits": self.from_logits,
            "epsilon": self.epsilon,
        }
