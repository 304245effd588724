"""The wire protocol: spec, Python codec, generated copies, and the C side.

The C codec and dispatcher (firmware/src/protocol.c, commands.c) are built
for the host with AddressSanitizer and UndefinedBehaviorSanitizer, together
with firmware/host_tests/test_protocol_main.c (a stub board, preprocessor
and model). That program fuzzes itself with >= 100 000 random and corrupted
frames, and also serves as a board on stdin/stdout so that the Python codec
and the Python fake board can be checked against the C reply by reply.
"""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from myoedge.host import protocol as p
from myoedge.host import protocol_spec as spec
from myoedge.host.fake_board import FakeBoard, StubModel, StubPreprocessor, stub_info
from myoedge.host.protocol_spec import Command, CycleUnit, ErrorCode, InferMode, LiveAction, Reply

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"


# ---- spec and generated copies ---------------------------------------------

def test_crc_is_ccitt_false() -> None:
    assert p.crc16(b"123456789") == spec.CRC_CHECK == 0x29B1
    assert p.crc16(b"") == 0xFFFF


def test_committed_c_header_is_generated_from_the_spec() -> None:
    committed = (FIRMWARE / "include" / "myoedge_protocol.h").read_text()
    assert committed == spec.render_c_header(), (
        "firmware/include/myoedge_protocol.h is stale: run python scripts/gen_protocol_header.py")


def test_committed_document_is_generated_from_the_spec() -> None:
    committed = (ROOT / "docs" / "PROTOCOL.md").read_text()
    assert committed == spec.render_markdown(), (
        "docs/PROTOCOL.md is stale: run python scripts/gen_protocol_header.py")


def test_layouts_are_consistent_and_replies_fit_their_limits() -> None:
    for layout in spec.LAYOUTS:
        names = [f.name for f in layout.fields]
        assert len(names) == len(set(names)), layout.name
        assert layout.size == sum(f.size for f in layout.fields), layout.name
        assert layout.offset(layout.fields[-1].name) + layout.fields[-1].size == layout.size
    info_max = spec.INFO_REPLY.size + len(spec.INFO_STRINGS) * (1 + spec.MAX_STRING)
    stream_max = spec.STREAM_REPLY.size + spec.MAX_STREAM_SAMPLES * spec.STREAM_PREDICTION.size
    infer_max = spec.INFER_REPLY.size + spec.MAX_SCORES
    for size in (info_max, stream_max, infer_max, spec.BENCH_REPLY.size, spec.ERROR_REPLY.size):
        assert size <= spec.MAX_REPLY_PAYLOAD
    assert spec.MAX_REQUEST_PAYLOAD <= 0xFFFF and spec.MAX_REPLY_PAYLOAD <= 0xFFFF
    for command in Command:
        assert Reply(command | spec.REPLY_BIT).name == command.name
    assert {m.command for m in spec.MESSAGES} == set(Command)


# ---- Python codec ------------------------------------------------------------

@pytest.mark.parametrize("length", [0, 1, 253, 254, 255, 508, 1000])
def test_cobs_round_trip_and_no_zero(length: int) -> None:
    rng = random.Random(length)
    for data in (bytes(length), bytes(rng.randrange(1, 256) for _ in range(length)),
                 bytes(rng.randrange(0, 3) for _ in range(length))):
        encoded = p.cobs_encode(data)
        assert 0 not in encoded
        assert len(encoded) <= spec.cobs_max_encoded(len(data))
        assert p.cobs_decode(encoded) == data


def test_cobs_decode_refuses_a_block_past_the_end() -> None:
    with pytest.raises(p.ProtocolError) as error:
        p.cobs_decode(bytes([5, 1, 2]))
    assert error.value.error is ErrorCode.BAD_FRAMING


def test_decoder_resynchronises_after_garbage_in_any_chunking() -> None:
    first = p.encode_frame(Reply.INFO, 7, b"abc\x00def")
    second = p.encode_frame(Reply.RESET, 8)
    stream = b"myoedge-fw 0.1.0 banner\r\n" + first + b"\x13\x37\x99" + second + b"\xff\xfe"
    rng = random.Random(3)
    for _ in range(20):
        decoder = p.FrameDecoder()
        frames, failures, position = [], [], 0
        while position < len(stream):
            size = rng.randrange(1, 9)
            for item in decoder.feed(stream[position:position + size]):
                (frames if isinstance(item, p.Frame) else failures).append(item)
            position += size
        assert [(f.code, f.seq, f.payload) for f in frames] == [
            (Reply.INFO, 7, b"abc\x00def"), (Reply.RESET, 8, b"")]
        assert len(failures) == 2  # the banner and the three stray bytes
        assert decoder.pending == 2  # the trailing bytes wait for a delimiter


