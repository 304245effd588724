"""Live mode: the board classifies what its own front end (ADS1298) measures.

* On mps2-an386 under QEMU (the front end is the software model of the chip,
  firmware/boards/ads1298_model.c, with /DRDY from a timer): LIVE start, >= 20
  LIVE_PREDICTION frames, and every prediction equal to the host reference
  computed on the same samples (the device model's signal mirrored here, scaled
  and averaged down to the model's rate with the firmware's float32
  operations, through the board-preprocessing reference and the stand-in
  network).
* Host-compiled: the dispatcher's live loop with the real driver and the chip
  model, fed overruns, a lead-off status and a corrupt frame.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_host_build import compile_host, host_cc
from myoedge.boards import FIRMWARE_DIR
from myoedge.host import protocol as p
from myoedge.host.protocol_spec import Command, ErrorCode, LiveAction

WEIGHTS = 3000
UNITS_PER_VOLT = 2000.0
MODEL_SEED = 0x2545F491


def device_model_codes(n_frames: int) -> np.ndarray:
    """The chip model's synthetic signal (boards/ads1298_model.h): n_frames x 16 codes."""
    state = MODEL_SEED
    codes = np.zeros((n_frames, 16), dtype=np.int64)
    for n in range(n_frames):
        block = n // 256
        for k in range(16):
            state ^= (state << 13) & 0xFFFFFFFF
            state ^= state >> 17
            state ^= (state << 5) & 0xFFFFFFFF
            codes[n, k] = ((state >> 20) - 2048) * (1 + (block * 5 + 3 * k) % 8)
    return codes


