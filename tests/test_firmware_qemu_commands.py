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


def _recorded_stream(source: str, n: int) -> np.ndarray:
    if source == "synthetic":
        rng = np.random.default_rng(8)
        envelope = np.repeat(rng.uniform(1.0, 40.0, (n // 50 + 1, 16)), 50, axis=0)[:n]
        return (rng.standard_normal((n, 16)) * envelope).astype(np.float32)
    from conftest import find_ninapro_db5

    folder = find_ninapro_db5()
    if folder is None:
        pytest.skip("NinaPro DB5 recordings are absent (../shared/data/ninapro-db5 or MYOEDGE_SHARED_DATA)")
    from scipy.io import loadmat

    emg = loadmat(folder / "S1_E1_A1.mat", variable_names=["emg"])["emg"]
    return np.asarray(emg[30000:30000 + n], dtype=np.float32)


@pytest.mark.parametrize("source", ["synthetic", pytest.param("db5", marks=pytest.mark.realdata)])
def test_stream_predictions_equal_host_reference(source: str, tmp_path: Path) -> None:
    """STREAM a recorded stream: every hop's prediction is the one the host reference gives."""
    from myoedge.board_preprocess import BoardPreprocessor
    from myoedge.firmware_build import build_firmware
    from myoedge.host.client import open_board

    stream = _recorded_stream(source, 52 + 5 * 60)
    model = dummy_model(tmp_path / "model", weight_bytes=WEIGHTS, arena_bytes=1024)
    build = build_firmware("mps2-an386", model, tmp_path / "fw")
    params = params_from_manifest(model / "model_manifest.h")
    client = open_board(f"qemu:mps2-an386:{build.elf}", timeout=20.0)
    try:
        predictions = client.stream(stream, chunk=37, reset=True)  # chunks that do not line up with hops
    finally:
        client.close()
    _values, windows = BoardPreprocessor(params).push(stream)
    expected_scores = [dummy_scores(WEIGHTS, w) for w in windows]
    assert len(predictions) == len(windows) == 61
    assert [p.position for p in predictions] == list(range(52, len(stream) + 1, 5))
    assert [p.predicted for p in predictions] == [int(np.argmax(s)) for s in expected_scores]
    as_int8 = [((p.score + 128) % 256) - 128 for p in predictions]  # whether decoded signed or not
    assert as_int8 == [int(s[int(np.argmax(s))]) for s in expected_scores]
