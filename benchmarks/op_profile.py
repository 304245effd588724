"""Per-op instruction profile of a quantized model on an emulated board.

Where does an inference spend its instructions?  This builds the firmware
with the model's ahead-of-time C in debug mode (a hook after every op) and
``op_profile_main.c`` as its main, runs one test window on the board in QEMU
under ``-icount``, and reports instructions per op and per op type, checking
that the scores equal TFLM's for that window.

    .venv/bin/python benchmarks/op_profile.py BUILD_DIR [--board mps2-an386] [--window 0] [--out DIR]

Writes ``op_profile.json``, ``op_profile.md`` and ``op_profile.png`` (a bar
chart by op type) into ``--out`` (default: benchmarks/results/op_profile-<build>).
The hook's own cost is excluded from the per-op figures, so they add up to
about the ``total`` line (an inference without the hook).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from common import REPO, write_results  # noqa: E402

MAIN_SOURCE = BENCH_DIR / "op_profile_main.c"
DEBUG_DEFINE = "#define MYE_AOT_DEBUG 1\n"


def debug_model_copy(build_dir: Path, work_dir: Path) -> Path:
    """A copy of the model C with ``MYE_AOT_DEBUG`` switched on (the build dir stays untouched)."""
    model_dir = work_dir / "model"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True)
    for path in build_dir.iterdir():
        if path.suffix in (".h", ".c", ".json") and path.name != "model_data.c":
            shutil.copy(path, model_dir / path.name)
    aot_c = model_dir / "model_aot.c"
    if not aot_c.is_file():
        raise SystemExit(f"{build_dir}: no model_aot.c (run `myoedge quantize` first)")
    aot_c.write_text(DEBUG_DEFINE + aot_c.read_text())
    return model_dir


def write_input_header(window: np.ndarray, include_dir: Path) -> None:
    include_dir.mkdir(parents=True, exist_ok=True)
    values = ",".join(str(int(v)) for v in window.reshape(-1))
    (include_dir / "profile_input.h").write_text(
        f"static const int8_t profile_input[{window.size}] = {{{values}}};\n")


def parse_board_output(lines: list[str]) -> tuple[int, dict[int, int], list[int]]:
    """(total, instructions per op index, int8 scores) from the board's text."""
    total = -1
    per_op: dict[int, int] = {}
    scores: list[int] = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "total":
            total = int(parts[1])
        elif parts[0] == "op":
            per_op[int(parts[1])] = int(parts[2])
        elif parts[0] == "out":
            scores = [int(v) - 128 for v in parts[1:]]
    if total < 0 or not per_op:
        raise RuntimeError("the board's profile output is incomplete:\n" + "\n".join(lines[-20:]))
    return total, per_op, scores


def run_on_board(board: str, elf: Path, timeout_s: float) -> list[str]:
    import serial

    from myoedge.qemu import QemuBoard

    lines: list[str] = []
    with QemuBoard(board, elf) as qemu:
        link = serial.serial_for_url(qemu.url, timeout=timeout_s)
        try:
            while True:
                raw = link.readline()
                if not raw:
                    raise RuntimeError(f"no answer from {board} within {timeout_s} s; QEMU log:\n{qemu.log}")
                line = raw.decode(errors="replace").strip()
                lines.append(line)
                if line == "done":
                    return lines
        finally:
            link.close()


def profile_table(ops: list[dict], per_op: dict[int, int]) -> tuple[list[dict], dict[str, int]]:
    by_index = {op["index"]: op for op in ops}
    rows = []
    by_type: dict[str, int] = {}
    for index in sorted(per_op):
        opcode = by_index[index]["opcode"] if index in by_index else "?"
        rows.append({"index": index, "opcode": opcode, "instructions": per_op[index]})
        by_type[opcode] = by_type.get(opcode, 0) + per_op[index]
    return rows, dict(sorted(by_type.items(), key=lambda kv: -kv[1]))


def plot_by_type(by_type: dict[str, int], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(by_type)[::-1]
    values = [by_type[n] / 1e3 for n in names]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.2))
    ax.barh(names, values, color="#3b6ea5")
    ax.set_xlabel("thousand instructions per inference (QEMU -icount)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(result: dict) -> str:
    lines = [
        f"# Per-op profile: {result['build_dir']} on {result['board']}",
        "",
        f"network {result['total_instructions']:,} {result['unit']} per inference; "
        f"scores equal TFLM: {result['scores_equal_tflm']}",
        "",
        "| op type | instructions | share |",
        "| --- | --- | --- |",
    ]
    total = max(sum(result["by_type"].values()), 1)
    for name, count in result["by_type"].items():
        lines.append(f"| {name} | {count:,} | {100 * count / total:.1f} % |")
    lines += ["", "| op | type | instructions |", "| --- | --- | --- |"]
    for row in result["per_op"]:
        lines.append(f"| {row['index']} | {row['opcode']} | {row['instructions']:,} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir", type=Path, help="the quantize stage's BUILD_DIR")
    parser.add_argument("--board", default="mps2-an386", help="an emulated board (default mps2-an386)")
    parser.add_argument("--window", type=int, default=0, help="test window to run (default 0)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the board")
    args = parser.parse_args(argv)

    from myoedge.firmware_build import build_firmware

    build_dir = args.build_dir.resolve()
    out_dir = (args.out or REPO / "benchmarks" / "results" / f"op_profile-{build_dir.name}").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    reference = np.load(build_dir / "reference_test.npz", allow_pickle=False)
    if not 0 <= args.window < len(reference["x_int8"]):
        raise SystemExit(f"--window {args.window}: the build has {len(reference['x_int8'])} test windows")

    print(f"[1/3] building {args.board} firmware with the profiling hook ...", flush=True)
    work_dir = out_dir / "work"
    model_dir = debug_model_copy(build_dir, work_dir)
    write_input_header(reference["x_int8"][args.window], work_dir / "include")
    firmware = build_firmware(args.board, model_dir, work_dir / "firmware", main_source=MAIN_SOURCE,
                              extra_includes=[work_dir / "include"])
    print(f"[2/3] running window {args.window} on {args.board} in QEMU ...", flush=True)
    total, per_op, scores = parse_board_output(run_on_board(args.board, firmware.elf, args.timeout))

    print("[3/3] writing the profile ...", flush=True)
    meta = json.loads((build_dir / "model_aot.json").read_text())
    rows, by_type = profile_table(meta["ops"], per_op)
    expected = reference["scores_int8"][args.window].reshape(-1).astype(int).tolist()
    result = {
        "build_dir": str(build_dir),
        "board": args.board,
        "window": args.window,
        "unit": "instructions (QEMU -icount)",
        "total_instructions": total,
        "sum_of_ops": sum(per_op.values()),
        "scores_equal_tflm": scores == expected,
        "by_type": by_type,
        "per_op": rows,
    }
    (out_dir / "op_profile.json").write_text(json.dumps(result, indent=1))
    (out_dir / "op_profile.md").write_text(markdown(result))
    plot_by_type(by_type, f"{build_dir.name} on {args.board}: {total:,} instructions", out_dir / "op_profile.png")
    write_results(f"op_profile-{build_dir.name}-{args.board}", result)
    print(markdown(result))
    print(f"written: {out_dir}/op_profile.{{json,md,png}}")
    if not result["scores_equal_tflm"]:
        print("ERROR: the board's scores differ from TFLM's for this window", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
