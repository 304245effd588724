"""Metrics against scikit-learn, and the confusion-matrix plot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix as sk_confusion_matrix,
    matthews_corrcoef as sk_mcc,
    recall_score,
)

from myoedge.training.metrics import classification_metrics, plot_confusion_matrix


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_sklearn_on_random_labels_with_absent_classes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_classes = 9
    # class 7 never occurs in y_true; class 8 occurs in neither; skewed towards rest (0)
    y_true = rng.choice([0, 0, 0, 1, 2, 3, 4, 5, 6], size=300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 8, 300))
    metrics = classification_metrics(y_true, y_pred, n_classes)
    assert json.loads(json.dumps(metrics)) == metrics
    assert metrics["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-12)
    with np.errstate(all="ignore"), pytest.warns(UserWarning):  # sklearn warns about class 7
        expected_balanced = balanced_accuracy_score(y_true, y_pred)
    assert metrics["balanced_accuracy"] == pytest.approx(expected_balanced, abs=1e-12)
    assert metrics["mcc"] == pytest.approx(sk_mcc(y_true, y_pred), abs=1e-12)
    np.testing.assert_array_equal(
        metrics["confusion_matrix"], sk_confusion_matrix(y_true, y_pred, labels=list(range(n_classes)))
    )
    recall = recall_score(y_true, y_pred, labels=list(range(7)), average=None)
    assert metrics["per_class_recall"][:7] == pytest.approx(list(recall), abs=1e-12)
    assert metrics["per_class_recall"][7:] == [None, None]


def test_degenerate_cases() -> None:
    all_rest = classification_metrics(np.array([0, 0, 1, 2]), np.zeros(4, dtype=int), 3)
    assert all_rest["accuracy"] == 0.5
    assert all_rest["balanced_accuracy"] == pytest.approx(1 / 3)
    assert all_rest["mcc"] == 0.0
    perfect = classification_metrics(np.array([0, 1, 2]), np.array([0, 1, 2]), 3)
    assert perfect["mcc"] == pytest.approx(1.0) and perfect["balanced_accuracy"] == 1.0


def test_bad_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        classification_metrics(np.array([0, 3]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="labels"):
        classification_metrics(np.array([0, 1]), np.array([0]), 3)
    with pytest.raises(ValueError, match="no labels"):
        classification_metrics(np.array([], dtype=int), np.array([], dtype=int), 3)


@pytest.mark.parametrize("n_classes", [4, 25])
def test_confusion_matrix_png(tmp_path, n_classes: int) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, n_classes, 200)
    cm = np.asarray(classification_metrics(y, rng.integers(0, n_classes, 200), n_classes)["confusion_matrix"])
    names = ["rest"] + [f"g{k}" for k in range(1, n_classes)]
    path = plot_confusion_matrix(cm, names, tmp_path / "cm.png", "test split")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    with pytest.raises(ValueError, match="label names"):
        plot_confusion_matrix(cm, names[:-1], tmp_path / "bad.png", "")
