"""Ranger (RAdam + Lookahead) and the delayed cosine learning-rate schedule of the attention paper.

RAdam (Liu et al. 2019, "On the Variance of the Adaptive Learning Rate and
Beyond"), step ``t`` (from 1) for gradient ``g``::

    m = beta1 * m + (1 - beta1) * g            v = beta2 * v + (1 - beta2) * g^2
    m_hat = m / (1 - beta1^t)
    rho_inf = 2 / (1 - beta2) - 1              rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    if rho_t > rectify_threshold:
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        theta -= lr * r_t * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps)
    else:                                      (variance of the adaptive rate not yet tractable)
        theta -= lr * m_hat

The paper's algorithm rectifies once ``rho_t > 4``; the widely used Ranger
implementation (which the attention paper trained with) waits for
``rho_t > 5``. Both are the same term; the threshold is a setting (default 5,
i.e. plain momentum SGD for the first five steps with beta2 = 0.999).

Lookahead (Zhang et al. 2019) keeps slow weights ``phi`` (the weights before
the first step) and every ``sync_period`` steps sets
``phi += slow_step * (theta - phi)`` and ``theta = phi``.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="myoedge")
class Ranger(keras.optimizers.Optimizer):
    """RAdam wrapped in Lookahead (defaults: the attention paper's sync period 6, slow step 0.5)."""

    def __init__(
        self,
        learning_rate: Any = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        sync_period: int = 6,
        slow_step: float = 0.5,
        rectify_threshold: float = 5.0,
        name: str = "ranger",
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if int(sync_period) < 1:
            raise ValueError(f"Ranger sync_period must be >= 1, got {sync_period}")
        if not 0.0 < float(slow_step) <= 1.0:
            raise ValueError(f"Ranger slow_step must be in (0, 1], got {slow_step}")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.sync_period = int(sync_period)
        self.slow_step = float(slow_step)
        self.rectify_threshold = float(rectify_threshold)

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities, self._slow_weights = self.add_optimizer_variables(
            var_list, ["momentum", "velocity", "slow"]
        )

    def update_step(self, gradient, variable, learning_rate) -> None:
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = self.iterations + 1  # int64
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        slow = self._slow_weights[index]

        # Lookahead's slow weights start from the weights before the first update.
        self.assign(slow, ops.where(ops.equal(step, 1), variable, slow))

        self.assign(m, self.beta_1 * m + (1.0 - self.beta_1) * gradient)
        self.assign(v, self.beta_2 * v + (1.0 - self.beta_2) * gradient * gradient)

        # Step scalars in float64: in float32, rho_t = 1999 - 1992 for early steps
        # loses about 0.5 % to cancellation, which shows in the rectifier.
        # (ops.cast of a Python float would round it to float32 first.)
        step64 = ops.cast(self.iterations + 1, "float64")
        beta_1_power = ops.power(ops.convert_to_tensor(self.beta_1, dtype="float64"), step64)
        beta_2_power = ops.power(ops.convert_to_tensor(self.beta_2, dtype="float64"), step64)
        rho_inf = 2.0 / (1.0 - self.beta_2) - 1.0
        rho_t = rho_inf - 2.0 * step64 * beta_2_power / (1.0 - beta_2_power)
        rectifier = ops.sqrt(
            ops.maximum(
                (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t),
                0.0,
            )
        )
        rectified = ops.greater(rho_t, self.rectify_threshold)
        m_hat = m / ops.cast(1.0 - beta_1_power, dtype)
        rectified_scale = ops.cast(rectifier * ops.sqrt(1.0 - beta_2_power), dtype)
        adaptive = rectified_scale * m_hat / (ops.sqrt(v) + self.epsilon)
        update = ops.where(rectified, adaptive, m_hat)
        self.assign_sub(variable, lr * update)

        sync = ops.equal(ops.mod(step, self.sync_period), 0)
        new_slow = ops.where(sync, slow + self.slow_step * (variable - slow), slow)
        self.assign(slow, new_slow)
        self.assign(variable, ops.where(sync, new_slow, variable))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "sync_period": self.sync_period,
            "slow_step": self.slow_step,
            "rectify_threshold": self.rectify_threshold,
        }


@keras.saving.register_keras_serializable(package="myoedge")
class DelayedCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Flat learning rate for ``flat_steps``, then cosine-annealed to ``min_learning_rate`` over ``decay_steps``.

    With ``lr0 = initial_learning_rate`` and ``lr1 = min_learning_rate``:
    ``lr(s) = lr0`` for ``s < flat_steps``; afterwards, with
    ``f = min(s - flat_steps, decay_steps) / decay_steps``,
    ``lr(s) = lr1 + (lr0 - lr1) * (1 + cos(pi f)) / 2`` (``lr1`` from the end
    of the decay on).
    """

    def __init__(
        self,
        initial_learning_rate: float,
        flat_steps: int,
        decay_steps: int,
        min_learning_rate: float = 1e-5,
    ) -> None:
        if int(decay_steps) < 1:
            raise ValueError(f"DelayedCosine decay_steps must be >= 1, got {decay_steps}")
        if int(flat_steps) < 0:
            raise ValueError(f"DelayedCosine flat_steps must be >= 0, got {flat_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.flat_steps = int(flat_steps)
        self.decay_steps = int(decay_steps)
        self.min_learning_rate = float(min_learning_rate)

    @classmethod
    def from_epochs(
        cls,
        steps_per_epoch: int,
        initial_learning_rate: float = 1e-3,
        min_learning_rate: float = 1e-5,
        flat_epochs: int = 5,
        decay_epochs: int = 50,
    ) -> "DelayedCosine":
        """The attention paper's schedule: 1e-3 flat for 5 epochs, cosine to 1e-5 over 50 epochs."""
        return cls(
            initial_learning_rate, flat_epochs * steps_per_epoch, decay_epochs * steps_per_epoch, min_learning_rate
        )

    def __call__(self, step):
        step = ops.cast(step, "float32")
        progress = ops.clip((step - self.flat_steps) / float(self.decay_steps), 0.0, 1.0)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
        return self.min_learning_rate + (self.initial_learning_rate - self.min_learning_rate) * cosine

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "flat_steps": self.flat_steps,
            "decay_steps": self.decay_steps,
            "min_learning_rate": self.min_learning_rate,
        }
