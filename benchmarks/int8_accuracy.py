"""Benchmark: int8 accuracy against float on the DB5 runs, per calibration method (issue 3's 1-point bar).

For each trained run folder (default: the DB5 subjects 1, 3 and 4 of
``benchmarks/edge_db5.py``: edge, attention-compact and the paper attention
model) and each calibration method (default ``minmax``, the converter's own
and the earlier default, then ``auto``, the current default), runs
``myoedge quantize`` (``quantize_run``; arena probe off, AOT parity on) into
``--out/<run>-<method>`` and reports float and int8 (TFLM) accuracy and
balanced accuracy on the run's test split, the drop in points, the
calibration chosen, and the AOT parity.  A run passes when both drops are
at most 1 point.  Prints a Markdown table, writes
``benchmarks/results/<--results>.json`` and a bar plot ``.png`` beside it.

    .venv/bin/python benchmarks/int8_accuracy.py [--runs DIR,...] [--methods minmax,auto] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, write_results  # noqa: E402

DEFAULT_RUNS = tuple(
    f"runs/bench-edge-db5/s{subject}-{model}"
    for model in ("edge", "attention-compact", "attention")
    for subject in (1, 3, 4)
)
BAR_POINTS = 1.0  # issue 3: int8 within 1 point of float


def quantize_one(run_dir: Path, build_dir: Path, method: str) -> dict[str, Any]:
    """Quantise one run with one calibration method; returns the row's figures."""
    import json

    from myoedge.quantize.ahead_of_time import ParityError
    from myoedge.quantize.pipeline import quantize_run

    started = time.perf_counter()
    try:
        report = quantize_run(run_dir, build_dir, progress=False, probe=False, calibration=method)
    except ParityError as error:  # the report is written before the error: keep the row, show the failure
        print(f"{run_dir}: {error}", file=sys.stderr)
        report = json.loads((build_dir / "quant_report.json").read_text())
    flt, q = report["float"], report["int8"]
    calibration = report.get("calibration") or {}
    return {
        "run": str(run_dir.relative_to(REPO)) if run_dir.is_relative_to(REPO) else str(run_dir),
        "model": report["model"],
        "method": method,
        "chosen": calibration.get("chosen"),
        "calibration_samples": report.get("calibration_samples"),
        "float_accuracy": flt["accuracy"],
        "float_balanced_accuracy": flt["balanced_accuracy"],
        "int8_accuracy": q["accuracy"],
        "int8_balanced_accuracy": q["balanced_accuracy"],
        "drop_accuracy_points": round(100.0 * (flt["accuracy"] - q["accuracy"]), 2),
        "drop_balanced_points": round(100.0 * (flt["balanced_accuracy"] - q["balanced_accuracy"]), 2),
        "int8_float_agreement": report.get("int8_float_agreement"),
        "parity": report.get("parity"),
        "calibration": calibration,
        "build_dir": str(build_dir),
        "seconds": round(time.perf_counter() - started, 1),
    }


def passes(row: dict[str, Any]) -> bool:
    """Both drops within the bar (a gain counts as within)."""
    return row["drop_accuracy_points"] <= BAR_POINTS and row["drop_balanced_points"] <= BAR_POINTS


def render_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one line per run and method."""
    lines = [
        "| run | method (chosen) | float acc. / bal. | int8 acc. / bal. "
        "| drop (points) acc. / bal. | parity | within 1 point |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        parity = r["parity"] or {}
        chosen = f"{r['method']} ({r['chosen']})" if r["chosen"] and r["chosen"] != r["method"] else r["method"]
        lines.append(
            f"| {r['run']} | {chosen} | {r['float_accuracy']:.4f} / {r['float_balanced_accuracy']:.4f} "
            f"| {r['int8_accuracy']:.4f} / {r['int8_balanced_accuracy']:.4f} "
            f"| {r['drop_accuracy_points']:+.2f} / {r['drop_balanced_points']:+.2f} "
            f"| {parity.get('mismatches')} / {parity.get('windows')} | {'yes' if passes(r) else 'no'} |"
        )
    return "\n".join(lines)


def plot_drops(rows: list[dict[str, Any]], methods: list[str], path: Path) -> None:
    """Bar plot: balanced-accuracy drop (points) per run, one bar per method, the 1-point bar drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = list(dict.fromkeys(r["run"] for r in rows))
    width = 0.8 / max(1, len(methods))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(runs)), 4.0))
    for k, method in enumerate(methods):
        drops = [next((r["drop_balanced_points"] for r in rows if r["run"] == run and r["method"] == method), 0.0)
                 for run in runs]
        ax.bar([i + k * width for i in range(len(runs))], drops, width, label=method)
    ax.axhline(BAR_POINTS, color="black", linestyle="--", linewidth=1, label="1-point bar")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(runs))])
    ax.set_xticklabels([Path(run).name for run in runs], rotation=30, ha="right")
    ax.set_ylabel("balanced accuracy drop, float - int8 (points)")
    ax.set_title("int8 (TFLM) against float on the test split, by calibration")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=",".join(DEFAULT_RUNS), help="run folders, comma-separated")
    parser.add_argument("--methods", default="minmax,auto", help="calibration methods, comma-separated")
    parser.add_argument("--out", default=str(REPO / "runs" / "int8-accuracy"), help="where build folders go")
    parser.add_argument("--results", default="int8_accuracy", help="name of the results file under benchmarks/results/")
    args = parser.parse_args()

    runs = [Path(r) if Path(r).is_absolute() else REPO / r for r in args.runs.split(",") if r]
    methods = [m for m in args.methods.split(",") if m]
    missing = [str(r) for r in runs if not (r / "model.keras").is_file()]
    if missing:
        sys.exit(f"benchmark: no trained run in {', '.join(missing)} (train them with benchmarks/edge_db5.py)")
    rows: list[dict[str, Any]] = []
    for run_dir in runs:
        for method in methods:
            row = quantize_one(run_dir, Path(args.out) / f"{run_dir.parent.name}-{run_dir.name}-{method}", method)
            rows.append(row)
            print(f"{row['run']} {method} ({row['chosen']}): float {row['float_balanced_accuracy']:.4f}, "
                  f"int8 {row['int8_balanced_accuracy']:.4f} balanced, drop {row['drop_balanced_points']:+.2f} "
                  f"points, parity {row['parity']['mismatches']} / {row['parity']['windows']}, "
                  f"{row['seconds']} s", flush=True)
    table = render_table(rows)
    print()
    print(table)
    path = write_results(args.results, {"methods": methods, "bar_points": BAR_POINTS, "rows": rows,
                                        "table": table})
    plot_drops(rows, methods, path.with_suffix(".png"))
    print(f"\nwrote {path} and {path.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
