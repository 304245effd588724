"""Latency figures per stage: min / median / p95 / max in the board's unit and in µs.

The board counts cycles (real silicon, DWT CYCCNT) or instructions (QEMU
``-icount``); either way the count is what it reported, and the time in
microseconds is that count at the board's clock (for instructions this
assumes one instruction per cycle, which the report says).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np


@dataclass(frozen=True)
class StageLatency:
    """One stage's counts over many runs, with their unit and the same in µs."""

    stage: str
    unit: str
    count: int
    min: int
    median: int
    p95: int
    max: int
    clock_hz: int

    @property
    def microseconds(self) -> dict[str, float | None]:
        """min / median / p95 / max converted at the board clock (None without a clock)."""
        return {key: (None if not self.clock_hz else round(getattr(self, key) * 1e6 / self.clock_hz, 3))
                for key in ("min", "median", "p95", "max")}

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "us": self.microseconds}


def nearest_rank(ordered: Sequence[int], fraction: float) -> int:
    """The nearest-rank percentile of sorted values: the ceil(fraction * n)-th smallest."""
    if not ordered:
        raise ValueError("latency: no values")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return int(ordered[rank - 1])


def stage_latency(stage: str, values: Sequence[int] | np.ndarray, unit: str, clock_hz: int) -> StageLatency:
    """Statistics of one stage; the median is the lower middle value, as BENCH reports it."""
    ordered = sorted(int(v) for v in np.asarray(values).ravel())
    if not ordered:
        raise ValueError(f"latency: no values for stage {stage!r}")
    return StageLatency(stage=stage, unit=unit, count=len(ordered), min=ordered[0],
                        median=ordered[(len(ordered) - 1) // 2], p95=nearest_rank(ordered, 0.95),
                        max=ordered[-1], clock_hz=int(clock_hz))


def latency_table(stages: Mapping[str, Sequence[int] | np.ndarray], unit: str,
                  clock_hz: int) -> list[StageLatency]:
    """One row per stage that has values (stages with none are left out)."""
    return [stage_latency(name, values, unit, clock_hz)
            for name, values in stages.items() if len(np.asarray(values).ravel())]


def plot_latency_histogram(stages: Mapping[str, Sequence[int] | np.ndarray], unit: str, path: Path,
                           title: str = "") -> Path:
    """Histogram of every stage's counts, one panel per stage, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    present = {name: np.asarray(v).ravel() for name, v in stages.items() if len(np.asarray(v).ravel())}
    if not present:
        raise ValueError("latency: nothing to plot")
    fig = Figure(figsize=(6.5, 2.4 * len(present)))
    FigureCanvasAgg(fig)
    for row, (name, values) in enumerate(present.items(), start=1):
        ax = fig.add_subplot(len(present), 1, row)
        bins = min(50, max(1, len(np.unique(values))))
        ax.hist(values, bins=bins, color="tab:blue")
        ax.set_ylabel("runs")
        ax.set_xlabel(f"{name} ({unit})")
        ax.axvline(float(np.median(values)), color="tab:orange", linestyle="--", label="median")
        ax.legend(loc="upper right", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    return path