def model_rate_samples(codes: np.ndarray, gain: int, units_per_volt: float, decimation: int) -> np.ndarray:
    """What live.c feeds the preprocessor: codes scaled (afe_ads1298.c) and averaged (live.c) in float32."""
    f32 = np.float32
    units_per_code = f32(2.4) / (f32(gain) * f32(8388607.0)) * f32(units_per_volt)
    scaled = codes.astype(np.float32) * units_per_code
    usable = (len(scaled) // decimation) * decimation
    frames = scaled[:usable].reshape(-1, decimation, scaled.shape[1])
    total = np.zeros((frames.shape[0], frames.shape[2]), dtype=np.float32)
    for phase in range(decimation):
        total = total + frames[:, phase, :]
    return total / f32(decimation)


@pytest.mark.qemu
def test_live_predictions_on_emulated_board_equal_host_reference(tmp_path: Path) -> None:
    pytest.importorskip("serial", reason="pyserial is not installed")
    from myoedge.toolchain import tools_available

    if not tools_available(need_qemu=True):
        pytest.skip("arm-none-eabi-gcc / cmake / qemu-system-arm missing")
    from myoedge.board_preprocess import BoardPreprocessor, params_from_manifest
    from myoedge.firmware_build import build_firmware
    from myoedge.host.client import BoardError, open_board
    from test_firmware_size import dummy_model, dummy_scores

    model = dummy_model(tmp_path / "model", weight_bytes=WEIGHTS, arena_bytes=1024)
    build = build_firmware("mps2-an386", model, tmp_path / "fw")
    params = params_from_manifest(model / "model_manifest.h")
    client = open_board(f"qemu:mps2-an386:{build.elf}", timeout=10.0)
    try:
        with pytest.raises(BoardError) as refused:
            client.request(Command.LIVE, p.live_request(LiveAction.START)[:-1])
        assert refused.value.error is ErrorCode.BAD_LENGTH
        with pytest.raises(BoardError) as refused:
            client.request(Command.LIVE, bytes([1, 0, 5, 0]) + bytes(4))  # gain 5 does not exist
        assert refused.value.error is ErrorCode.BAD_ARGUMENT

        predictions = list(client.live(vote=3, units_per_volt=UNITS_PER_VOLT, max_predictions=24))
        session = client.live_session
        info = client.info()  # any other command leaves live mode
        assert info.model_name == "dummy"
        quiet = []  # nothing may follow the INFO reply
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            quiet += client._read_frames()
    finally:
        client.close()

    setup = session.setup
    assert (setup.chips, setup.channels, setup.chip_rate_hz, setup.decimation, setup.model_rate_hz) == (2, 16, 1000, 5, 200)
    assert setup.gain == 6 and setup.units_per_volt == pytest.approx(UNITS_PER_VOLT)
    assert len(predictions) == 24 and session.missing == 0 and session.garbled == 0
    assert [x.seq for x in predictions] == list(range(1, 25))
    assert [x.position for x in predictions] == [52 + 5 * i for i in range(24)]
    for x in predictions:
        assert x.overruns == 0 and x.frame_errors == 0 and x.lead_off_p == 0 and x.lead_off_n == 0
        assert x.frames_read == x.position * setup.decimation  # every frame read, none lost
        assert x.network_cycles > 0 and x.preprocess_cycles > 0 and x.acquire_cycles > 0
    final = session.final
    assert final is not None and final.action is LiveAction.STOP
    assert final.predictions >= 24 and final.frames_read >= predictions[-1].frames_read
    assert final.overruns == 0 and final.frame_errors == 0
    assert session.received + len(session.after_stop) <= final.predictions
    assert not any(isinstance(p.decode_reply(f), p.LivePrediction) for f in quiet)

    # The host reference on the same samples.
    samples = model_rate_samples(device_model_codes(predictions[-1].position * 5), 6, UNITS_PER_VOLT, 5)
    _values, windows = BoardPreprocessor(params).push(samples)
    assert len(windows) == 24
    history: list[int] = []
    for x, window in zip(predictions, windows):
        expected = dummy_scores(WEIGHTS, window)
        np.testing.assert_array_equal(x.scores, expected)
        assert x.predicted == int(np.argmax(expected))
        history.append(x.predicted)
        assert x.voted == p.majority_vote(history[-3:])
    assert len({x.predicted for x in predictions}) > 1  # the signal moves the stand-in network


# --------------------------------------------------------------------------
# Host-compiled live loop (dispatcher + live.c + driver + chip model)
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live_harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if host_cc() is None:
        pytest.skip("no host C compiler")
    tests = FIRMWARE_DIR / "host_tests"
    out = tmp_path_factory.mktemp("live") / "live_harness"
    sources = [tests / "live_harness.c", tests / "ads1298_sim.c", FIRMWARE_DIR / "boards" / "ads1298_model.c",
               FIRMWARE_DIR / "src" / "afe_ads1298.c", FIRMWARE_DIR / "src" / "live.c",
               FIRMWARE_DIR / "src" / "commands.c", FIRMWARE_DIR / "src" / "protocol.c"]
    return compile_host(out, sources, [tests])


def run_live(harness: Path, scenario: str) -> list[object]:
    result = subprocess.run([str(harness), scenario], capture_output=True, check=True, timeout=30)
    replies = []
    for item in p.FrameDecoder().feed(result.stdout):
        assert isinstance(item, p.Frame), item
        replies.append(p.decode_reply(item))
    return replies


AFE_RING_FRAMES = 64  # MYE_AFE_RING_FRAMES: frames the /DRDY interrupt holds for the main loop


def test_live_loop_reports_overrun_lead_off_and_bad_frames(live_harness: Path) -> None:
    replies = run_live(live_harness, "faults")
    start, *predictions, stop = [r for r in replies if not isinstance(r, p.BootEvent)]
    assert isinstance(start, p.LiveReply) and start.action is LiveAction.START
    assert (start.chips, start.channels, start.chip_rate_hz, start.decimation) == (1, 8, 250, 1)
    assert all(isinstance(x, p.LivePrediction) for x in predictions)
    assert [x.seq for x in predictions] == list(range(1, len(predictions) + 1))
    # Steps 1..11 each raise /DRDY once and let the main loop run, except: frame 3 carries
    # lead-off bits (P: channel 2, N: channel 5); at step 6 the main loop is busy while
    # 1 + AFE_RING_FRAMES /DRDY come (the interrupt stores AFE_RING_FRAMES, one is lost);
    # frame 9 has a corrupt status word. A hop is 2 model samples (decimation 1).
    good = 5 + AFE_RING_FRAMES + 4  # samples that reached the preprocessor
    by_position = {x.position: x for x in predictions}
    assert sorted(by_position) == list(range(2, good + 1, 2))
    assert [by_position[k].lead_off_p for k in (2, 4, 6)] == [0, 1 << 2, 0]
    assert [by_position[k].lead_off_n for k in (2, 4, 6)] == [0, 1 << 5, 0]
    assert [by_position[k].overruns for k in (2, 4)] == [0, 0]
    assert {by_position[k].overruns for k in range(6, good + 1, 2)} == {1}  # counted, never hidden
    assert by_position[good - 3].frame_errors == 0 and by_position[good - 1].frame_errors == 1  # steps 7 and 10
    for x in predictions:
        assert x.frames_read == x.position  # every good frame became one sample
    assert isinstance(stop, p.LiveReply) and stop.action is LiveAction.STOP
    assert stop.predictions == len(predictions)
    assert (stop.frames_read, stop.overruns, stop.frame_errors) == (good, 1, 1)
    drdy = 11 + AFE_RING_FRAMES  # every /DRDY is read, lost or dropped
    assert stop.frames_read + stop.overruns + stop.frame_errors == drdy


def test_live_loop_stops_on_any_command_and_refuses_bad_requests(live_harness: Path) -> None:
    replies = [r for r in run_live(live_harness, "commands") if not isinstance(r, p.BootEvent)]
    kinds = [type(r).__name__ for r in replies]
    # start, a prediction, INFO stops it (no prediction after), then the bad requests.
    assert kinds[:3] == ["LiveReply", "LivePrediction", "InfoReply"]
    errors = [r for r in replies[3:] if isinstance(r, p.ErrorReply)]
    assert [e.error for e in errors] == [ErrorCode.BAD_LENGTH, ErrorCode.BAD_LENGTH, ErrorCode.BAD_ARGUMENT,
                                         ErrorCode.BAD_ARGUMENT, ErrorCode.BAD_ARGUMENT, ErrorCode.BAD_ARGUMENT,
                                         ErrorCode.AFE_ABSENT]
    assert errors[-1].expected == 0x92 and errors[-1].got == 0x90  # an ADS1296 answered
    assert not any(isinstance(r, p.LivePrediction) for r in replies[3:])


# --------------------------------------------------------------------------
# Host client: BoardClient.live over a scripted link
# --------------------------------------------------------------------------

class ScriptedLiveBoard:
    """A pyserial-like port that answers LIVE start/stop and sends predictions.

    After the start reply it sends predictions 1..8, with prediction 4 garbled
    on the wire (one bit flipped: bad CRC) and noise between frames; while
    the stop request is on its way it sends prediction 9, then the stop reply.
    """

    def __init__(self) -> None:
        self.timeout = 0.0
        self.outgoing = bytearray()
        self.decoder = p.FrameDecoder(max_encoded=20000)
        self.requests: list[p.LiveRequest] = []

    @property
    def in_waiting(self) -> int:
        return len(self.outgoing)

    def read(self, size: int = 1) -> bytes:
        data = bytes(self.outgoing[:size])
        del self.outgoing[:size]
        return data

    def close(self) -> None:
        pass

    def _prediction(self, seq: int) -> bytes:
        prediction = p.LivePrediction(seq, 52 + 5 * (seq - 1), seq % 3, seq % 3, np.array([seq, -seq, 0], np.int8),
                                      p.CycleUnit.INSTRUCTIONS, 2, 10, 20, 30, 0, 0, 5 * (52 + 5 * (seq - 1)), 0, 0)
        return p.encode_frame(p.Reply.LIVE_PREDICTION, 0, prediction.to_payload())

    def write(self, data: bytes) -> int:
        for frame in self.decoder.feed(data):
            request = p.LiveRequest.from_payload(frame.payload)
            self.requests.append(request)
            setup = p.LiveReply(request.action, 2, 6, 0, 16, 5, 1000, 200, 1e6, 0, 0, 0, 0)
            if request.action is LiveAction.START:
                self.outgoing += p.encode_frame(p.Reply.LIVE, frame.seq, setup.to_payload())
                for seq in range(1, 9):
                    wire = bytearray(self._prediction(seq))
                    if seq == 4:
                        wire[10] ^= 0x10  # damaged on the way
                    self.outgoing += wire + b"\x55\xaa"
            else:
                final = p.LiveReply(LiveAction.STOP, 2, 6, 0, 16, 5, 1000, 200, 1e6, 9, 2000, 0, 0)
                self.outgoing += self._prediction(9) + p.encode_frame(p.Reply.LIVE, frame.seq, final.to_payload())
        return len(data)


def test_client_live_keeps_predictions_across_garbled_frames_and_stops() -> None:
    from myoedge.host.client import BoardClient

    port = ScriptedLiveBoard()
    client = BoardClient(port, "scripted", timeout=1.0)
    received = []
    for prediction in client.live(vote=0, max_predictions=7):
        received.append(prediction.seq)
    session = client.live_session
    assert received == [1, 2, 3, 5, 6, 7, 8]  # 4 was garbled: skipped, nothing else lost
    assert session.received == 7 and session.missing == 1 and session.garbled >= 1
    assert [r.action for r in port.requests] == [LiveAction.START, LiveAction.STOP]
    assert session.final is not None and session.final.predictions == 9
    assert [x.seq for x in session.after_stop] == [9]  # sent while the stop was on its way


def test_client_live_sends_stop_when_the_consumer_fails() -> None:
    from myoedge.host.client import BoardClient

    port = ScriptedLiveBoard()
    client = BoardClient(port, "scripted", timeout=1.0)
    with pytest.raises(RuntimeError, match="consumer"):
        for prediction in client.live():
            if prediction.seq == 2:
                raise RuntimeError("consumer gave up")
    assert [r.action for r in port.requests] == [LiveAction.START, LiveAction.STOP]
    assert client.live_session.received == 2 and client.live_session.final is not None


def test_live_start_configures_lead_off_detection_and_stop_leaves_rdatac(live_harness: Path) -> None:
    result = subprocess.run([str(live_harness), "registers"], capture_output=True, check=True, timeout=30)
    lines = {line.split()[0]: line.split()[1:] for line in result.stderr.decode().splitlines()}
    regs = [int(v, 16) for v in lines["regs"]]
    assert regs[0x01] == 0x06  # 250 SPS (low-power mode): the harness model's rate, decimation 1
    assert regs[0x05:0x0D] == [0x60] * 8  # gain 12 (110), normal input
    assert regs[0x04] == 0x03  # LOFF: DC lead-off, 6 nA, 95 % threshold
    assert regs[0x0F] == 0xFF and regs[0x10] == 0xFF  # LOFF_SENSP / LOFF_SENSN on every input
    assert regs[0x17] == 0x02  # CONFIG4: lead-off comparators powered
    assert lines["mode"] == ["1", "1"]  # RDATAC, START high
    assert lines["stopped"] == ["0", "0"]  # SDATAC, START low
    replies = [p.decode_reply(f) for f in p.FrameDecoder().feed(result.stdout) if isinstance(f, p.Frame)]
    assert [type(r).__name__ for r in replies] == ["BootEvent", "LiveReply", "LiveReply"]
    assert replies[1].gain == 12 and replies[2].action is LiveAction.STOP


def test_live_mode_restarts_cleanly(live_harness: Path) -> None:
    replies = [r for r in run_live(live_harness, "restart") if not isinstance(r, p.BootEvent)]
    runs = [replies[:4], replies[4:]]
    for run in runs:  # start, 2 predictions (hop 2, 4 frames), stop: counters restart at 0
        assert [type(r).__name__ for r in run] == ["LiveReply", "LivePrediction", "LivePrediction", "LiveReply"]
        assert [x.seq for x in run[1:3]] == [1, 2] and [x.position for x in run[1:3]] == [2, 4]
        assert (run[3].frames_read, run[3].overruns, run[3].frame_errors, run[3].predictions) == (4, 0, 0, 2)
