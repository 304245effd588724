"""The board client against an in-process fake board on a loopback socket.

The fake board (myoedge.host.fake_board) answers like the firmware (it is
checked against the C dispatcher in test_protocol.py); here it also injects
the faults a bench meets: garbage on the line, lost replies, damaged
requests, a hung board, a reboot, a fault report.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from myoedge.host import protocol as p
from myoedge.host.client import (BoardError, BoardFault, BoardLinkLost, BoardReset,
                                 BoardTimeout, ProtocolError, open_board)
from myoedge.host.fake_board import (FakeBoard, FakeBoardServer, StubModel, StubPreprocessor,
                                     stub_info)
from myoedge.host.protocol_spec import CycleUnit, ErrorCode, InferMode, Reply

pytest.importorskip("serial", reason="pyserial (the 'host' extra) is not installed")


@pytest.fixture()
def board() -> FakeBoard:
    return FakeBoard(stub_info(), StubPreprocessor(), StubModel())


@pytest.fixture()
def server(board: FakeBoard):
    with FakeBoardServer(board) as running:
        yield running


def _client(server: FakeBoardServer, **options):
    client = open_board(server.url, **{"timeout": 1.0, **options})
    client.wait_for_boot(5)
    return client


def _host_stream_reference(samples: np.ndarray, vote: int) -> list[tuple[int, int, int]]:
    """(position, predicted, voted) from the stub preprocessor and model run here."""
    pre, model, history, out = StubPreprocessor(), StubModel(), [], []
    for position, sample in enumerate(samples, start=1):
        window = pre.push(sample)
        if window is None:
            continue
        label = p.predicted_class(model(window))
        history.append(label)
        voted = p.majority_vote(history[-vote:]) if vote > 1 else label
        out.append((position, label, voted))
    return out


def test_typed_calls(server: FakeBoardServer) -> None:
    rng = np.random.default_rng(0)
    with _client(server) as client:
        info = client.info()
        assert (info.board, info.raw_window, info.raw_channels, info.input_size) == (
            "host-stub", 4, 2, 8)
        assert info.cycle_unit is CycleUnit.INSTRUCTIONS

        window = rng.integers(-100, 100, size=(2, 4)).astype(np.int8)
        reply = client.infer(window, preprocessed=True)
        expected = StubModel()(window.ravel())
        assert reply.scores.tolist() == expected.tolist()
        assert reply.predicted == int(np.argmax(expected))
        assert reply.mode is InferMode.PREPROCESSED
        assert reply.cycles.total >= reply.cycles.network > 0

        raw = rng.integers(-50, 50, size=(4, 2)).astype(np.float32)
        raw_reply = client.infer(raw)
        assert raw_reply.mode is InferMode.RAW and raw_reply.cycles.preprocess > 0

        samples = rng.integers(-60, 60, size=(300, 2)).astype(np.float32)
        predictions = client.stream(samples, chunk=37, vote=5)
        assert [(x.position, x.predicted, x.voted) for x in predictions] == \
            _host_stream_reference(samples, 5)

        bench = client.bench(5)
        assert bench.runs == 5 and bench.network.min <= bench.network.median <= bench.network.max
        client.reset()


def test_garbage_on_the_line_is_skipped(server: FakeBoardServer, board: FakeBoard) -> None:
    with _client(server) as client:
        board.garbage = b"boot noise\r\n\x00\x07\x07"
        assert client.info().board == "host-stub"
        server.push(b"\xde\xad\x00\xbe\xef")  # unsolicited noise between commands
        assert client.info().model_name == "stub-model"
        assert client.stats.garbage_frames >= 2


def test_a_lost_reply_is_retried_with_the_same_sequence_number(
        server: FakeBoardServer, board: FakeBoard) -> None:
    samples = np.arange(40, dtype=np.float32).reshape(20, 2)
    with _client(server, timeout=0.3) as client:
        client.stream_chunk(samples[:10], reset=True)
        board.drop_replies = 1
        runs_before = board.commands_run
        reply = client.stream_chunk(samples[10:])
        assert reply.position == 20, "a retried STREAM must not be fed twice"
        assert board.commands_run == runs_before + 1
        assert client.stats.retries >= 1 and client.stats.timeouts >= 1


def test_a_damaged_request_is_resent(server: FakeBoardServer, board: FakeBoard) -> None:
    with _client(server) as client:
        board.corrupt_requests = 1
        reply = client.infer(np.ones((2, 4), dtype=np.int8), preprocessed=True)
        assert reply.scores.size == 5
        assert client.stats.link_errors >= 1 and client.stats.retries >= 1


def test_a_hung_board_times_out_naming_port_and_command(
        server: FakeBoardServer, board: FakeBoard) -> None:
    with _client(server, timeout=0.2, retries=1) as client:
        board.hung = True
        with pytest.raises(BoardTimeout) as raised:
            client.info()
        message = str(raised.value)
        assert server.url in message and "INFO" in message and "2 tries" in message


def test_a_stream_that_fails_midway_keeps_what_it_collected(
        server: FakeBoardServer, board: FakeBoard) -> None:
    samples = np.ones((100, 2), dtype=np.float32)
    with _client(server, timeout=0.2, retries=0) as client:
        original = board._execute
        first = board.commands_run

        def hang_after_two_chunks(frame: p.Frame):
            result = original(frame)
            board.hung = board.commands_run - first > 2
            return result

        board._execute = hang_after_two_chunks
        with pytest.raises(BoardTimeout) as raised:
            client.stream(samples, chunk=20)
        assert raised.value.samples_sent == 40
        assert [x.position for x in raised.value.partial] == [4, 6, 8, 10, 12, 14, 16, 18, 20,
                                                              22, 24, 26, 28, 30, 32, 34, 36,
                                                              38, 40]


def test_a_refused_command_names_the_error(server: FakeBoardServer) -> None:
    with _client(server) as client:
        with pytest.raises(BoardError) as raised:
            client.infer(np.zeros((3, 3), dtype=np.int8), preprocessed=True)
        assert raised.value.reply.error is ErrorCode.BAD_SHAPE
        assert "BAD_SHAPE for INFER (expected 8, got 9)" in str(raised.value)
        assert client.info().board == "host-stub", "the link still works after an error"


def test_reboot_during_stream_is_reported_and_other_commands_are_resent(
        server: FakeBoardServer) -> None:
    with _client(server, timeout=0.5) as client:
        server.reboot()  # the BOOT frame waits in the socket, ahead of the reply
        with pytest.raises(BoardReset, match="stream state is gone"):
            client.stream_chunk(np.zeros((4, 2), dtype=np.float32))
        server.reboot()
        assert client.info().board == "host-stub"
        assert client.stats.boots == 3  # power-on and two reboots


def test_a_fault_report_raises(server: FakeBoardServer, board: FakeBoard) -> None:
    with _client(server) as client:
        server.push(p.encode_frame(Reply.FAULT, 0, p.FaultEvent(0x123, 0x456, 0x8, 0x0)
                                   .to_payload()))
        board.hung = True
        with pytest.raises(BoardFault, match="pc=0x00000123"):
            client.info()


def test_a_dropped_link_is_named_and_can_be_reopened(
        server: FakeBoardServer, board: FakeBoard) -> None:
    with _client(server, timeout=0.5, retries=1) as client:
        client.stream_chunk(np.zeros((6, 2), dtype=np.float32), reset=True)
        server.disconnect()
        with pytest.raises((BoardLinkLost, BoardTimeout)) as raised:
            client.info()
        assert server.url in str(raised.value) and "INFO" in str(raised.value)
        client.reopen()
        reply = client.stream_chunk(np.zeros((2, 2), dtype=np.float32))
        assert reply.position == 8, "the board kept its stream state across the reconnect"


def test_traffic_log(server: FakeBoardServer, tmp_path: Path) -> None:
    log = tmp_path / "traffic.log"
    with _client(server, log=log) as client:
        client.info()
    lines = log.read_text().splitlines()
    assert any(" TX 00 " in line for line in lines)
    assert any(" RX " in line for line in lines)
    assert any(re.search(r"-- INFO seq \d+ \(0 bytes\)", line) for line in lines)


def test_a_link_that_echoes_is_a_protocol_error() -> None:
    with open_board("loop://", timeout=0.3, retries=0) as client:
        with pytest.raises(ProtocolError, match="unknown reply code 0x01"):
            client.info()


def test_qemu_target_needs_an_elf() -> None:
    with pytest.raises(ValueError, match="qemu:BOARD:ELF"):
        open_board("qemu:mps2-an386")


# ---- the real firmware in QEMU ------------------------------------------------------

STUB_MODEL_C = """\
#include <stdint.h>
#include "model_manifest.h"
/* The test's stand-in for the AOT model: myoedge.host.fake_board.StubModel. */
int mye_model_invoke(const int8_t *input, int8_t *output)
{
    for (int k = 0; k < MYE_OUTPUT_SIZE; k++) {
        int32_t acc = k;
        for (int i = 0; i < MYE_INPUT_SIZE; i++) {
            acc += (int32_t)input[i] * (((i + k) % 3) - 1);
        }
        output[k] = (int8_t)(acc > 127 ? 127 : (acc < -128 ? -128 : acc));
    }
    return 0;
}
"""


def _stub_model_dir(folder: Path):
    """A model folder (manifest + stand-in model C) for an 8 x 2 raw window.

    The preprocessing macros come from the same generator as a real
    model_manifest.h; the host reference reads them back from the file.
    """
    from myoedge.board_preprocess import manifest_macros, params_from_manifest
    from myoedge.training.preprocess import PreprocessConfig

    config = PreprocessConfig(sampling_rate_hz=200.0, rectify=True, highpass_hz=20.0,
                              highpass_order=2, window=8, step=4, moving_average=3)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "model_manifest.h"
    manifest.write_text("\n".join([
        "#ifndef MYE_MODEL_MANIFEST_H", "#define MYE_MODEL_MANIFEST_H",
        '#define MYE_MODEL_NAME "stub"', '#define MYE_MODEL_HASH_HEX "00112233aabbccdd"',
        "#define MYE_OUTPUT_SIZE 5", "#define MYE_OUTPUT_SCALE 0.25f",
        "#define MYE_OUTPUT_ZERO_POINT 1", "#define MYE_N_CLASSES 5",
        manifest_macros(config, 2, 0.5, -3), "#endif", ""]))
    (folder / "stub_model.c").write_text(STUB_MODEL_C)
    return params_from_manifest(manifest)


QEMU_BOARDS = ["mps2-an386", "netduinoplus2", "mps3-an547"]


@pytest.fixture(scope="module", params=QEMU_BOARDS)
def qemu_firmware(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from myoedge.toolchain import tools_available

    if not tools_available(need_qemu=True):
        pytest.skip("arm-none-eabi-gcc, cmake or qemu-system-arm missing")
    pytest.importorskip("cmsisdsp", reason="the host preprocessing reference needs cmsisdsp")
    from myoedge.firmware_build import build_firmware

    board = request.param
    root = tmp_path_factory.mktemp(f"fw-{board}")
    params = _stub_model_dir(root / "model")
    build = build_firmware(board, root / "model", root / "out")
    return board, build.elf, params


@pytest.mark.qemu
def test_the_dispatcher_in_qemu_answers_like_the_host_reference(qemu_firmware) -> None:
    from myoedge.board_preprocess import BoardPreprocessor, preprocess_raw_window

    board, elf, params = qemu_firmware
    model = StubModel(5)
    rng = np.random.default_rng(1)
    with open_board(f"qemu:{board}:{elf}", timeout=10) as client:
        info = client.info()
        assert (info.board, info.model_name, info.input_size, info.raw_window, info.raw_channels,
                info.hop) == (board, "stub", 12, 8, 2, 4)
        assert info.cycle_unit is CycleUnit.INSTRUCTIONS and info.flash_used > 0
        for _ in range(5):
            window = rng.integers(-128, 128, size=(6, 2)).astype(np.int8)
            reply = client.infer(window, preprocessed=True)
            assert reply.scores.tolist() == model(window).tolist()
            assert reply.cycles.network > 0 and reply.cycles.total > reply.cycles.network
        for _ in range(3):
            raw = (rng.normal(size=(8, 2)) * 20).astype(np.float32)
            reply = client.infer(raw)
            assert reply.scores.tolist() == model(preprocess_raw_window(params, raw)[1]).tolist()
            assert reply.cycles.preprocess > 0

        recording = (rng.normal(size=(300, 2)) * 30).astype(np.float32)
        predictions = client.stream(recording, chunk=37, vote=3)
        _, windows = BoardPreprocessor(params).push(recording)
        labels = [p.predicted_class(model(w)) for w in windows]
        voted = [p.majority_vote(labels[max(0, i - 2):i + 1]) for i in range(len(labels))]
        assert [x.predicted for x in predictions] == labels
        assert [x.voted for x in predictions] == voted
        assert [x.position for x in predictions] == list(range(8, 301, 4))

        bench = client.bench(8)
        assert bench.runs == 8 and 0 < bench.network.min <= bench.network.median
        with pytest.raises(BoardError, match="BAD_SHAPE"):
            client.infer(np.zeros((8, 3), dtype=np.float32))
        client.port.write(b"\x13\x37 noise \x00\xff")
        assert client.info().board == board


def test_board_command_line(server: FakeBoardServer, capsys: pytest.CaptureFixture) -> None:
    from myoedge.host.board_cli import main

    assert main(["info", "--port", server.url]) == 0
    assert "model_name           stub-model" in capsys.readouterr().out
    assert main(["bench", "--port", server.url, "--runs", "4"]) == 0
    out = capsys.readouterr().out
    assert "4 runs on host-stub (stub-model), instructions:" in out and "network" in out
    assert main(["ping", "--port", server.url, "--count", "3"]) == 0
    assert "3 INFO round trips" in capsys.readouterr().out
    assert main(["info", "--port", "qemu:nowhere"]) == 1
    assert "qemu:BOARD:ELF" in capsys.readouterr().err
