"""Benchmark: the on-device ``edge`` model against the classical peers on real NinaPro DB5, float and int8.

Per subject (1, 3, 4 by default), exercise 1 (13 classes), test repetition 5,
validation repetition 3: LDA and linear SVM on Hudgins features, the paper
attention model (``--skip-paper`` leaves it out: it is slow), attention-compact
and edge. Each deep model is trained with its own recipe (``myoedge train``
defaults), then quantised to int8 and scored in the TFLM interpreter
(``quantize_run``, arena probed). Reported per model: balanced accuracy, MCC
and accuracy in float and int8, parameters, MACs, weights bytes (flash), TFLM
arena (RAM) and training time. Prints a Markdown table with mean rows and one
pass/fail line per subject (edge int8 above the best classical peer on both
balanced accuracy and MCC), and writes benchmarks/results/edge_db5.json.

    .venv/bin/python benchmarks/edge_db5.py [--subjects 1,3,4] [--skip-paper] [--models edge,...] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, require_db5, write_results  # noqa: E402

DEEP_MODELS = ("attention", "attention-compact", "edge")
PEERS = ("lda", "linear_svm")
CHOSEN = "edge"
BUDGET = {"macs": 500_000, "weights_bytes": 256 * 1024, "tflm_arena_bytes": 64 * 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", default="1,3,4")
    parser.add_argument("--models", default=",".join(DEEP_MODELS), help="deep models to train (comma-separated)")
    parser.add_argument("--skip-paper", action="store_true", help="leave out the paper attention model (slow)")
    parser.add_argument("--epochs", type=int, default=None, help="default: each model's recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "runs" / "bench-edge-db5"))
    parser.add_argument("--results", default="edge_db5", help="name of the results file under benchmarks/results/")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse run folders under --out that already hold metrics.json and build/quant_report.json "
                             "(e.g. written by earlier invocations on other subjects) instead of training again")
    args = parser.parse_args()
    data_dir = require_db5()

    subjects = [int(s) for s in args.subjects.split(",")]
    models = [m for m in args.models.split(",") if m and not (args.skip_paper and m == "attention")]
    rows: list[dict[str, Any]] = []
    for subject in subjects:
        peers_added = False
        for model in models:
            row, baselines = run_model(data_dir, subject, model, Path(args.out), args.epochs, args.seed, args.reuse)
            if not peers_added:
                rows.extend(peer_row(subject, peer, baselines[peer]) for peer in PEERS)
                peers_added = True
            rows.append(row)
    table = render_table(rows, subjects)
    verdicts = [verdict(rows, subject) for subject in subjects]
    print("\n" + table + "\n")
    for line in verdicts:
        print(line)
    command = " ".join([".venv/bin/python benchmarks/edge_db5.py", *sys.argv[1:]])
    path = write_results(args.results, {"command": command, "epochs": args.epochs, "seed": args.seed,
                                      "budget": BUDGET, "rows": rows, "verdicts": verdicts, "table": table})
    print(f"\nwrote {path}")
    return 0


def run_model(data_dir: Path, subject: int, model: str, out: Path, epochs: int | None,
              seed: int, reuse: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train ``model`` on one subject, quantise it; returns its table row and the run's peer scores."""
    from myoedge.quantize.pipeline import quantize_run
    from myoedge.quantize.report import read_quant_report
    from myoedge.training.train import load_metrics, train_run

    run_dir = out / f"s{subject}-{model}"
    build_dir = run_dir / "build"
    if reuse and (run_dir / "metrics.json").is_file() and (build_dir / "quant_report.json").is_file():
        print(f"\n--- subject {subject}: {model} (reusing {run_dir})", flush=True)
        metrics, report = load_metrics(run_dir), read_quant_report(build_dir)
        quantize_seconds = float(report.get("seconds") or 0.0)
    else:
        print(f"\n--- subject {subject}: {model} (train)", flush=True)
        metrics = train_run("ninapro-db5", data_dir, subject, model, run_dir, exercise=1, epochs=epochs, seed=seed)
        print(f"--- subject {subject}: {model} (int8)", flush=True)
        started = time.monotonic()
        report = quantize_run(run_dir, build_dir, probe=True)
        quantize_seconds = time.monotonic() - started
    row = {
        "subject": subject, "model": model,
        "float": _core(metrics), "int8": _core(report["int8"]),
        "int8_float_agreement": report.get("int8_float_agreement"),
        "params": metrics["params"], "macs": report["macs"], "weights_bytes": report["weights_bytes"],
        "tflm_arena_bytes": report["tflm_arena_bytes"], "ops": report["ops"],
        "train_seconds": metrics["train_seconds"], "epochs_run": metrics.get("epochs_run"),
        "quantize_seconds": round(quantize_seconds, 1), "run_dir": str(run_dir),
    }
    row["within_budget"] = all(row[key] is not None and row[key] <= limit for key, limit in BUDGET.items())
    return row, metrics["baselines"]


