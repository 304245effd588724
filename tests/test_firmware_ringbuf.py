"""The firmware's ring buffer (host-compiled) against a Python deque of the same capacity."""

from __future__ import annotations

import subprocess
from collections import deque
from pathlib import Path

import pytest

from firmware_host_build import compile_host, host_cc
from myoedge.boards import FIRMWARE_DIR

pytestmark = pytest.mark.skipif(host_cc() is None, reason="no host C compiler")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ringbuf") / "ringbuf_harness"
    return compile_host(out, [FIRMWARE_DIR / "host_tests" / "ringbuf_harness.c", FIRMWARE_DIR / "src" / "ringbuf.c"], [])


@pytest.mark.parametrize("rows, cols, pushes", [(1, 1, 3), (5, 3, 17), (52, 16, 120), (7, 2, 7)])
def test_ring_holds_the_last_rows_oldest_first(harness: Path, rows: int, cols: int, pushes: int) -> None:
    lines = subprocess.run([str(harness), str(rows), str(cols), str(pushes)], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    model: deque[list[int]] = deque(maxlen=rows)
    i = 0
    for push in range(pushes):
        model.append([push * 100 + c for c in range(cols)])
        assert lines[i] == f"count {len(model)}"
        i += 1
        for expected in model:
            assert [int(v) for v in lines[i].split()[1:]] == expected
            i += 1
        assert lines[i] == "out-of-range 1"
        i += 1
    flat = [v for row in list(model)[:2] for v in row]
    assert lines[i].split() == ["copied", str(min(2, len(model)))] + [str(v) for v in flat]
    assert lines[i + 1] == "cleared 0 1"


def test_invalid_geometry_is_refused(harness: Path) -> None:
    out = subprocess.run([str(harness), "0", "4", "1"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "init-error"