@pytest.mark.parametrize("mutate, error", [
    (lambda body: body[:5], ErrorCode.BAD_LENGTH),
    (lambda body: body[:-1] + bytes([body[-1] ^ 0x10]), ErrorCode.BAD_CRC),
    (lambda body: p.frame_bytes(1, 2, b"xy", version=9), ErrorCode.BAD_VERSION),
    (lambda body: _with_crc(body[:4] + struct.pack("<H", 5) + body[6:-2]), ErrorCode.BAD_LENGTH),
])
def test_parse_frame_names_what_is_wrong(mutate, error) -> None:
    body = p.frame_bytes(Command.INFO, 2, b"xy")
    with pytest.raises(p.ProtocolError) as raised:
        p.parse_frame(mutate(body))
    assert raised.value.error is error
    assert str(raised.value)


def _with_crc(body: bytes) -> bytes:
    return body + struct.pack("<H", p.crc16(body))


def test_decoder_reports_frames_that_are_too_long() -> None:
    decoder = p.FrameDecoder(max_encoded=50)
    results = decoder.feed(b"\x01" * 80 + b"\x00" + p.encode_frame(Reply.RESET, 1))
    assert isinstance(results[0], p.DecodeFailure)
    assert results[0].error.error is ErrorCode.FRAME_TOO_LONG
    assert isinstance(results[1], p.Frame)


def test_every_reply_type_round_trips() -> None:
    info = stub_info()
    scores = np.array([-3, 5, 5, 1], dtype=np.int8)
    replies = [
        info,
        p.InferReply(scores, 1, InferMode.RAW, p.StageCycles(10, 20, 35, CycleUnit.CYCLES)),
        p.StreamReply(12, 3, CycleUnit.INSTRUCTIONS, (
            p.StreamPrediction(10, 2, 1, -4, 100, 200), p.StreamPrediction(12, 1, 1, 9, 5, 6))),
        p.BenchReply(9, InferMode.PREPROCESSED, CycleUnit.TICKS, 4, p.StageStats(0, 0, 0),
                     p.StageStats(5, 6, 9), p.StageStats(7, 8, 12)),
        p.ResetReply(),
        p.ErrorReply(ErrorCode.BAD_SHAPE, Command.INFER, 608, 600),
        p.BootEvent(1, 3),
        p.FaultEvent(0x08000123, 0xFFFFFFF9, 0x400, 0x40000000),
        p.LiveReply(LiveAction.START, 2, 6, 3, 16, 5, 1000, 200, 1e6, 0, 0, 0, 0),
        p.LiveReply(LiveAction.STOP, 1, 12, 0, 8, 1, 250, 250, 2000.0, 77, 9000, 3, 1),
    ]
    for reply in replies:
        wire = p.encode_frame(p.reply_code(reply), 5, reply.to_payload())
        [frame] = p.FrameDecoder().feed(wire)
        decoded = p.decode_reply(frame)
        if isinstance(reply, p.InferReply):
            assert np.array_equal(decoded.scores, reply.scores)
            assert (decoded.predicted, decoded.mode, decoded.cycles) == (
                reply.predicted, reply.mode, reply.cycles)
        else:
            assert decoded == reply


def live_prediction(seq: int, scores: list[int] | None = None) -> p.LivePrediction:
    """A LIVE_PREDICTION with every field set to something recognisable."""
    return p.LivePrediction(seq, 52 + 5 * seq, 2, 1, np.array(scores or [-5, 7, 7, 0], np.int8),
                            CycleUnit.INSTRUCTIONS, 2, 600, 9000, 27000, 0x0104, 0x8000,
                            5 * (52 + 5 * seq), 3, 1)


