"""Benchmark: deep models against the classical peers on real NinaPro DB5.

Per subject (1, 3, 4 by default), exercise 1 (13 classes), test repetition 5,
validation repetition 3: the paper's attention model, a compact model and the
classical peers (LDA, linear SVM on Hudgins features), with wall time.
Prints a Markdown table and writes benchmarks/results/db5_training.json.

    .venv/bin/python benchmarks/db5_training.py [--subjects 1,3,4] [--models attention,attention-compact] [--epochs N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, require_db5, write_results  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", default="1,3,4")
    parser.add_argument("--models", default="attention,attention-compact")
    parser.add_argument("--epochs", type=int, default=None, help="default: each model's recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "runs" / "bench-db5"))
    args = parser.parse_args()
    data_dir = require_db5()

    from myoedge.training.train import train_run

    subjects = [int(s) for s in args.subjects.split(",")]
    models = args.models.split(",")
    rows: list[dict] = []
    for subject in subjects:
        for i, model in enumerate(models):
            started = time.monotonic()
            print(f"\n--- subject {subject}: {model}", flush=True)
            metrics = train_run("ninapro-db5", data_dir, subject, model, Path(args.out) / f"s{subject}-{model}",
                                exercise=1, epochs=args.epochs, seed=args.seed)
            wall = time.monotonic() - started
            rows.append(_row(subject, model, metrics, metrics["params"], wall))
            if i == 0:
                for peer, values in metrics["baselines"].items():
                    rows.append(_row(subject, peer, values, None, values.get("fit_seconds", 0.0)))
    table = render_table(rows, subjects)
    print("\n" + table)
    path = write_results("db5_training", {"command": " ".join(["benchmarks/db5_training.py", *sys.argv[1:]]),
                                          "epochs": args.epochs, "seed": args.seed, "rows": rows})
    print(f"\nwrote {path}")
    return 0


def _row(subject: int, model: str, metrics: dict, params: int | None, seconds: float) -> dict:
    return {"subject": subject, "model": model, "accuracy": metrics["accuracy"],
            "balanced_accuracy": metrics["balanced_accuracy"], "mcc": metrics["mcc"],
            "params": params, "seconds": round(seconds, 1)}


def render_table(rows: list[dict], subjects: list[int]) -> str:
    lines = ["| subject | model | accuracy | balanced accuracy | MCC | parameters | wall time (s) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        params = f"{r['params']:,}" if r["params"] else "-"
        lines.append(f"| {r['subject']} | {r['model']} | {r['accuracy']:.3f} | {r['balanced_accuracy']:.3f} | "
                     f"{r['mcc']:.3f} | {params} | {r['seconds']:.0f} |")
    models = sorted({r["model"] for r in rows}, key=[r["model"] for r in rows].index)
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        if len(mine) == len(subjects) and len(subjects) > 1:
            mean = {k: sum(r[k] for r in mine) / len(mine) for k in ("accuracy", "balanced_accuracy", "mcc")}
            lines.append(f"| mean | {model} | {mean['accuracy']:.3f} | {mean['balanced_accuracy']:.3f} | "
                         f"{mean['mcc']:.3f} | | {sum(r['seconds'] for r in mine):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
