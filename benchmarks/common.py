"""Shared plumbing for the benchmarks: where the real data is, and result files."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_db5_dir() -> Path | None:
    """The NinaPro DB5 folder: $MYOEDGE_SHARED_DATA, else ../shared/data/ninapro-db5."""
    env = os.environ.get("MYOEDGE_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "ninapro-db5")
    for path in candidates:
        if path.is_dir() and any(path.glob("**/S*_E*_A1.mat")):
            return path
    return None


def require_db5() -> Path:
    path = shared_db5_dir()
    if path is None:
        sys.exit("benchmark: NinaPro DB5 not found (set MYOEDGE_SHARED_DATA or place it at ../shared/data/ninapro-db5)")
    return path


def machine_note() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_results(name: str, payload: dict, out_dir: Path | None = None) -> Path:
    out_dir = out_dir or REPO / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": machine_note(), **payload}
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


# ---- board benchmarks (board_db5.py, boards_all.py) ----------------------------------

QEMU_BOARDS = ("mps2-an386", "netduinoplus2", "mps3-an547")
"""The emulated boards every deployable model is benchmarked on."""


def quant_summary(quant: dict) -> dict:
    """The quantize report's figures a board benchmark records (metrics cut to the three scores)."""
    keep = ("macs", "weights_bytes", "tflm_arena_bytes", "aot_arena_bytes", "flash_estimate_bytes", "parity",
            "float", "int8")
    return {k: ({m: quant[k][m] for m in ("accuracy", "balanced_accuracy", "mcc")} if k in ("float", "int8")
                else quant.get(k))
            for k in keep}


def latency_stage(report, name: str) -> dict:
    """One stage's row (median, min, max, unit) of a HIL report's latency table; {} when absent."""
    for stage in report.figures.get("latency", {}).get("stages", []):
        if stage["stage"] == name:
            return stage
    return {}


def bench_row(board: str, quant: dict, report, seconds: float) -> dict:
    """One board's figures from a HIL bench report: verdict, checks, instructions, sizes, accuracy."""
    size = report.figures.get("size_report") or {}
    network = latency_stage(report, "network")
    pre = latency_stage(report, "stream_preprocess_per_hop")
    checks = {c.name: c for c in report.checks}
    accuracy = checks["accuracy"].details if "accuracy" in checks else {}
    exact = checks["bit_exact"].details if "bit_exact" in checks else {}
    return {
        "board": board, "fits": True, "passed": report.passed,
        "checks": {name: {"passed": c.passed, "summary": c.summary} for name, c in checks.items()},
        "windows": exact.get("compared"), "windows_bit_exact": exact.get("bit_exact"),
        "unit": network.get("unit"), "network_median": network.get("median"),
        "preprocess_per_hop_median": pre.get("median"),
        "macs_per_instruction": (quant["macs"] / network["median"]) if network.get("median") else None,
        "flash_used": size.get("flash_used"), "code_without_weights": size.get("code_without_weights"),
        "ram_used": size.get("ram_used"), "arena": size.get("arena"),
        "windows_per_s": report.figures.get("throughput", {}).get("windows_per_s"),
        "device": {k: accuracy.get("device", {}).get(k) for k in ("accuracy", "balanced_accuracy", "mcc")},
        "host": {k: accuracy.get("host", {}).get(k) for k in ("accuracy", "balanced_accuracy", "mcc")},
        "seconds": round(seconds, 1),
    }


def one_line(message: str, limit: int = 240) -> str:
    """A table-cell version of an error: its first line, plus the compiler's first ``error:`` line."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0]
    compiler = next((line for line in lines[1:] if "error:" in line), None)
    if compiler:
        text = f"{text.rstrip(':')}: {compiler}"
    text = text.replace("|", "/")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(value, fmt: str = ",") -> str:
    return "-" if value is None else format(value, fmt)


def board_cells(row: dict) -> list[str]:
    """The Markdown cells of one board row: HIL, network / preprocessing instructions, MACs per
    instruction, flash (code without weights), RAM (arena), windows/s through the link."""
    if not row.get("fits", True):
        return [f"does not fit: {row['error']}", "", "", "", "", "", ""]
    if "error" in row:
        return [f"FAIL: {one_line(row['error'])}", "", "", "", "", "", ""]
    flash = f"{_number(row['flash_used'])} B ({_number(row['code_without_weights'])} B)"
    ram = f"{_number(row['ram_used'])} B ({_number(row['arena'])} B)"
    return ["pass" if row["passed"] else "FAIL", _number(row["network_median"]),
            _number(row["preprocess_per_hop_median"]), _number(row["macs_per_instruction"], ".3f"), flash, ram,
            _number(row["windows_per_s"], ".1f")]