def test_live_frames_round_trip_and_refuse_bad_lengths() -> None:
    prediction = live_prediction(7)
    wire = p.encode_frame(Reply.LIVE_PREDICTION, 0, prediction.to_payload())
    [frame] = p.FrameDecoder().feed(wire)
    decoded = p.decode_reply(frame)
    assert isinstance(decoded, p.LivePrediction) and frame.seq == 0
    assert np.array_equal(decoded.scores, prediction.scores)
    assert decoded.to_json() == prediction.to_json()
    assert decoded.to_json()["unit"] == "instructions" and decoded.to_json()["lead_off_p"] == 0x0104
    payload = prediction.to_payload()
    for bad in (payload[:-1], payload + b"\x00", payload[:spec.LIVE_PREDICTION.size - 1]):
        with pytest.raises(p.ProtocolError) as error:
            p.LivePrediction.from_payload(bad)
        assert error.value.error is ErrorCode.BAD_LENGTH
    reply = p.LiveReply(LiveAction.STOP, 2, 6, 0, 16, 5, 1000, 200, 1e6, 4, 100, 0, 0).to_payload()
    with pytest.raises(p.ProtocolError, match="LIVE reply"):
        p.LiveReply.from_payload(reply[:-2])
    request = p.live_request(LiveAction.START, vote=3, gain=12, units_per_volt=2000.0)
    assert struct.unpack(spec.LIVE_REQUEST.format, request) == (1, 3, 12, 0, 2000.0)
    assert p.LiveRequest.from_payload(request) == p.LiveRequest(LiveAction.START, 3, 12, 2000.0)
    with pytest.raises(p.ProtocolError, match="LIVE request"):
        p.LiveRequest.from_payload(request + b"\x00")
    for bad in (dict(vote=40), dict(gain=5), dict(units_per_volt=float("nan")), dict(units_per_volt=-1.0)):
        with pytest.raises(ValueError):
            p.live_request(LiveAction.START, **bad)


def test_majority_vote_ties_go_to_the_latest() -> None:
    assert p.majority_vote([1, 2, 2, 1]) == 1
    assert p.majority_vote([1, 2, 2, 3]) == 2
    assert p.majority_vote([4]) == 4


def test_request_payloads_match_the_layouts() -> None:
    window = p.Window.from_array(np.arange(8, dtype=np.int8).reshape(2, 4), preprocessed=True)
    payload = p.infer_request(window)
    assert payload[:spec.WINDOW.size] == struct.pack(spec.WINDOW.format, 0, 0, 2, 4)
    assert p.Window.from_payload(payload).values.tolist() == window.values.tolist()
    raw = p.Window.from_array(np.ones((3, 2)), preprocessed=False)
    assert len(raw.to_payload()) == spec.WINDOW.size + 3 * 2 * 4
    with pytest.raises(ValueError, match="int8"):
        p.Window.from_array(np.array([300, 1]), preprocessed=True)
    chunk = p.stream_request(np.zeros((5, 2)), vote=3, reset=True)
    assert struct.unpack_from(spec.STREAM_REQUEST.format, chunk) == (1, 3, 5, 2)


# ---- the C codec and dispatcher, built for the host ---------------------------

