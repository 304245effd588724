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
