"""The full firmware (platform + protocol + preprocessing + a stand-in network) on every QEMU board.

Talks through the host client (``qemu:BOARD:ELF``): INFO must describe the
board as board.cmake does, INFER on a raw window must run the board's
preprocessing bit-exactly (checked through the stand-in network's scores,
computed here from the host reference's int8 window), BENCH must give
instruction counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myoedge.board_preprocess import params_from_manifest, preprocess_raw_window
from myoedge.boards import list_boards, load_board
from myoedge.toolchain import tools_available
from test_firmware_size import dummy_model, dummy_scores

pytest.importorskip("serial", reason="pyserial is not installed")
pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not tools_available(need_qemu=True), reason="arm-none-eabi-gcc / cmake / qemu-system-arm missing"),
]

WEIGHTS = 3000
QEMU_BOARDS = [name for name in list_boards() if load_board(name).qemu_machine]


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_info_infer_bench_on_emulated_board(board: str, tmp_path: Path) -> None:
    from myoedge.firmware_build import build_firmware
    from myoedge.host.client import open_board
    from myoedge.host.protocol_spec import CycleUnit

    model = dummy_model(tmp_path / "model", weight_bytes=WEIGHTS, arena_bytes=1024)
    build = build_firmware(board, model, tmp_path / "fw")
    params = params_from_manifest(model / "model_manifest.h")
    spec = load_board(board)
    rng = np.random.default_rng(1)
    raw = (rng.standard_normal((params.window, params.channels)) * 30).astype(np.float32)
    client = open_board(f"qemu:{board}:{build.elf}", timeout=20.0)
    try:
        info = client.info()
        assert info.board == board and info.clock_hz == spec.clock_hz
        assert info.cycle_unit == CycleUnit.INSTRUCTIONS
        assert (info.raw_window, info.raw_channels, info.hop, info.input_size) == (52, 16, 5, 608)

        _values, expected_window = preprocess_raw_window(params, raw)
        reply = client.infer(raw)
        np.testing.assert_array_equal(reply.scores, dummy_scores(WEIGHTS, expected_window))
        assert reply.cycles.preprocess > 0 and reply.cycles.network > 0

        window = rng.integers(-128, 128, 608).astype(np.int8)
        reply = client.infer(window, preprocessed=True)
        np.testing.assert_array_equal(reply.scores, dummy_scores(WEIGHTS, window))

        bench = client.bench(5, window)
        assert bench.unit == CycleUnit.INSTRUCTIONS and bench.runs == 5
        # The stand-in network runs the same instructions every time (deterministic under -icount);
        # counts come in steps of one SysTick tick (1e9 / (clock * 2^shift) instructions).
        step = 1e9 / (spec.clock_hz * 2 ** spec.icount_shift)
        assert 0 < bench.network.min <= bench.network.median <= bench.network.max <= bench.network.min + 2 * step + 16
        assert bench.network.min >= 4 * WEIGHTS  # at least a load, load, multiply-add, branch per weight
    finally:
        client.close()