C_SOURCES = [
    FIRMWARE / "src" / "protocol.c",
    FIRMWARE / "src" / "commands.c",
    FIRMWARE / "host_tests" / "test_protocol_main.c",
]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The host build of the C protocol with ASan and UBSan."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no host C compiler (gcc) on PATH")
    out = tmp_path_factory.mktemp("protocol") / "test_protocol"
    command = [compiler, "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Wshadow", "-Werror",
               "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
               "-fno-omit-frame-pointer", f"-I{FIRMWARE / 'include'}",
               *map(str, C_SOURCES), "-lm", "-o", str(out)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"host build failed:\n{' '.join(command)}\n{result.stderr}"
    return out


def test_c_selftest(harness: Path) -> None:
    result = subprocess.run([harness, "selftest"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_c_fuzz_100k_frames_each_bad_frame_gets_the_right_error(harness: Path) -> None:
    result = subprocess.run([harness, "fuzz", "100000", "20261121"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    tally = dict(line.split() for line in result.stdout.splitlines())
    assert int(tally["frames"]) == 100000 and int(tally["failures"]) == 0
    for kind in ("valid", "bad_crc", "bad_framing", "too_long", "bad_shape", "payload_length",
                 "bad_argument", "unknown_command", "bad_version", "random_bytes", "duplicate",
                 "internal", "short_frame", "header_length"):
        assert int(tally[kind]) > 0, kind


def test_c_fault_report_is_a_fault_frame(harness: Path) -> None:
    result = subprocess.run([harness, "fault"], capture_output=True, timeout=30)
    [frame] = p.FrameDecoder().feed(result.stdout)
    assert (frame.code, frame.seq) == (Reply.FAULT, 0)
    assert p.decode_reply(frame) == p.FaultEvent(0x08001234, 0xFFFFFFF9, 0x400, 0x40000000)


def test_c_sources_never_allocate() -> None:
    for path in C_SOURCES[:2]:
        text = path.read_text()
        for word in ("malloc", "calloc", "realloc", "free("):
            assert word not in text, f"{path.name} uses {word}"


def _requests(rng: random.Random) -> list[tuple[int, bytes]]:
    """A mix of good and bad commands for the stub target (4 x 2 window)."""
    window = lambda rows, cols: p.Window(  # noqa: E731
        InferMode.PREPROCESSED, np.array([[rng.randrange(-127, 128) for _ in range(cols)]
                                          for _ in range(rows)], dtype=np.int8))
    raw = lambda rows, cols: p.Window(  # noqa: E731
        InferMode.RAW, np.array([[rng.randrange(-100, 100) for _ in range(cols)]
                                 for _ in range(rows)], dtype="<f4"))
    samples = lambda n, ch=2: np.array(  # noqa: E731
        [[rng.randrange(-50, 50) for _ in range(ch)] for _ in range(n)], dtype="<f4")
    return [
        (Command.INFO, b""),
        (Command.INFER, p.infer_request(window(2, 4))),
        (Command.INFER, p.infer_request(window(1, 8))),
        (Command.INFER, p.infer_request(raw(4, 2))),
        (Command.INFER, p.infer_request(window(3, 3))),          # BAD_SHAPE
        (Command.INFER, p.infer_request(raw(5, 2))),             # BAD_SHAPE rows
        (Command.INFER, p.infer_request(raw(4, 3))),             # BAD_SHAPE cols
        (Command.INFER, p.infer_request(window(2, 4))[:-1]),     # BAD_LENGTH
        (Command.INFER, b"\x07\x00\x02\x00\x04\x00" + bytes(8)),  # BAD_ARGUMENT mode
        (Command.INFER, p.infer_request(p.Window(InferMode.PREPROCESSED,
                                                 np.full((1, 8), -128, np.int8)))),  # INTERNAL
        (Command.STREAM, p.stream_request(samples(3), vote=0, reset=True)),
        (Command.STREAM, p.stream_request(samples(11), vote=3)),
        (Command.STREAM, p.stream_request(samples(20), vote=5)),
        (Command.STREAM, p.stream_request(samples(2, 3))),        # BAD_SHAPE channels
        (Command.STREAM, p.stream_request(samples(1), vote=40)),  # BAD_ARGUMENT vote
        (Command.BENCH, p.bench_request(3, window(2, 4))),
        (Command.BENCH, p.bench_request(2, raw(4, 2))),
        (Command.BENCH, p.bench_request(0, window(2, 4))),        # BAD_ARGUMENT runs
        (Command.RESET, b""),
        (Command.RESET, b"x"),                                    # BAD_LENGTH
        (Command.STREAM, p.stream_request(samples(9), vote=2)),
        (0x42, b"hello"),                                         # UNKNOWN_COMMAND
    ]


def _comparable(reply: p.AnyReply) -> object:
    """A reply with cycle counts left out (the C stub and the fake count differently)."""
    if isinstance(reply, p.InferReply):
        return ("infer", reply.scores.tolist(), reply.predicted, reply.mode)
    if isinstance(reply, p.StreamReply):
        return ("stream", reply.position, reply.vote,
                [(x.position, x.predicted, x.voted, x.score) for x in reply.predictions])
    if isinstance(reply, p.BenchReply):
        return ("bench", reply.runs, reply.mode, reply.predicted)
    return reply


def _exchange(send, requests: list[tuple[int, bytes]]) -> list[object]:
    """Send each request (plus garbage and a retry) and decode the replies."""
    decoder = p.FrameDecoder()
    out: list[object] = []
    for seq, (code, payload) in enumerate(requests, start=1):
        wire = p.encode_frame(code, seq, payload)
        frames = [f for f in decoder.feed(send(b"\x55\x66" + wire)) if isinstance(f, p.Frame)]
        retry = [f for f in decoder.feed(send(wire)) if isinstance(f, p.Frame)]
        assert [f.seq for f in frames] == [0, seq], frames  # garbage error, then the reply
        assert retry == frames[1:], "a duplicate must get the cached reply"
        assert p.decode_reply(frames[0]).error is ErrorCode.BAD_FRAMING
        out.append(_comparable(p.decode_reply(frames[1])))
    return out


def test_c_board_and_python_fake_board_answer_alike(harness: Path) -> None:
    process = subprocess.Popen([harness, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        import os
        import select

        def send_to_c(data: bytes) -> bytes:
            process.stdin.write(data)
            process.stdin.flush()
            received = b""
            while True:  # wait up to 2 s for the first byte, then while bytes keep coming
                ready, _, _ = select.select([process.stdout], [], [], 0.05 if received else 2.0)
                if not ready:
                    return received
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    return received
                received += chunk

        boot = p.FrameDecoder().feed(send_to_c(b""))
        assert isinstance(p.decode_reply(boot[0]), p.BootEvent)
        fake = FakeBoard(stub_info(), StubPreprocessor(), StubModel())
        fake.boot()
        requests = _requests(random.Random(11))
        from_c = _exchange(send_to_c, requests)
        from_python = _exchange(fake.handle_bytes, requests)
    finally:
        process.stdin.close()
        process.wait(timeout=10)
    assert process.returncode == 0
    for index, (c, py) in enumerate(zip(from_c, from_python)):
        assert c == py, f"request {index} ({requests[index][0]!r}): C {c} != Python {py}"
    errors = [r.error for r in from_c if isinstance(r, p.ErrorReply)]
    assert set(errors) == {ErrorCode.BAD_SHAPE, ErrorCode.BAD_LENGTH, ErrorCode.BAD_ARGUMENT,
                           ErrorCode.INTERNAL, ErrorCode.UNKNOWN_COMMAND}


def _expected_live_answer(payload: bytes) -> object:
    """What a board without a front end answers to a LIVE payload (the C check order)."""
    size = spec.LIVE_REQUEST.size
    if len(payload) < size:
        return (ErrorCode.BAD_LENGTH, size, len(payload))
    action, vote, gain, flags, units = struct.unpack_from(spec.LIVE_REQUEST.format, payload)
    (units_bits,) = struct.unpack_from("<I", payload, spec.LIVE_REQUEST.offset("units_per_volt"))
    if action > LiveAction.START:
        return (ErrorCode.BAD_ARGUMENT, int(LiveAction.START), action)
    if vote > spec.MAX_VOTE:
        return (ErrorCode.BAD_ARGUMENT, spec.MAX_VOTE, vote)
    if gain != 0 and gain not in spec.LIVE_GAINS:
        return (ErrorCode.BAD_ARGUMENT, 12, gain)
    if flags:
        return (ErrorCode.BAD_ARGUMENT, 0, flags)
    if not 0.0 <= units <= 3.0e38:
        return (ErrorCode.BAD_ARGUMENT, 0, units_bits)
    if len(payload) != size:
        return (ErrorCode.BAD_LENGTH, size, len(payload))
    if action == LiveAction.STOP:
        return p.LiveReply(LiveAction.STOP, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0)
    return (ErrorCode.AFE_ABSENT, 0x92, 0)  # the port has no front end


def test_c_board_checks_every_live_request(harness: Path) -> None:
    """2000 LIVE payloads, good and bad, through the sanitised C dispatcher."""
    rng = random.Random(4)
    payloads = []
    for _ in range(2000):
        units = rng.choice([0.0, 1e6, 2000.0, -1.0, float("nan"), float("inf"), 3.4e38])
        payload = struct.pack(spec.LIVE_REQUEST.format, rng.choice([0, 1, 1, 2, 255]),
                              rng.choice([0, 3, 31, 32]), rng.choice([0, 0, 6, 12, 5, 255]),
                              rng.choice([0, 0, 0, 1]), units)
        length = rng.choice([8, 8, 8, 8, 0, 3, 7, 9, 20])
        payloads.append((payload + bytes(rng.randrange(256) for _ in range(12)))[:length])
    stream = b"".join(p.encode_frame(Command.LIVE, seq, payload)
                      for seq, payload in enumerate(payloads, start=1))
    process = subprocess.run([harness, "serve"], input=stream, capture_output=True, timeout=60)
    assert process.returncode == 0, process.stderr
    frames = [f for f in p.FrameDecoder().feed(process.stdout) if isinstance(f, p.Frame)]
    assert isinstance(p.decode_reply(frames[0]), p.BootEvent)
    answers = frames[1:]
    assert [f.seq for f in answers] == list(range(1, len(payloads) + 1))
    seen = set()
    for frame, payload in zip(answers, payloads):
        reply = p.decode_reply(frame)
        got = (reply.error, reply.expected, reply.got) if isinstance(reply, p.ErrorReply) else reply
        assert got == _expected_live_answer(payload), payload.hex()
        seen.add(got[0] if isinstance(got, tuple) else "stop")
    assert seen == {ErrorCode.BAD_LENGTH, ErrorCode.BAD_ARGUMENT, ErrorCode.AFE_ABSENT, "stop"}


def _mutations(rng: random.Random, count: int) -> list[bytes]:
    """Valid requests damaged in assorted ways, and plain noise."""
    requests = _requests(rng)
    out = []
    for index in range(count):
        code, payload = requests[rng.randrange(len(requests))]
        wire = bytearray(p.encode_frame(code, index % 0xFFFF + 1, payload))
        kind = rng.randrange(6)
        if kind == 0:  # flip one bit inside the frame
            at = rng.randrange(1, len(wire) - 1)
            wire[at] ^= 1 << rng.randrange(8)
        elif kind == 1:  # lose the tail
            wire = wire[:rng.randrange(2, len(wire))] + b"\x00"
        elif kind == 2:  # a stray byte
            wire.insert(rng.randrange(1, len(wire) - 1), rng.randrange(256))
        elif kind == 3:  # noise
            wire = bytearray(rng.randrange(256) for _ in range(rng.randrange(1, 60))) + b"\x00"
        elif kind == 4:  # noise with many delimiters
            wire = bytearray(rng.choice((0, 1, 2, 255)) for _ in range(rng.randrange(1, 30)))
        out.append(bytes(wire))  # kind 5: intact
    return out


def _replies(data: bytes) -> list[object]:
    return [(f.seq, _comparable(p.decode_reply(f)))
            for f in p.FrameDecoder().feed(data) if isinstance(f, p.Frame)]


def test_damaged_frames_get_the_same_answers_from_c_and_python(harness: Path) -> None:
    chunks = _mutations(random.Random(5), 400)
    stream = b"".join(chunks) + b"\x00"
    process = subprocess.run([harness, "serve"], input=stream, capture_output=True, timeout=60)
    assert process.returncode == 0, process.stderr
    fake = FakeBoard(stub_info(), StubPreprocessor(), StubModel())
    from_python = fake.boot() + fake.handle_bytes(stream)
    c_replies, py_replies = _replies(process.stdout), _replies(from_python)
    assert len(c_replies) > 300
    assert c_replies == py_replies
    kinds = {r.error for _, r in c_replies if isinstance(r, p.ErrorReply)}
    assert {ErrorCode.BAD_CRC, ErrorCode.BAD_FRAMING, ErrorCode.BAD_LENGTH} <= kinds


def test_python_decoder_and_fake_board_survive_noise() -> None:
    rng = random.Random(9)
    fake = FakeBoard(stub_info(), StubPreprocessor(), StubModel())
    decoder = p.FrameDecoder()
    for _ in range(300):
        noise = bytes(rng.choice((0, rng.randrange(256))) for _ in range(rng.randrange(1, 200)))
        decoder.feed(noise)
        for frame in p.FrameDecoder().feed(fake.handle_bytes(noise) + b"\x00"):
            assert isinstance(frame, p.Frame)  # the board only ever sends good frames
            assert isinstance(p.decode_reply(frame), p.ErrorReply)
