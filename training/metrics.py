"""Classification metrics the seed papers report, and the confusion-matrix plot.

Rest dominates the NinaPro recordings, so accuracy alone flatters a model:
every evaluation reports accuracy, balanced accuracy (mean recall over the
classes present in the true labels, as scikit-learn defines it), the
multi-class Matthews correlation coefficient, per-class recall and the
confusion matrix. Pure numpy, so that scoring needs no scikit-learn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

# Above this many classes the confusion-matrix cells are too small to print counts in.
ANNOTATE_MAX_CLASSES = 20


def _labels(values: np.ndarray, name: str, n_classes: int) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"metrics: {name} must be 1-D, got shape {values.shape}")
    if values.size and not np.issubdtype(values.dtype, np.integer):
        if not np.all(values == np.round(values)):
            raise ValueError(f"metrics: {name} must hold integer class numbers")
    values = values.astype(np.int64)
    if values.size and (values.min() < 0 or values.max() >= n_classes):
        raise ValueError(f"metrics: {name} holds classes outside 0..{n_classes - 1}")
    return values


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    y_true = _labels(y_true, "y_true", n_classes)
    y_pred = _labels(y_pred, "y_pred", n_classes)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"metrics: y_true has {y_true.shape[0]} labels, y_pred {y_pred.shape[0]}")
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def matthews_corrcoef(cm: np.ndarray) -> float:
    """Multi-class Matthews correlation (Gorodkin's R_K) from a confusion matrix.

    With c correct out of s samples, t_k true and p_k predicted counts per
    class: (c*s - t.p) / sqrt((s^2 - p.p) * (s^2 - t.t)); 0 when either factor
    under the root is 0 (a constant prediction or a single true class).
    """
    cm = np.asarray(cm, dtype=np.float64)
    true_counts = cm.sum(axis=1)
    pred_counts = cm.sum(axis=0)
    correct = np.trace(cm)
    total = cm.sum()
    covariance = correct * total - true_counts @ pred_counts
    pred_spread = total * total - pred_counts @ pred_counts
    true_spread = total * total - true_counts @ true_counts
    if pred_spread * true_spread == 0:
        return 0.0
    return float(covariance / np.sqrt(pred_spread * true_spread))


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, Any]:
    """accuracy, balanced_accuracy, mcc, per_class_recall, confusion_matrix (JSON-safe).

    ``per_class_recall[k]`` is ``None`` for a class absent from ``y_true``;
    ``balanced_accuracy`` averages the recall of the classes present.
    """
    if n_classes < 1:
        raise ValueError(f"metrics: n_classes must be >= 1, got {n_classes}")
    cm = confusion_matrix(y_true, y_pred, n_classes)
    total = int(cm.sum())
    if total == 0:
        raise ValueError("metrics: no labels to score")
    support = cm.sum(axis=1)
    present = support > 0
    recall = np.zeros(n_classes, dtype=np.float64)
    recall[present] = np.diag(cm)[present] / support[present]
    return {
        "accuracy": float(np.trace(cm) / total),
        "balanced_accuracy": float(recall[present].mean()),
        "mcc": matthews_corrcoef(cm),
        "per_class_recall": [float(r) if p else None for r, p in zip(recall, present)],
        "confusion_matrix": cm.astype(int).tolist(),
    }


def plot_confusion_matrix(cm: np.ndarray, label_names: Sequence[str], path: Path, title: str = "") -> Path:
    """Write the confusion matrix as a PNG: colours row-normalised (recall), counts printed when small."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot: confusion matrix must be square, got shape {cm.shape}")
    n = cm.shape[0]
    names = list(label_names) if label_names else [str(k) for k in range(n)]
    if len(names) != n:
        raise ValueError(f"plot: {len(names)} label names for {n} classes")
    support = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, support, out=np.zeros(cm.shape, dtype=np.float64), where=support > 0)

    size = max(5.0, 0.35 * n + 2.5)
    fig = Figure(figsize=(size + 1.0, size))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    font = 8 if n <= ANNOTATE_MAX_CLASSES else 5
    ax.set_xticklabels(names, rotation=90, fontsize=font)
    ax.set_yticklabels(names, fontsize=font)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    if n <= ANNOTATE_MAX_CLASSES:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    colour = "white" if share[i, j] > 0.5 else "black"
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6, color=colour)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    return path
