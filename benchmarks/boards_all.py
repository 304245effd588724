"""Benchmark: every deployable seed model on every emulated board, through the HIL bench.

For each model family (edge, attention-compact, attention (paper size),
sconvnet, allconvnet, lstm-fin): take a run folder (the DB5 subject-1 runs
under runs/ for the DB5 models, or pass ``--run MODEL=DIR``; the ConvNets are
trained briefly on synthetic 8 x 16 HD-sEMG frames and lstm-fin on synthetic
Delsys data when no run is given), quantise it (int8, AOT C, host parity),
export ``--windows`` test windows (spread over the whole test split) with the
recorded test stream, and per QEMU board build the firmware and run the HIL
bench: every window's int8 scores bit-exact against the host TFLM reference,
STREAM on the recorded stream, instructions per inference (network) and per
hop (preprocessing), MACs per instruction, flash and RAM. A model too large
for a board is refused by the firmware build and recorded as "does not fit".

Prints a Markdown table and writes benchmarks/results/boards_all.json and
boards_all.md. Resumable: with ``--reuse`` every step already done in
``--out`` (quantised build that passed parity, windows file, board result that
passed or "does not fit") is kept and failed ones run again; without it
only the trained run folders are reused (training does not depend on the
firmware or the generator), so a re-run after kernel changes re-measures.
``--reuse`` assumes the same run folders as before: to redo one model, delete
``OUT/MODEL`` (or run without ``--reuse``).

    .venv/bin/python benchmarks/boards_all.py [--models edge,lstm-fin] [--boards mps2-an386]
        [--windows 200] [--run edge=runs/bench-edge-db5/s1-edge] [--out runs/boards-all] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    QEMU_BOARDS, REPO, bench_row, board_cells, one_line, quant_summary, shared_db5_dir, write_results,
)

RESULTS_NAME = "boards_all"
DEFAULT_WINDOWS = 200
RUN_FILES = ("bundle.json", "model.keras", "splits.npz")


@dataclass(frozen=True)
class ModelPlan:
    """Where a model family's run comes from, and how to train one when none is given."""

    name: str
    dataset: str
    default_run: str | None = None  # relative to the repository
    epochs: int = 2
    options: dict[str, Any] = field(default_factory=dict)
    train_settings: dict[str, Any] = field(default_factory=dict)
    preprocess: dict[str, Any] = field(default_factory=dict)

    @property
    def synthetic_layout(self) -> str | None:
        """The ``myoedge data synth`` layout of a synthetic data set, else None."""
        return {"synthetic-hd8x16": "hd8x16", "synthetic-delsys12": "delsys12",
                "synthetic-myo16": "myo16"}.get(self.dataset)


PLANS: dict[str, ModelPlan] = {plan.name: plan for plan in (
    ModelPlan("edge", "ninapro-db5", "runs/bench-edge-db5/s1-edge"),
    ModelPlan("attention-compact", "ninapro-db5", "runs/bench-db5/s1-attention-compact"),
    ModelPlan("attention", "ninapro-db5", "runs/bench-db5/s1-attention"),
    ModelPlan("sconvnet", "synthetic-hd8x16"),
    ModelPlan("allconvnet", "synthetic-hd8x16"),
    ModelPlan("lstm-fin", "synthetic-delsys12", epochs=4, options={"variant": "on-device"},
              train_settings={"pretrain_epochs": 2, "max_pretrain_sequences": 4000},
              preprocess={"step": 100}),
)}


class StepFailed(RuntimeError):
    """A step of one model (training, quantisation, export) failed; its boards are recorded as failed."""


# ---- steps ---------------------------------------------------------------------------

def _complete_run(folder: Path) -> bool:
    return all((folder / name).is_file() for name in RUN_FILES)


def _data_dir(plan: ModelPlan, out: Path) -> Path:
    """The recordings a run is trained on: real DB5, or a synthetic set written into ``out``."""
    if plan.dataset == "ninapro-db5":
        found = shared_db5_dir()
        if found is None:
            raise StepFailed("no run folder and no NinaPro DB5 to train on (set MYOEDGE_SHARED_DATA)")
        return found
    folder = out / f"data-{plan.synthetic_layout}"
    if not any(folder.glob("**/*.mat")):
        from myoedge.training.synthetic import write_synthetic_dataset

        write_synthetic_dataset(plan.synthetic_layout, 1, folder)
    return folder


