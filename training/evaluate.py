"""Scoring a trained classifier on a split: metrics, vote smoothing, plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .metrics import classification_metrics, plot_confusion_matrix


def majority_vote(predictions: np.ndarray, groups: np.ndarray, run: int) -> np.ndarray:
    """Replace each prediction by the most frequent one among the last ``run``.

    Votes only look back within the same group (one trial or repetition), the
    way a board smoothing its stream would: the first frames of a group vote
    over what has arrived so far. Ties go to the most recent prediction.
    """
    if run < 1:
        raise ValueError(f"majority vote run must be >= 1, got {run}")
    voted = np.empty_like(predictions)
    n_classes = int(predictions.max(initial=0)) + 1
    for i in range(len(predictions)):
        start = i
        while start > 0 and i - start + 1 < run and groups[start - 1] == groups[i]:
            start -= 1
        counts = np.bincount(predictions[start : i + 1], minlength=n_classes)
        best = counts.max()
        # most recent class among the tied ones
        for j in range(i, start - 1, -1):
            if counts[predictions[j]] == best:
                voted[i] = predictions[j]
                break
    return voted


def score_predictions(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    n_classes: int,
    label_names: list[str],
    out_dir: Path | None = None,
    title: str = "",
    png_name: str = "confusion_matrix.png",
) -> dict[str, Any]:
    """Metrics for one set of predictions, with the confusion matrix drawn to a PNG."""
    metrics = classification_metrics(y_true, y_pred, n_classes)
    if out_dir is not None:
        plot_confusion_matrix(np.asarray(metrics["confusion_matrix"]), label_names, Path(out_dir) / png_name, title)
    return metrics


def plot_training_curves(history: dict[str, list[float]], path: Path) -> None:
    """Loss and accuracy per epoch, training against validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = history.get(prefix + key)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=(prefix or "train_") + key)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
