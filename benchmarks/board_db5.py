"""Benchmark: a DB5 model on every emulated board, through the HIL bench.

For one subject (default 1, exercise 1): train the model (or reuse --run),
quantise it (int8 + ahead-of-time C, parity checked on the host), then per
QEMU board build the firmware and run the full HIL bench on every test
window: bit-exactness against TFLM, device accuracy against the host's,
instructions per inference per stage, MACs per instruction, flash and RAM,
and the throughput of the link. Prints a Markdown table and writes
benchmarks/results/board_db5.json.

    .venv/bin/python benchmarks/board_db5.py [--subject 1] [--model attention-compact] [--boards mps2-an386,...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import QEMU_BOARDS, REPO, bench_row, board_cells, quant_summary, require_db5, write_results  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subject", type=int, default=1)
    parser.add_argument("--model", default="attention-compact")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--run", default=None, help="reuse this run folder instead of training")
    parser.add_argument("--boards", default=",".join(QEMU_BOARDS))
    parser.add_argument("--out", default=str(REPO / "runs" / "bench-boards"))
    args = parser.parse_args()
    data_dir = require_db5()
    out = Path(args.out)

    from myoedge.firmware_build import ModelDoesNotFit, build_firmware
    from myoedge.hil.bench import run_bench
    from myoedge.hil.windows import export_windows
    from myoedge.quantize.pipeline import quantize_run
    from myoedge.training.train import train_run

    run_dir = Path(args.run) if args.run else out / f"s{args.subject}-{args.model}"
    if not args.run:
        train_run("ninapro-db5", data_dir, args.subject, args.model, run_dir, exercise=1, epochs=args.epochs)
    build_dir = out / f"build-s{args.subject}-{args.model}"
    quant = quantize_run(run_dir, build_dir)
    windows = export_windows(run_dir, "test", out / "windows.npz", build_dir=build_dir)

    rows = []
    for board in args.boards.split(","):
        print(f"\n--- {board}", flush=True)
        started = time.monotonic()
        try:
            build_firmware(board, build_dir, out / f"fw-{board}")
        except ModelDoesNotFit as err:
            rows.append({"board": board, "fits": False, "error": str(err)})
            continue
        report = run_bench(board=f"qemu:{board}", firmware=out / f"fw-{board}", windows=windows,
                           out=out / f"report-{board}")
        rows.append(bench_row(board, quant, report, time.monotonic() - started))
    print("\n" + render_table(rows, quant))
    path = write_results("board_db5", {"command": " ".join(["benchmarks/board_db5.py", *sys.argv[1:]]),
                                       "subject": args.subject, "model": args.model, "quant": quant_summary(quant),
                                       "rows": rows})
    print(f"\nwrote {path}")
    return 0 if all(r.get("passed") for r in rows) else 1


def render_table(rows: list[dict], quant: dict) -> str:
    lines = ["| board | HIL | network instructions / inference | preprocessing instructions / hop | MACs / instruction "
             "| flash (code w/o weights) | RAM (arena) | windows/s through the link |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append("| " + " | ".join([r["board"], *board_cells(r)]) + " |")
    lines.append("")
    lines.append(f"MACs per inference {quant['macs']:,}; AOT arena {quant['aot_arena_bytes']:,} B vs TFLM arena "
                 f"{quant['tflm_arena_bytes']:,} B; host parity {quant['parity']['mismatches']} mismatches in "
                 f"{quant['parity']['windows']} windows.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