def obtain_run(plan: ModelPlan, given: Path | None, out: Path) -> Path:
    """The run folder: the one given, the plan's default, or one trained into ``out`` (kept for reuse)."""
    if given is not None:
        if not _complete_run(given):
            raise StepFailed(f"{given}: not a complete run folder (needs {', '.join(RUN_FILES)})")
        return given
    if plan.default_run and _complete_run(REPO / plan.default_run):
        return REPO / plan.default_run
    run_dir = out / f"run-{plan.name}"
    if _complete_run(run_dir):
        return run_dir
    data_dir = _data_dir(plan, out)
    print(f"  training {plan.name} on {plan.dataset} subject 1 ({plan.epochs} epochs) -> {run_dir}", flush=True)
    arguments = dict(dataset=plan.dataset, data_dir=data_dir, subject=1, out=run_dir, exercise=1,
                     epochs=plan.epochs, seed=0, model_options=dict(plan.options),
                     train_overrides=dict(plan.train_settings), preprocess_overrides=dict(plan.preprocess))
    if plan.name == "lstm-fin":
        from myoedge.training.fin import train_fin_run

        train_fin_run(**arguments)
    else:
        from myoedge.training.train import train_run

        train_run(model_name=plan.name, **arguments)
    return run_dir


def quantize(run_dir: Path, build_dir: Path, reuse: bool) -> dict[str, Any]:
    """``myoedge quantize`` into ``build_dir``; with ``reuse`` an existing build that passed parity is kept."""
    report = build_dir / "quant_report.json"
    if reuse and report.is_file() and (build_dir / "model_manifest.h").is_file():
        kept = json.loads(report.read_text())
        if kept.get("parity", {}).get("mismatches") == 0:  # a build that failed parity is made again
            return kept
    from myoedge.quantize.pipeline import quantize_run

    return quantize_run(run_dir, build_dir)


def spread_indices(total: int, wanted: int) -> np.ndarray:
    """``wanted`` indices spread evenly over ``range(total)`` (all of them when ``total <= wanted``)."""
    if total <= wanted:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, wanted).round().astype(np.int64))


def export_subset(run_dir: Path, build_dir: Path, folder: Path, windows: int, reuse: bool) -> Path:
    """The run's test windows (``windows`` of them, spread over the split) with the recorded stream."""
    from myoedge.hil.windows import export_windows, load_windows, save_windows

    full = folder / "windows-all.npz"
    subset = folder / f"windows-{windows}.npz"
    model = build_dir / "model.tflite"
    if reuse and subset.is_file() and subset.stat().st_mtime >= model.stat().st_mtime:
        return subset  # exported from this build (a build made again gets a new export)
    export_windows(run_dir, "test", full, build_dir=build_dir)
    recorded = load_windows(full)
    pick = spread_indices(len(recorded), windows)
    recorded.metadata["selection"] = (f"{len(pick)} of {len(recorded)} test windows, evenly spread"
                                      if len(pick) < len(recorded) else f"all {len(recorded)} test windows")
    for name in ("x_int8", "y", "scores_int8", "start", "subject", "repetition"):
        setattr(recorded, name, getattr(recorded, name)[pick])
    if recorded.raw is not None:
        recorded.raw = recorded.raw[pick]
    save_windows(subset, recorded)
    full.unlink()  # the subset is what the bench reads; the full export can be large (raw windows)
    return subset


def short_reason(message: str) -> str:
    """The part of a ModelDoesNotFit message that names the region and the overflow."""
    head, _, rest = message.partition(" does not fit board ")
    if rest:
        _, _, detail = rest.partition(": ")
        return detail.split(". Choose")[0] or message
    return message


def stream_seconds_for(windows: Path, seconds: float, max_hops: int) -> float:
    """Seconds of the recorded stream to send: ``seconds``, cut to what ``max_hops`` hops need
    (a frame model at 1 kHz would otherwise run an inference for every sample)."""
    from myoedge.hil.windows import load_windows

    meta = load_windows(windows).metadata
    rate, window, hop = (float(meta.get("sampling_rate_hz") or 0), int(meta.get("raw_window") or 0),
                         int(meta.get("hop") or 0))
    if rate <= 0 or hop <= 0:
        return seconds
    return min(seconds, (window + hop * (max_hops - 1)) / rate)