def peer_row(subject: int, peer: str, scores: dict[str, Any]) -> dict[str, Any]:
    """A classical peer's row (no int8 form: it runs in float on the host)."""
    return {"subject": subject, "model": peer, "float": _core(scores), "int8": None, "params": None,
            "macs": None, "weights_bytes": None, "tflm_arena_bytes": None,
            "train_seconds": round(float(scores.get("fit_seconds", 0.0)), 2)}


def _core(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(metrics[k]) for k in ("balanced_accuracy", "mcc", "accuracy")}


def verdict(rows: list[dict[str, Any]], subject: int) -> str:
    """``subject N: PASS/FAIL ...``: edge int8 above the best peer on balanced accuracy and on MCC."""
    mine = {r["model"]: r for r in rows if r["subject"] == subject}
    if CHOSEN not in mine or not all(p in mine for p in PEERS):
        return f"subject {subject}: no verdict ({CHOSEN} or a peer missing)"
    edge = mine[CHOSEN]["int8"]
    best_bal = max(mine[p]["float"]["balanced_accuracy"] for p in PEERS)
    best_mcc = max(mine[p]["float"]["mcc"] for p in PEERS)
    ok = edge["balanced_accuracy"] > best_bal and edge["mcc"] > best_mcc and mine[CHOSEN]["within_budget"]
    return (f"subject {subject}: {'PASS' if ok else 'FAIL'}: {CHOSEN} int8 balanced accuracy "
            f"{edge['balanced_accuracy']:.3f} vs best peer {best_bal:.3f}, MCC {edge['mcc']:.3f} vs {best_mcc:.3f}, "
            f"within budget: {mine[CHOSEN]['within_budget']}")


def _fmt(value: Any, pattern: str = "{:,}") -> str:
    return "-" if value is None else pattern.format(value)


def _scores(side: dict[str, float] | None) -> str:
    if side is None:
        return "- | -"
    return f"{side['balanced_accuracy']:.3f} | {side['mcc']:.3f}"


def render_table(rows: list[dict[str, Any]], subjects: list[int]) -> str:
    """Markdown table: one row per subject and model, then a mean row per model."""
    lines = [
        "| subject | model | float bal. acc. | float MCC | int8 bal. acc. | int8 MCC | parameters | MACs | "
        "weights (flash) bytes | TFLM arena (RAM) bytes | train (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['subject']} | {r['model']} | {_scores(r['float'])} | {_scores(r['int8'])} | "
                     f"{_fmt(r['params'])} | {_fmt(r['macs'])} | {_fmt(r['weights_bytes'])} | "
                     f"{_fmt(r['tflm_arena_bytes'])} | {r['train_seconds']:.0f} |")
    names = list(dict.fromkeys(r["model"] for r in rows))
    for name in names:
        mine = [r for r in rows if r["model"] == name]
        if len(mine) != len(subjects) or len(subjects) < 2:
            continue
        mean = {side: _mean_scores([r[side] for r in mine]) for side in ("float", "int8")}
        lines.append(f"| mean | {name} | {_scores(mean['float'])} | {_scores(mean['int8'])} | "
                     f"{_fmt(mine[0]['params'])} | {_fmt(mine[0]['macs'])} | {_fmt(mine[0]['weights_bytes'])} | "
                     f"{_fmt(mine[0]['tflm_arena_bytes'])} | {sum(r['train_seconds'] for r in mine) / len(mine):.0f} |")
    return "\n".join(lines)


def _mean_scores(sides: list[dict[str, float] | None]) -> dict[str, float] | None:
    if any(side is None for side in sides):
        return None
    return {k: sum(side[k] for side in sides) / len(sides) for k in ("balanced_accuracy", "mcc", "accuracy")}


if __name__ == "__main__":
    sys.exit(main())
