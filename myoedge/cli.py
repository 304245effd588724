"""The ``myoedge`` command: one subcommand per pipeline stage.

Stages are imported only when their subcommand runs, so ``myoedge --help``
answers at once and a stage's heavy dependencies (TensorFlow) load only when
needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any, Sequence

DATASETS = (
    "synthetic-myo16", "synthetic-delsys12", "synthetic-hd8x16",
    "ninapro-db5", "ninapro-db2", "ninapro-db4", "capgmyo",
)
LAYOUTS = ("myo16", "delsys12", "hd8x16")


def _key_values(pairs: Sequence[str] | None, what: str) -> dict[str, Any]:
    """Parse KEY=VALUE options; values are read as JSON when they parse, else kept as text."""
    result: dict[str, Any] = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise SystemExit(f"myoedge: {what} {pair!r} is not KEY=VALUE")
        key, text = pair.split("=", 1)
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        result[key.strip().replace("-", "_")] = value
    return result


def _subject_list(text: str) -> int | list[int]:
    parts = [p for p in text.split(",") if p]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise SystemExit(f"myoedge: --subject takes a number or a comma-separated list, got {text!r}")
    return numbers[0] if len(numbers) == 1 else numbers


def cmd_data_synth(args: argparse.Namespace) -> int:
    from myoedge.training.synthetic import write_synthetic_dataset

    paths = write_synthetic_dataset(args.layout, args.subjects, Path(args.out), seed=args.seed, exercise=args.exercise)
    print(f"wrote {len(paths)} file(s) under {args.out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    if args.model == "lstm-fin":  # pre-training and transfer stages: --set fin_stage=pretrain|transfer|all|scratch
        from myoedge.training.fin import train_fin_run as run
    else:
        from myoedge.training.train import train_run

        run = partial(train_run, model_name=args.model)
    metrics = run(
        dataset=args.dataset, data_dir=Path(args.data_dir), subject=_subject_list(args.subject),
        out=Path(args.out), exercise=args.exercise, epochs=args.epochs,
        seed=args.seed, model_options=_key_values(args.option, "--option"),
        train_overrides=_key_values(args.set, "--set"),
        preprocess_overrides=_key_values(args.preprocess, "--preprocess"),
    )
    from myoedge.training.report import print_metrics_table

    if "accuracy" not in metrics:  # lstm-fin fin_stage=pretrain: FINs only, no classifier yet
        print(json.dumps({"fin_r2": metrics.get("r2")}, indent=2))
        print(f"FINs in: {args.out}")
        return 0
    print_metrics_table(metrics, title=f"{args.model} on {args.dataset} subject {args.subject}")
    print(f"run folder: {args.out}")
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from myoedge.quantize.pipeline import quantize_run

    quantize_run(Path(args.run_dir), Path(args.out), n_calibration=args.calibration,
                 probe=not args.no_probe, calibration=args.calibration_method)
    return 0


def cmd_firmware_build(args: argparse.Namespace) -> int:
    from myoedge.firmware_build import build_firmware

    result = build_firmware(args.board, Path(args.model), Path(args.out))
    print(result.summary() if hasattr(result, "summary") else result)
    return 0


def cmd_windows_export(args: argparse.Namespace) -> int:
    from myoedge.hil.windows import export_windows

    path = export_windows(Path(args.run_dir), args.split, Path(args.out), build_dir=Path(args.build) if args.build else None)
    print(f"wrote {path}")
    return 0


def cmd_hil_run(args: argparse.Namespace) -> int:
    from myoedge.hil.bench import run_bench

    report = run_bench(
        board=args.board, firmware=Path(args.firmware), windows=Path(args.windows), out=Path(args.out),
        boards=args.boards, ppk2_port=args.ppk2, stream_seconds=args.stream_seconds,
    )
    return 0 if report.passed else 1


def cmd_board(args: argparse.Namespace) -> int:
    from myoedge.host.board_cli import run

    return run(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from myoedge.demo import run_demo

    return run_demo(Path(args.out), quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="myoedge", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="data sets").add_subparsers(dest="data_command", required=True)
    synth = data.add_parser("synth", help="write a synthetic data set in the real on-disk format")
    synth.add_argument("--layout", choices=LAYOUTS, required=True)
    synth.add_argument("--subjects", type=int, default=1)
    synth.add_argument("--exercise", type=int, default=1)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--out", required=True)
    synth.set_defaults(func=cmd_data_synth)

    train = sub.add_parser("train", help="train and evaluate a model; writes a run folder")
    train.add_argument("--dataset", choices=DATASETS, required=True)
    train.add_argument("--data-dir", required=True)
    train.add_argument("--subject", required=True, help="subject number, or a comma-separated list to pool subjects")
    train.add_argument("--exercise", type=int, default=None)
    train.add_argument("--model", required=True, help="attention, attention-compact, sconvnet, allconvnet, ...")
    train.add_argument("--epochs", type=int, default=None, help="default: the model's recipe")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--option", action="append", metavar="KEY=VALUE", help="model option, e.g. activation=relu")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="training setting, e.g. loss=crossentropy")
    train.add_argument("--preprocess", action="append", metavar="KEY=VALUE", help="preprocessing override, e.g. highpass_hz=2")
    train.add_argument("--out", required=True)
    train.set_defaults(func=cmd_train)

    quant = sub.add_parser("quantize", help="full-int8 TFLite Micro model, C headers and AOT C for a run")
    quant.add_argument("run_dir")
    quant.add_argument("--out", required=True)
    quant.add_argument("--calibration", type=int, default=None, metavar="N",
                       help="calibration samples from the training split (default 2000; 500 with "
                            "--calibration-method minmax)")
    quant.add_argument("--calibration-method", choices=("auto", "percentile", "minmax"), default="auto",
                       help="activation ranges: auto (default: percentile ranges unless min/max or another "
                            "percentile scores clearly better in TFLM on the validation split), percentile (99.9 %%, squares 98 %%), minmax (the "
                            "converter's own, the earlier behaviour)")
    quant.add_argument("--no-probe", action="store_true", help="skip the TFLM arena probe (faster)")
    quant.set_defaults(func=cmd_quantize)

    firmware = sub.add_parser("firmware", help="Cortex-M firmware").add_subparsers(dest="fw_command", required=True)
    fw_build = firmware.add_parser("build", help="build the firmware for a board with a quantised model")
    from myoedge.boards import list_boards

    fw_build.add_argument("--board", choices=list_boards(), required=True)
    fw_build.add_argument("--model", required=True, help="BUILD_DIR written by myoedge quantize")
    fw_build.add_argument("--out", required=True)
    fw_build.set_defaults(func=cmd_firmware_build)

    windows = sub.add_parser("windows", help="recorded windows for the bench").add_subparsers(dest="win_command", required=True)
    export = windows.add_parser("export", help="write a split's raw and preprocessed windows with reference outputs")
    export.add_argument("run_dir")
    export.add_argument("--split", default="test", choices=("train", "validation", "test"))
    export.add_argument("--build", default=None, help="BUILD_DIR of the quantised model (default: RUN_DIR/../build)")
    export.add_argument("--out", required=True)
    export.set_defaults(func=cmd_windows_export)

    hil = sub.add_parser("hil", help="hardware-in-the-loop bench").add_subparsers(dest="hil_command", required=True)
    hil_run = hil.add_parser("run", help="run recorded windows through a board and check it")
    hil_run.add_argument("--board", required=True, help="qemu:BOARD, a serial port, socket:// or rfc2217:// URL")
    hil_run.add_argument("--firmware", required=True)
    hil_run.add_argument("--windows", required=True)
    hil_run.add_argument("--out", required=True)
    hil_run.add_argument("--boards", type=int, default=1, help="QEMU instances (or comma-separated ports) in parallel")
    hil_run.add_argument("--ppk2", default=None, help="serial port of a Nordic PPK2 for measured energy")
    hil_run.add_argument("--stream-seconds", type=float, default=10.0)
    hil_run.set_defaults(func=cmd_hil_run)

    board = sub.add_parser("board", help="talk to a board on the link: info, bench, ping, live")
    from myoedge.host.board_cli import add_arguments as add_board_arguments

    add_board_arguments(board)
    board.set_defaults(func=cmd_board)

    demo = sub.add_parser("demo", help="the whole pipeline on the built-in default (synthetic data, emulated board)")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--quick", action="store_true", help="fewer epochs, for smoke tests")
    demo.set_defaults(func=cmd_demo)
    return parser


def _version() -> str:
    from myoedge import __version__

    return f"myoedge {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    # TensorFlow's C++ start-up chatter drowns the progress output; errors still show.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("GLOG_minloglevel", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("myoedge: interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError, OSError) as err:
        print(f"myoedge {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
