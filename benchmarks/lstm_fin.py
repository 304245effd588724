"""Benchmark: LSTM-FIN, faithful against on-device, on synthetic Delsys data (or NinaPro DB2).

For each variant: FIN pre-training (R^2 per feature on the held-out test
repetitions 2 and 5), transfer with joint fine-tuning (accuracy, balanced
accuracy, MCC on repetitions 2 and 5, against LDA and a linear SVM on Hudgins
features), MACs, flash and RAM. The on-device variant is also quantised
(``quantize_run``: pure int8, TFLM reference, arena), run through the
ahead-of-time C engine for bit-exactness against TFLM, and sized for a
Cortex-M4F; the faithful one is too large to convert, so its flash and RAM are
estimates from the architecture (int8 weights, int32 biases; the widest LSTM
layer's sequences for 12 channels). Optional low-latency runs predict p
windows ahead. Prints a Markdown table and writes
``benchmarks/results/lstm_fin_<variant>[_<tag>].json`` and an R^2 bar chart PNG.

    .venv/bin/python benchmarks/lstm_fin.py --variant on-device [--predict-ahead 0,5,15]
    .venv/bin/python benchmarks/lstm_fin.py --variant faithful --epochs 1 --pretrain-epochs 1 \
        --max-pretrain-sequences 600 --max-train-windows 200

Defaults: synthetic Delsys subject 1 (written once under --work), windows
every ``--step`` samples (100 by default instead of the paper's 20, to keep
CPU time and memory down). ``--dataset ninapro-db2 --data-dir DIR`` uses real
DB2 exercise B.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, write_results  # noqa: E402

FEATURES = ("entropy", "rms", "variance", "ssi")


def ensure_synthetic(work: Path, subject: int) -> Path:
    """Synthetic Delsys data (DB2 format, 17 movements, 6 repetitions) under ``work/data``, written once."""
    from myoedge.training.synthetic import write_synthetic_dataset

    folder = work / "data"
    if not (folder / f"DB2_s{subject}" / f"S{subject}_E1_A1.mat").is_file():
        write_synthetic_dataset("delsys12", [subject], folder)
    return folder


def weights_bytes(model: Any) -> int:
    """int8 bytes of every kernel plus int32 bytes of every bias/vector (a flash estimate)."""
    total = 0
    for weight in model.weights:
        n = int(np.prod(weight.shape))
        total += n if len(weight.shape) >= 2 else 4 * n
    return total


def architecture_costs(run_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
    """MACs, parameters and the flash / RAM estimates of a trained run, from its architecture."""
    import tf_keras as tfk

    from myoedge.training.models.lstm_fin import lstm_activation_bytes

    model = tfk.models.load_model(run_dir / "model.keras", safe_mode=True, compile=False)
    window, channels = (int(d) for d in model.input_shape[1:])
    return {"flash_estimate_bytes": weights_bytes(model),
            "ram_estimate_bytes": lstm_activation_bytes(window, channels, options)}


def quantize_and_check(run_dir: Path, build_dir: Path) -> dict[str, Any]:
    """quantize_run + AOT parity with TFLM on the test split + Cortex-M4F size of the generated C."""
    from myoedge.quantize.pipeline import quantize_run

    started = time.monotonic()
    report = quantize_run(run_dir, build_dir, progress=True, n_calibration=300, probe=True)
    result: dict[str, Any] = {
        "int8": {k: report["int8"][k] for k in ("accuracy", "balanced_accuracy", "mcc")},
        "int8_float_agreement": report["int8_float_agreement"],
        "ops": report["ops"], "graph_macs": report["macs"], "tflite_bytes": report["tflite_bytes"],
        "tflm_arena_bytes": report["tflm_arena_bytes"], "quantize_seconds": round(time.monotonic() - started, 1),
    }
    try:
        from myoedge.quantize.aot.host_build import AotModel, estimate_flash
    except ImportError as err:  # the engine is optional for this benchmark
        result["aot"] = f"not available: {err}"
        return result
    reference = np.load(build_dir / "reference_test.npz", allow_pickle=False)
    compiled = AotModel((build_dir / "model.tflite").read_bytes(), name="lstm_fin_bench")
    ours = compiled.run_batch(reference["x_int8"]).reshape(reference["scores_int8"].shape)
    mismatched = (ours != reference["scores_int8"]).any(axis=1)
    result["aot"] = {
        "windows": int(len(ours)), "mismatched_windows": int(mismatched.sum()),
        "max_lsb": int(np.abs(ours.astype(np.int32) - reference["scores_int8"]).max()),
        "argmax_agreement": float(np.mean(ours.argmax(axis=1) == reference["scores_int8"].argmax(axis=1))),
        **estimate_flash(compiled.result),
    }
    return result


def firmware_instructions(build_dir: Path, board: str = "mps2-an386", runs: int = 4) -> dict[str, Any]:
    """AOT C into a copy of ``build_dir``, firmware for ``board``, and its own count of one inference.

    The board times the network on the first test window (int8, as TFLM saw
    it) ``runs`` times; under QEMU -icount the counts are instructions.
    """
    import shutil

    from myoedge.firmware_build import build_firmware
    from myoedge.host.client import open_board
    from myoedge.quantize.aot.generate import generate_c

    model_dir = build_dir.parent / f"{build_dir.name}-fw-model"
    shutil.rmtree(model_dir, ignore_errors=True)
    shutil.copytree(build_dir, model_dir)
    generate_c((model_dir / "model.tflite").read_bytes(), model_dir, name="model")
    firmware = build_firmware(board, model_dir, build_dir.parent / f"{build_dir.name}-fw-{board}")
    size = json.loads(firmware.size_report_path.read_text())
    window = np.load(build_dir / "reference_test.npz", allow_pickle=False)["x_int8"][0].reshape(-1)
    with open_board(f"qemu:{board}:{firmware.elf}", timeout=120.0) as client:
        client.info()
        reply = client.bench(runs, window.astype(np.int8))
    return {"board": board, "unit": reply.unit.name.lower(), "network_median": int(reply.network.median),
            "total_median": int(reply.total.median), "runs": int(reply.runs),
            "firmware_flash_bytes": size.get("flash_used"), "firmware_ram_bytes": size.get("ram_used"),
            "model_flash_bytes": size.get("model_flash"), "arena_bytes": size.get("arena")}


def run_variant(args: argparse.Namespace, data_dir: Path, predict_ahead: int) -> dict[str, Any]:
    from myoedge.training.fin import train_fin_run
    from myoedge.training.models.lstm_fin import resolve_options

    options = resolve_options({"variant": args.variant})
    run_dir = Path(args.work) / f"{args.variant}{'-' + args.tag if args.tag else ''}-p{predict_ahead}"
    overrides = {"pretrain_epochs": args.pretrain_epochs, "predict_ahead": predict_ahead,
                 "max_pretrain_sequences": args.max_pretrain_sequences,
                 "max_score_sequences": args.max_score_sequences, "max_train_windows": args.max_train_windows,
                 "fin_stage": "transfer" if args.fin_dir else "all", "fin_dir": args.fin_dir}
    started = time.monotonic()
    metrics = train_fin_run(args.dataset, data_dir, args.subject, run_dir, exercise=1, epochs=args.epochs,
                            seed=args.seed, model_options=options, train_overrides=overrides,
                            preprocess_overrides={"step": args.step})
    row: dict[str, Any] = {
        "variant": args.variant, "predict_ahead": predict_ahead, "run_dir": str(run_dir),
        "fin_r2": metrics["fin_r2"],
        "float": {k: metrics[k] for k in ("accuracy", "balanced_accuracy", "mcc")},
        "baselines": metrics["baselines"], "params": metrics["params"], "macs": metrics["macs"],
        "n_windows": metrics["n_windows"], "epochs_run": metrics["epochs_run"],
        "fin_pretrain_seconds": metrics["fin_pretrain_seconds"], "train_seconds": metrics["train_seconds"],
        "total_seconds": round(time.monotonic() - started, 1),
    }
    row.update(architecture_costs(run_dir, options))
    if args.variant == "on-device" and not args.no_quantize:
        build_dir = run_dir.parent / f"{run_dir.name}-build"
        row.update(quantize_and_check(build_dir=build_dir, run_dir=run_dir))
        if args.firmware and predict_ahead == 0:
            try:
                row["firmware"] = firmware_instructions(build_dir)
            except Exception as err:  # noqa: BLE001 - the figures above stand without it
                row["firmware"] = f"not measured: {type(err).__name__}: {err}"
    return row


def plot_r2(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    width = 0.8 / max(1, len(rows))
    for i, row in enumerate(rows):
        values = [row["fin_r2"][f] for f in FEATURES]
        ax.bar(np.arange(len(FEATURES)) + i * width, values, width, label=f"{row['variant']} p={row['predict_ahead']}")
    ax.set_xticks(np.arange(len(FEATURES)) + width * (len(rows) - 1) / 2, FEATURES)
    ax.set_ylabel("R^2 (held-out repetitions)")
    ax.set_ylim(min(0.0, min(min(r["fin_r2"].values()) for r in rows)), 1.0)
    ax.legend(fontsize=8)
    ax.set_title("LSTM-FIN feature imitation")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| variant | p | R^2 ent / rms / var / ssi | acc | bal acc | MCC | int8 acc | LDA acc | SVM acc "
             "| MACs | params | flash B | RAM B | AOT = TFLM |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        r2 = " / ".join(f"{r['fin_r2'][f]:.2f}" for f in FEATURES)
        aot = r.get("aot")
        flash = aot.get("flash_bytes") if isinstance(aot, dict) else r["flash_estimate_bytes"]
        ram = aot.get("ram_bytes") if isinstance(aot, dict) else r["ram_estimate_bytes"]
        parity = (f"{aot['windows'] - aot['mismatched_windows']}/{aot['windows']}" if isinstance(aot, dict) else "-")
        int8 = f"{r['int8']['accuracy']:.3f}" if "int8" in r else "-"
        lines.append(
            f"| {r['variant']} | {r['predict_ahead']} | {r2} | {r['float']['accuracy']:.3f} | "
            f"{r['float']['balanced_accuracy']:.3f} | {r['float']['mcc']:.3f} | {int8} | "
            f"{r['baselines']['lda']['accuracy']:.3f} | {r['baselines']['linear_svm']['accuracy']:.3f} | "
            f"{r['macs']['total']:,} | {r['params']:,} | {flash:,}{'' if isinstance(aot, dict) else ' (est.)'} | "
            f"{ram:,}{'' if isinstance(aot, dict) else ' (est.)'} | {parity} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=("on-device", "faithful"), default="on-device")
    parser.add_argument("--dataset", choices=("synthetic-delsys12", "ninapro-db2"), default="synthetic-delsys12")
    parser.add_argument("--data-dir", default=None, help="data folder (default: synthetic data under --work)")
    parser.add_argument("--subject", type=int, default=1)
    parser.add_argument("--step", type=int, default=100, help="samples between windows (paper: 20)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--pretrain-epochs", type=int, default=20)
    parser.add_argument("--max-pretrain-sequences", type=int, default=20000)
    parser.add_argument("--max-score-sequences", type=int, default=5000)
    parser.add_argument("--max-train-windows", type=int, default=0)
    parser.add_argument("--predict-ahead", default="0", help="comma-separated p values (low-latency setting)")
    parser.add_argument("--fin-dir", default=None,
                        help="reuse FINs pre-trained by an earlier run (its folder): transfer stage only")
    parser.add_argument("--no-quantize", action="store_true")
    parser.add_argument("--firmware", action="store_true",
                        help="also build the mps2-an386 firmware and count instructions per inference in QEMU")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="", help="suffix of the result file names (several settings side by side)")
    parser.add_argument("--work", default="/tmp/myoedge-bench-lstm-fin", help="runs and synthetic data (not in git)")
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.data_dir:
        data_dir = Path(args.data_dir)
    elif args.dataset == "synthetic-delsys12":
        data_dir = ensure_synthetic(work, args.subject)
    else:
        sys.exit("benchmark: --dataset ninapro-db2 needs --data-dir")
    rows = []
    for p in (int(v) for v in args.predict_ahead.split(",")):
        print(f"\n--- {args.variant}, predict {p} windows ahead", flush=True)
        rows.append(run_variant(args, data_dir, p))
    table = markdown(rows)
    print("\n" + table)
    out_dir = REPO / "benchmarks" / "results"
    name = f"lstm_fin_{args.variant}{'_' + args.tag if args.tag else ''}"
    path = write_results(name, {
        "command": " ".join(["benchmarks/lstm_fin.py", *sys.argv[1:]]), "dataset": args.dataset,
        "subject": args.subject, "step": args.step, "rows": rows, "table": table}, out_dir)
    plot_r2(rows, out_dir / f"{name}_r2.png")
    print(f"wrote {path}")
    print(json.dumps({"seconds": [r["total_seconds"] for r in rows]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
