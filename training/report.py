"""Printed tables of metrics: the deep model next to its classical peers."""

from __future__ import annotations

from typing import Any


def print_metrics_table(metrics: dict[str, Any], title: str = "") -> None:
    rows = [("model", metrics)]
    rows += [(name, values) for name, values in metrics.get("baselines", {}).items()]
    if "majority_vote" in metrics:
        rows.insert(1, (f"model, vote over {metrics['majority_vote']['frames']} frames", metrics["majority_vote"]))
    if title:
        print(title)
    print(f"{'':34} {'accuracy':>9} {'balanced':>9} {'MCC':>7}")
    for name, values in rows:
        print(f"{name:34} {values['accuracy']:9.3f} {values['balanced_accuracy']:9.3f} {values['mcc']:7.3f}")
    if "params" in metrics:
        print(f"parameters: {metrics['params']:,}   training: {metrics.get('train_seconds', 0):.0f} s")
