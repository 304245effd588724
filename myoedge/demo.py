"""The main job: the whole pipeline on the built-in default.

synthetic Myo data -> train the default model -> full-int8 + AOT C ->
firmware for the emulated mps2-an386 -> HIL bench in QEMU -> report.
Each stage prints what it does; the last line says where the report is.
"""

from __future__ import annotations

import time
from pathlib import Path

DEFAULT_DATASET = "synthetic-myo16"
DEFAULT_MODEL = "edge"  # the recommended on-device model (docs/EDGE_MODEL.md)
DEFAULT_BOARD = "mps2-an386"
DEFAULT_EPOCHS = None  # the model's own recipe
QUICK_EPOCHS = 2


def _stage(number: int, total: int, text: str) -> float:
    print(f"\n=== [{number}/{total}] {text}", flush=True)
    return time.monotonic()


def run_demo(out: Path, quick: bool = False) -> int:
    from myoedge.training.report import print_metrics_table
    from myoedge.training.synthetic import write_synthetic_dataset
    from myoedge.training.train import train_run

    out = Path(out)
    data_dir, run_dir, build_dir = out / "data", out / "run", out / "build"
    firmware_dir, windows_file, report_dir = out / "firmware", out / "windows.npz", out / "report"
    total = 6
    started = time.monotonic()

    _stage(1, total, f"synthetic data set ({DEFAULT_DATASET}, subject 1) -> {data_dir}")
    write_synthetic_dataset("myo16", 1, data_dir, seed=0)

    _stage(2, total, f"training {DEFAULT_MODEL} -> {run_dir}")
    metrics = train_run(DEFAULT_DATASET, data_dir, 1, DEFAULT_MODEL, run_dir,
                        epochs=QUICK_EPOCHS if quick else DEFAULT_EPOCHS, seed=0)
    print_metrics_table(metrics, title=f"{DEFAULT_MODEL} on {DEFAULT_DATASET}, test repetition 5")

    _stage(3, total, f"full-int8 conversion, C headers and ahead-of-time C -> {build_dir}")
    from myoedge.quantize.pipeline import quantize_run

    quantize_run(run_dir, build_dir)

    _stage(4, total, f"firmware for {DEFAULT_BOARD} -> {firmware_dir}")
    from myoedge.firmware_build import build_firmware

    build_firmware(DEFAULT_BOARD, build_dir, firmware_dir)

    _stage(5, total, f"recorded test windows -> {windows_file}")
    from myoedge.hil.windows import export_windows

    export_windows(run_dir, "test", windows_file, build_dir=build_dir)

    _stage(6, total, f"HIL bench in QEMU ({DEFAULT_BOARD}) -> {report_dir}")
    from myoedge.hil.bench import run_bench

    report = run_bench(board=f"qemu:{DEFAULT_BOARD}", firmware=firmware_dir, windows=windows_file, out=report_dir)
    minutes = (time.monotonic() - started) / 60
    verdict = "PASSED" if report.passed else "FAILED"
    print(f"\nHIL bench {verdict} in {minutes:.1f} min. Report: {report_dir / 'report.html'}")
    return 0 if report.passed else 1