def bench_board(model: str, board: str, build_dir: Path, windows: Path, folder: Path, quant: dict,
                stream_seconds: float) -> dict[str, Any]:
    """Build the firmware for ``board`` and run the HIL bench; one result row (never raises)."""
    from myoedge.firmware_build import FirmwareBuildError, ModelDoesNotFit, build_firmware
    from myoedge.hil.bench import run_bench

    started = time.monotonic()
    fw_dir = folder / f"fw-{board}"
    try:
        build_firmware(board, build_dir, fw_dir)
    except ModelDoesNotFit as err:
        return {"board": board, "fits": False, "error": short_reason(str(err)), "message": str(err)}
    except FirmwareBuildError as err:
        return {"board": board, "fits": True, "passed": False, "error": f"firmware build failed: {err}"[:2000]}
    try:
        report = run_bench(board=f"qemu:{board}", firmware=fw_dir, windows=windows,
                           out=folder / f"report-{board}", stream_seconds=stream_seconds)
    except Exception as err:  # noqa: BLE001 - one board's failure is a result, the others still run
        traceback.print_exc()
        return {"board": board, "fits": True, "passed": False,
                "error": f"HIL bench failed: {type(err).__name__}: {err}"[:2000]}
    return bench_row(board, quant, report, time.monotonic() - started)


# ---- output --------------------------------------------------------------------------

HEADER = ("| model | board | HIL | windows bit-exact | stream | network instructions / inference "
          "| preprocessing instructions / hop | MACs / instruction | flash (code w/o weights) | RAM (arena) "
          "| windows/s through the link |")


def _stream_cell(row: dict[str, Any]) -> str:
    stream = row.get("checks", {}).get("stream")
    if not stream:
        return ""
    word = {True: "pass", False: "FAIL", None: "skipped"}[stream["passed"]]
    return f"{word}: {stream['summary']}" if stream["passed"] is not True else word


def render_table(results: list[dict[str, Any]]) -> str:
    """One Markdown row per model and board, then one line per model on its quantised build."""
    lines = [HEADER, "| " + " | ".join(["---"] * 11) + " |"]
    for entry in results:
        for row in entry["rows"]:
            cells = board_cells(row)
            exact = "" if row.get("windows") is None else f"{row['windows_bit_exact']:,} / {row['windows']:,}"
            lines.append("| " + " | ".join([entry["model"], row["board"], cells[0], exact, _stream_cell(row),
                                            *cells[1:]]) + " |")
    lines.append("")
    for entry in results:
        q = entry.get("quant")
        if not q:
            lines.append(f"- {entry['model']}: {one_line(entry.get('error', 'not quantised'), 600)}")
            continue
        lines.append(f"- {entry['model']} ({entry['source']}): MACs per inference {q['macs']:,}; AOT arena "
                     f"{q['aot_arena_bytes']:,} B vs TFLM arena {_bytes(q['tflm_arena_bytes'])}; host parity "
                     f"{q['parity']['mismatches']} mismatches in {q['parity']['windows']:,} windows; "
                     f"int8 balanced accuracy {q['int8']['balanced_accuracy']:.3f} (float "
                     f"{q['float']['balanced_accuracy']:.3f}).")
    return "\n".join(lines)


def _bytes(value: Any) -> str:
    return "-" if value is None else f"{value:,} B"


