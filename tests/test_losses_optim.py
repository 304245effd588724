"""Focal loss, Ranger and the delayed cosine schedule against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from myoedge.training.losses import FocalLoss  # noqa: E402
from myoedge.training.optimizers import DelayedCosine, Ranger  # noqa: E402

# ---------------------------------------------------------------- focal loss


def test_focal_loss_hand_computed():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], dtype=np.float32)
    labels = np.array([0, 1])
    # p_t = 0.7 and 0.3; FL = alpha * (1 - p_t)^gamma * -ln(p_t)
    first = 6.0 * 0.3**3 * -math.log(0.7)  # 0.0578
    second = 6.0 * 0.7**3 * -math.log(0.3)  # 2.4778
    loss = float(FocalLoss(gamma=3.0, alpha=6.0)(labels, probabilities))
    assert loss == pytest.approx((first + second) / 2, rel=1e-5)
    assert loss == pytest.approx(1.267779, rel=1e-5)


def test_focal_loss_from_logits_and_column_labels():
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, 3.0]], dtype=np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([[2], [2]])  # (batch, 1) labels as Keras often passes them
    p_true = probabilities[:, 2]
    expected = np.mean(2.0 * (1 - p_true) ** 2 * -np.log(p_true))
    loss = float(FocalLoss(gamma=2.0, alpha=2.0, from_logits=True)(labels, logits))
    assert loss == pytest.approx(expected, rel=1e-5)


def test_focal_loss_gamma_zero_is_cross_entropy():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(5), size=16).astype(np.float32)
    labels = rng.integers(0, 5, size=16)
    cross_entropy = float(keras.losses.SparseCategoricalCrossentropy()(labels, probabilities))
    assert float(FocalLoss(gamma=0.0, alpha=1.0)(labels, probabilities)) == pytest.approx(cross_entropy, rel=1e-5)


def test_focal_loss_stays_finite_on_certain_predictions():
    probabilities = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    loss = float(FocalLoss()(np.array([1, 1]), probabilities))
    assert math.isfinite(loss) and loss > 0


def test_focal_loss_config_round_trip():
    loss = FocalLoss(gamma=2.5, alpha=4.0, from_logits=True)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(restored, FocalLoss)
    assert (restored.gamma, restored.alpha, restored.from_logits) == (2.5, 4.0, True)


# ------------------------------------------------------------------- Ranger


def _ranger_reference(theta0, gradients, lr, beta1=0.9, beta2=0.999, eps=1e-8, k=6, alpha=0.5, threshold=5.0):
    """Ranger written out in float64 numpy, one line per formula of Liu et al. 2019 / Zhang et al. 2019."""
    theta = np.array(theta0, dtype=np.float64)
    slow = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    rho_inf = 2 / (1 - beta2) - 1
    history = []
    for t, g in enumerate(gradients, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > threshold:
            r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            theta = theta - lr * r_t * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
        else:
            theta = theta - lr * m_hat
        if t % k == 0:
            slow = slow + alpha * (theta - slow)
            theta = slow.copy()
        history.append(theta.copy())
    return history


def _run_ranger(theta0, gradients, **kwargs):
    variable = keras.Variable(np.array(theta0, dtype=np.float32))
    optimizer = Ranger(**kwargs)
    history = []
    for g in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(np.asarray(g, dtype=np.float32)), variable)])
        history.append(np.array(keras.ops.convert_to_numpy(variable), dtype=np.float64))
    return history


def test_ranger_first_step_by_hand():
    # t = 1: m_hat = g exactly and rho_1 = 1 (not rectified), so theta1 = theta0 - lr * g.
    (theta1,) = _run_ranger([1.0, -2.0, 0.5], [[0.1, -0.2, 4.0]], learning_rate=0.01)
    np.testing.assert_allclose(theta1, [1.0 - 0.001, -2.0 + 0.002, 0.5 - 0.04], rtol=1e-6)


def test_ranger_lookahead_sync_by_hand():
    # Constant gradient, rectification off (threshold above rho_t): six momentum steps.
    # m_hat_t = g for a constant g, so theta6 (fast) = theta0 - 6 lr g, and the sync
    # sets theta = theta0 + 0.5 * (theta6 - theta0) = theta0 - 3 lr g.
    gradients = [[1.0, -0.5]] * 6
    history = _run_ranger([0.0, 1.0], gradients, learning_rate=0.1, rectify_threshold=1e9)
    np.testing.assert_allclose(history[4], [-0.5, 1.25], rtol=1e-5)  # fast weights before the sync
    np.testing.assert_allclose(history[5], [-0.3, 1.15], rtol=1e-5)  # after the sync


def test_ranger_matches_numpy_reference_over_two_sync_periods():
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal(5)
    gradients = rng.standard_normal((14, 5))
    got = _run_ranger(theta0, gradients, learning_rate=0.05)
    want = _ranger_reference(theta0, gradients, lr=0.05)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6, atol=2e-7)
    # The reference takes the rectified branch from step 6 on (rho_6 > 5): the test covers both branches.
    rho = [1999 - 2 * t * 0.999**t / (1 - 0.999**t) for t in (5, 6)]
    assert rho[0] < 5 < rho[1]


def test_ranger_paper_threshold_setting():
    rng = np.random.default_rng(1)
    theta0 = rng.standard_normal(3)
    gradients = rng.standard_normal((7, 3))
    got = _run_ranger(theta0, gradients, learning_rate=0.01, rectify_threshold=4.0)
    want = _ranger_reference(theta0, gradients, lr=0.01, threshold=4.0)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6, atol=2e-7)


def test_ranger_rejects_bad_settings():
    with pytest.raises(ValueError, match="sync_period"):
        Ranger(sync_period=0)
    with pytest.raises(ValueError, match="slow_step"):
        Ranger(slow_step=1.5)


# ------------------------------------------------------- delayed cosine


def test_delayed_cosine_values():
    schedule = DelayedCosine(initial_learning_rate=1e-3, flat_steps=10, decay_steps=20, min_learning_rate=1e-5)
    values = [float(schedule(step)) for step in (0, 9, 10, 20, 30, 100)]
    middle = 1e-5 + (1e-3 - 1e-5) * 0.5  # cos(pi / 2) = 0 halfway through the decay
    np.testing.assert_allclose(values, [1e-3, 1e-3, 1e-3, middle, 1e-5, 1e-5], rtol=1e-5)


def test_delayed_cosine_from_epochs_is_the_papers_schedule():
    schedule = DelayedCosine.from_epochs(steps_per_epoch=100)
    assert (schedule.initial_learning_rate, schedule.min_learning_rate) == (1e-3, 1e-5)
    assert (schedule.flat_steps, schedule.decay_steps) == (500, 5000)
    assert float(schedule(499)) == pytest.approx(1e-3)
    assert float(schedule(5500)) == pytest.approx(1e-5)


# ------------------------------------------------- training and saving


def test_compiled_model_with_ranger_focal_and_schedule_trains_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(3, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)
    schedule = DelayedCosine(initial_learning_rate=1e-2, flat_steps=2, decay_steps=4, min_learning_rate=1e-4)
    model.compile(optimizer=Ranger(learning_rate=schedule), loss=FocalLoss())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path, safe_mode=True)
    assert isinstance(restored.optimizer, Ranger)
    restored_schedule = keras.optimizers.schedules.deserialize(restored.optimizer.get_config()["learning_rate"])
    assert isinstance(restored_schedule, DelayedCosine) and restored_schedule.get_config() == schedule.get_config()
    assert isinstance(restored.loss, FocalLoss)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