def write_outputs(results: list[dict[str, Any]], command: str, windows: int, results_dir: Path | None) -> Path:
    """boards_all.json (every figure) and boards_all.md (the table), in ``results_dir``."""
    table = render_table(results)
    path = write_results(RESULTS_NAME, {"command": command, "windows_per_model": windows, "results": results,
                                        "table": table}, results_dir)
    path.with_suffix(".md").write_text(
        f"# Every seed model on every QEMU board\n\n```sh\n{command}\n```\n"
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n\n{table}\n")
    return path


# ---- driver --------------------------------------------------------------------------

def _row_file(folder: Path, board: str) -> Path:
    return folder / f"row-{board}.json"


def _finished_row(folder: Path, board: str) -> dict[str, Any] | None:
    """A stored result worth keeping under ``--reuse``: the bench passed, or the model does not
    fit. Failed rows (a check failed, the firmware did not build, the bench crashed) run again."""
    path = _row_file(folder, board)
    if not path.is_file():
        return None
    try:
        row = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return row if (row.get("fits") is False or row.get("passed") is True) else None


def run_model(plan: ModelPlan, given: Path | None, boards: list[str], out: Path, windows: int, reuse: bool,
              stream_seconds: float, stream_hops: int, progress: list[int]) -> dict[str, Any]:
    """Every step for one model; a failed step is recorded (with its message) and the next model runs."""
    folder = out / plan.name
    folder.mkdir(parents=True, exist_ok=True)
    entry: dict[str, Any] = {"model": plan.name, "rows": []}
    pending = [b for b in boards if not (reuse and _finished_row(folder, b))]
    try:
        if pending:
            _say(progress, f"{plan.name}: run folder")
            run_dir = obtain_run(plan, given, out)
            entry["run_dir"] = str(run_dir)
            _say(progress, f"{plan.name}: quantize {run_dir} -> {folder / 'build'}")
            quant = quantize(run_dir, folder / "build", reuse)
            _say(progress, f"{plan.name}: export {windows} test windows")
            subset = export_subset(run_dir, folder / "build", folder, windows, reuse)
            stream_seconds = stream_seconds_for(subset, stream_seconds, stream_hops)
        else:
            run_dir = Path(json.loads((folder / "model.json").read_text())["run_dir"])
            quant = json.loads((folder / "build" / "quant_report.json").read_text())
    except Exception as err:  # noqa: BLE001 - recorded; the other models still run
        traceback.print_exc()
        entry["error"] = f"{type(err).__name__}: {err}"[:2000]
        entry["rows"] = [{"board": b, "fits": True, "passed": False, "error": entry["error"]} for b in boards]
        progress[0] += len(boards)
        return entry
    bundle = json.loads((run_dir / "bundle.json").read_text())
    entry.update(run_dir=str(run_dir), quant=quant_summary(quant),
                 source=f"{bundle.get('dataset')} subject {bundle.get('subject')}")
    (folder / "model.json").write_text(json.dumps({"run_dir": str(run_dir)}) + "\n")
    for board in boards:
        row_path = _row_file(folder, board)
        if reuse and _finished_row(folder, board):
            row = json.loads(row_path.read_text())
            _say(progress, f"{plan.name} on {board}: kept from {row_path}")
        else:
            _say(progress, f"{plan.name} on {board}: firmware build and HIL bench")
            row = bench_board(plan.name, board, folder / "build", subset, folder, quant, stream_seconds)
            row_path.write_text(json.dumps(row, indent=2) + "\n")
        print("  " + " | ".join([board, *[c for c in board_cells(row) if c]]), flush=True)
        entry["rows"].append(row)
        progress[0] += 1
    return entry


def _say(progress: list[int], message: str) -> None:
    """A progress line: ``[done/total] message``."""
    done, total = progress
    print(f"\n[{done}/{total} model-board pairs done] {message}", flush=True)


def _runs_given(pairs: list[str]) -> dict[str, Path]:
    given: dict[str, Path] = {}
    for pair in pairs:
        name, sep, folder = pair.partition("=")
        if not sep or name not in PLANS:
            raise SystemExit(f"boards_all: --run takes MODEL=DIR with MODEL one of {', '.join(PLANS)}; got {pair!r}")
        given[name] = Path(folder)
    return given


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(PLANS), help="comma-separated, of " + ", ".join(PLANS))
    parser.add_argument("--boards", default=",".join(QEMU_BOARDS))
    parser.add_argument("--windows", type=int, default=DEFAULT_WINDOWS, help="test windows per model and board")
    parser.add_argument("--run", action="append", default=[], metavar="MODEL=DIR",
                        help="use this run folder for MODEL (else the default run, else train one)")
    parser.add_argument("--out", default=str(REPO / "runs" / "boards-all"), help="work folder (git ignores runs/)")
    parser.add_argument("--results", default=None, help="folder for boards_all.json/.md (default benchmarks/results)")
    parser.add_argument("--stream-seconds", type=float, default=10.0, help="recorded stream sent through STREAM")
    parser.add_argument("--stream-hops", type=int, default=100, help="at most this many STREAM hops per board")
    parser.add_argument("--reuse", action="store_true", help="keep every step already done in --out")
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    boards = [b for b in args.boards.split(",") if b]
    unknown = [m for m in models if m not in PLANS] + [b for b in boards if b not in QEMU_BOARDS]
    if unknown:
        raise SystemExit(f"boards_all: unknown model(s) or board(s): {', '.join(unknown)}")
    if args.windows < 1:
        raise SystemExit("boards_all: --windows must be >= 1")
    given = _runs_given(args.run)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    command = " ".join([".venv/bin/python benchmarks/boards_all.py", *(argv if argv is not None else sys.argv[1:])])

    progress = [0, len(models) * len(boards)]
    results = []
    for name in models:
        results.append(run_model(PLANS[name], given.get(name), boards, out, args.windows, args.reuse,
                                 args.stream_seconds, args.stream_hops, progress))
        write_outputs(results, command, args.windows, Path(args.results) if args.results else None)
    table = render_table(results)
    print("\n" + table)
    path = write_outputs(results, command, args.windows, Path(args.results) if args.results else None)
    print(f"\nwrote {path} and {path.with_suffix('.md')}")
    ok = all(row.get("passed") or row.get("fits") is False for entry in results for row in entry["rows"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
