"""A board in Python: the firmware's reply side, from the same spec.

:class:`FakeBoard` answers frames the way ``firmware/src/commands.c`` does
(same checks in the same order, same error numbers, the same cache that
answers a retried frame without running it again), around a preprocessor
and a model you hand it. :class:`FakeBoardServer` serves it on a loopback
TCP port, so a client reaches it with ``socket://127.0.0.1:PORT`` like a
QEMU board. Knobs on the board inject faults: lost replies, garbage on the
line, a hung board, a reboot.

:class:`StubPreprocessor` and :class:`StubModel` restate the stubs of
``firmware/host_tests/test_protocol_main.c``, so the C dispatcher and this
class can be compared reply by reply.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, Protocol

import numpy as np

from myoedge.host import protocol as p
from myoedge.host import protocol_spec as spec
from myoedge.host.protocol_spec import Command, CycleUnit, ErrorCode, InferMode, Reply


class Preprocessor(Protocol):
    """Streaming preprocessing as the firmware's port exposes it."""

    def reset(self) -> None:
        """Forget all history."""

    def push(self, sample: np.ndarray) -> Optional[np.ndarray]:
        """One raw sample in; the int8 network input when a hop completes."""


class ModelFailure(Exception):
    """The model returned a non-zero status (the board answers INTERNAL)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"model returned status {status}")
        self.status = status


Model = Callable[[np.ndarray], np.ndarray]
"""int8 network input (flat) -> int8 scores; raises ModelFailure."""


# ---- the stub target shared with the C host test -----------------------------

STUB_WINDOW, STUB_CHANNELS, STUB_HOP, STUB_CLASSES = 4, 2, 2, 5


def stub_info() -> p.InfoReply:
    """What the C test harness's stub port reports."""
    return p.InfoReply(
        protocol_version=spec.PROTOCOL_VERSION, firmware_version="0.1.0", clock_hz=1_000_000,
        flash_used=1000, flash_size=2000, ram_used=300, ram_size=400,
        input_size=STUB_WINDOW * STUB_CHANNELS, input_scale=0.5, input_zero_point=-3,
        output_scale=0.25, output_zero_point=1, output_size=STUB_CLASSES,
        raw_window=STUB_WINDOW, raw_channels=STUB_CHANNELS, hop=STUB_HOP,
        cycle_unit=CycleUnit.INSTRUCTIONS, max_vote=spec.MAX_VOTE,
        max_bench_runs=spec.MAX_BENCH_RUNS, max_request_payload=spec.MAX_REQUEST_PAYLOAD,
        max_stream_samples=spec.MAX_STREAM_SAMPLES, board="host-stub", core="host",
        model_name="stub-model", model_hash="0123456789abcdef", build="test")


class StubPreprocessor:
    """Ring of the last 4 samples x 2 channels, rectified and quantised
    (scale 0.5, zero point -3); a window every 2 samples once full."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Empty ring, no samples seen."""
        self.ring = np.zeros((STUB_WINDOW, STUB_CHANNELS), dtype=np.float32)
        self.seen = 0

    def push(self, sample: np.ndarray) -> Optional[np.ndarray]:
        """Shift the sample in; a window when a hop completes."""
        self.ring = np.vstack([self.ring[1:], np.asarray(sample, dtype=np.float32)[None, :]])
        self.seen += 1
        if self.seen < STUB_WINDOW or (self.seen - STUB_WINDOW) % STUB_HOP:
            return None
        scaled = np.floor(np.abs(self.ring) / np.float32(0.5) + np.float32(0.5)) - np.float32(3)
        scaled = np.where(np.isnan(scaled), -3, scaled)
        return np.clip(scaled, -128, 127).astype(np.int8).ravel()


class StubModel:
    """scores[k] = clamp(k + sum_i x[i] * ((i + k) % 3 - 1)); status 3 when
    every input is -128."""

    def __init__(self, n_classes: int = STUB_CLASSES) -> None:
        self.n_classes = n_classes

    def __call__(self, window: np.ndarray) -> np.ndarray:
        x = np.asarray(window, dtype=np.int64).ravel()
        if np.all(x == -128):
            raise ModelFailure(3)
        index = np.arange(x.size)
        scores = [k + int(np.sum(x * ((index + k) % 3 - 1))) for k in range(self.n_classes)]
        return np.clip(scores, -128, 127).astype(np.int8)


# ---- the board ---------------------------------------------------------------

@dataclass
class _Outcome(Exception):
    """A refused command: the ERROR reply's numbers."""

    error: ErrorCode
    expected: int = 0
    got: int = 0


def _clamp32(value: int) -> int:
    return min(int(value), 0xFFFFFFFF)


class FakeBoard:
    """The firmware's dispatcher in Python.

    Cycle counts are made up but deterministic: ``preprocess_cost`` per raw
    sample, ``network_cost`` per inference, ``overhead`` per command.
    """

    preprocess_cost = 50
    network_cost = 1000
    overhead = 30

    def __init__(self, info: p.InfoReply, preprocessor: Preprocessor, model: Model) -> None:
        self.info = info
        self.preprocessor = preprocessor
        self.model = model
        self.decoder = p.FrameDecoder(max_encoded=spec.MAX_REQUEST_ENCODED)
        self.cached: tuple[int, int, int, bytes] | None = None  # seq, code, crc, reply
        self.position = 0
        self.history: list[int] = []
        self.commands_run = 0
        # fault injection
        self.drop_replies = 0
        """Swallow this many of the next replies (a lost reply)."""
        self.garbage = b""
        """Bytes sent (once) before the next reply."""
        self.hung = False
        """Answer nothing at all."""
        self.corrupt_requests = 0
        """Flip a bit in this many of the next request frames (line noise)."""

    # -- life cycle -------------------------------------------------------------

    def boot(self, reset_cause: int = 0) -> bytes:
        """Power-on: forget everything, return the BOOT frame."""
        self.decoder = p.FrameDecoder(max_encoded=spec.MAX_REQUEST_ENCODED)
        self.cached = None
        self._reset_stream()
        return p.encode_frame(Reply.BOOT, 0, p.BootEvent(spec.PROTOCOL_VERSION, reset_cause)
                              .to_payload())

    def handle_bytes(self, data: bytes) -> bytes:
        """Take bytes from the link; return every byte the board sends back."""
        if self.corrupt_requests and len(data) > 4:
            data = self._corrupt(data)
        out = b""
        for item in self.decoder.feed(data):
            out += self._answer(item)
        return out

    def _corrupt(self, data: bytes) -> bytes:
        """Flip one bit of a non-delimiter byte near the middle of ``data``."""
        for index in range(len(data) // 2, len(data)):
            if data[index] not in (0x00, 0x01):
                self.corrupt_requests -= 1
                return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]
        return data

    # -- framing ------------------------------------------------------------------

    def _answer(self, item: p.Frame | p.DecodeFailure) -> bytes:
        if isinstance(item, p.DecodeFailure):
            seq, command = self._trusted_header(item)
            reply = p.ErrorReply(item.error.error or ErrorCode.BAD_FRAMING, command,
                                 item.error.expected, item.error.got)
            return self._send(p.encode_frame(Reply.ERROR, seq, reply.to_payload()))
        crc = p.crc16(p.frame_bytes(item.code, item.seq, item.payload)[:-spec.CRC_SIZE])
        if self.cached and self.cached[:3] == (item.seq, item.code, crc):
            return self._send(self.cached[3])
        code, payload = self._execute(item)
        wire = p.encode_frame(code, item.seq, payload)
        self.cached = (item.seq, item.code, crc, wire)
        return self._send(wire)

    @staticmethod
    def _trusted_header(failure: p.DecodeFailure) -> tuple[int, int]:
        """Sequence number and code, echoed only when the CRC was good."""
        if failure.error.error not in (ErrorCode.BAD_VERSION, ErrorCode.BAD_LENGTH):
            return 0, 0
        decoded = p.cobs_decode(failure.raw)
        if len(decoded) < spec.HEADER_SIZE + spec.CRC_SIZE:
            return 0, 0
        return int.from_bytes(decoded[2:4], "little"), decoded[1]

    def _send(self, wire: bytes) -> bytes:
        if self.hung:
            return b""
        if self.drop_replies:
            self.drop_replies -= 1
            return b""
        garbage, self.garbage = self.garbage, b""
        return garbage + wire

    # -- commands -----------------------------------------------------------------

    def _execute(self, frame: p.Frame) -> tuple[int, bytes]:
        self.commands_run += 1
        handlers = {
            Command.INFO: self._info,
            Command.INFER: self._infer,
            Command.STREAM: self._stream,
            Command.BENCH: self._bench,
            Command.RESET: self._reset,
        }
        try:
            handler = handlers.get(frame.code)
            if handler is None:
                raise _Outcome(ErrorCode.UNKNOWN_COMMAND, 0, frame.code)
            return frame.code | spec.REPLY_BIT, handler(frame.payload)
        except _Outcome as outcome:
            reply = p.ErrorReply(outcome.error, frame.code, _clamp32(outcome.expected),
                                 _clamp32(outcome.got))
            return Reply.ERROR, reply.to_payload()

    def _info(self, payload: bytes) -> bytes:
        if payload:
            raise _Outcome(ErrorCode.BAD_LENGTH, 0, len(payload))
        return self.info.to_payload()

    def _window(self, payload: bytes, offset: int) -> tuple[InferMode, np.ndarray]:
        """Parse and check a WINDOW at ``offset`` (commands.c's parse_window)."""
        if len(payload) < offset + spec.WINDOW.size:
            raise _Outcome(ErrorCode.BAD_LENGTH, offset + spec.WINDOW.size, len(payload))
        mode, flags = payload[offset], payload[offset + 1]
        rows = int.from_bytes(payload[offset + 2:offset + 4], "little")
        cols = int.from_bytes(payload[offset + 4:offset + 6], "little")
        if mode > InferMode.RAW:
            raise _Outcome(ErrorCode.BAD_ARGUMENT, InferMode.RAW, mode)
        if flags:
            raise _Outcome(ErrorCode.BAD_ARGUMENT, 0, flags)
        size = 4 if mode == InferMode.RAW else 1
        expected = offset + spec.WINDOW.size + rows * cols * size
        if expected != len(payload):
            raise _Outcome(ErrorCode.BAD_LENGTH, expected, len(payload))
        info = self.info
        if mode == InferMode.PREPROCESSED:
            if rows * cols != info.input_size:
                raise _Outcome(ErrorCode.BAD_SHAPE, info.input_size, rows * cols)
            data = np.frombuffer(payload, dtype=np.int8, offset=offset + spec.WINDOW.size)
        else:
            if rows != info.raw_window:
                raise _Outcome(ErrorCode.BAD_SHAPE, info.raw_window, rows)
            if cols != info.raw_channels:
                raise _Outcome(ErrorCode.BAD_SHAPE, info.raw_channels, cols)
            data = np.frombuffer(payload, dtype="<f4", offset=offset + spec.WINDOW.size)
        return InferMode(mode), data.reshape(rows, cols)

    def _invoke(self, window: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(self.model(window), dtype=np.int8)
        except ModelFailure as failure:
            raise _Outcome(ErrorCode.INTERNAL, 0, failure.status) from None

    def _run(self, mode: InferMode, data: np.ndarray) -> tuple[np.ndarray, int]:
        """One inference; returns scores and preprocessing cycles."""
        if mode == InferMode.PREPROCESSED:
            return self._invoke(data.ravel()), 0
        self._reset_stream()
        window = None
        for sample in data:
            window = self.preprocessor.push(sample)
        if window is None:
            self._reset_stream()
            raise _Outcome(ErrorCode.INTERNAL, 1, 0)
        try:
            scores = self._invoke(window)
        finally:
            self._reset_stream()
        return scores, self.preprocess_cost * len(data)

    def _infer(self, payload: bytes) -> bytes:
        mode, data = self._window(payload, 0)
        scores, preprocess = self._run(mode, data)
        cycles = p.StageCycles(preprocess, self.network_cost,
                               preprocess + self.network_cost + self.overhead,
                               self.info.cycle_unit)
        return p.InferReply(scores, p.predicted_class(scores), mode, cycles).to_payload()

    def _stream(self, payload: bytes) -> bytes:
        layout = spec.STREAM_REQUEST
        if len(payload) < layout.size:
            raise _Outcome(ErrorCode.BAD_LENGTH, layout.size, len(payload))
        flags, vote = payload[0], payload[1]
        n_samples = int.from_bytes(payload[2:4], "little")
        n_channels = int.from_bytes(payload[4:6], "little")
        if flags & ~spec.STREAM_FLAG_RESET & 0xFF:
            raise _Outcome(ErrorCode.BAD_ARGUMENT, spec.STREAM_FLAG_RESET, flags)
        if vote > spec.MAX_VOTE:
            raise _Outcome(ErrorCode.BAD_ARGUMENT, spec.MAX_VOTE, vote)
        expected = layout.size + n_samples * n_channels * 4
        if expected != len(payload):
            raise _Outcome(ErrorCode.BAD_LENGTH, expected, len(payload))
        if n_channels != self.info.raw_channels:
            raise _Outcome(ErrorCode.BAD_SHAPE, self.info.raw_channels, n_channels)
        if n_samples > spec.MAX_STREAM_SAMPLES:
            raise _Outcome(ErrorCode.BAD_SHAPE, spec.MAX_STREAM_SAMPLES, n_samples)
        if flags & spec.STREAM_FLAG_RESET:
            self._reset_stream()
        samples = np.frombuffer(payload, dtype="<f4", offset=layout.size).reshape(
            n_samples, n_channels)
        predictions = []
        preprocess = 0
        for sample in samples:
            window = self.preprocessor.push(sample)
            preprocess += self.preprocess_cost
            self.position += 1
            if window is None:
                continue
            scores = self._invoke(window)
            label = p.predicted_class(scores)
            self.history = (self.history + [label])[-spec.MAX_VOTE:]
            voted = p.majority_vote(self.history[-vote:]) if vote > 1 else label
            predictions.append(p.StreamPrediction(self.position, label, voted, int(scores[label]),
                                                  preprocess, self.network_cost))
            preprocess = 0
        return p.StreamReply(self.position, vote, self.info.cycle_unit,
                             tuple(predictions)).to_payload()

    def _bench(self, payload: bytes) -> bytes:
        if len(payload) < spec.BENCH_REQUEST.size:
            raise _Outcome(ErrorCode.BAD_LENGTH, spec.BENCH_REQUEST.size, len(payload))
        runs = int.from_bytes(payload[:2], "little")
        if runs == 0 or runs > spec.MAX_BENCH_RUNS:
            raise _Outcome(ErrorCode.BAD_ARGUMENT, spec.MAX_BENCH_RUNS, runs)
        mode, data = self._window(payload, spec.BENCH_REQUEST.offset("mode"))
        pre, net, total = [], [], []
        scores = np.zeros(0, dtype=np.int8)
        for _ in range(runs):
            scores, preprocess = self._run(mode, data)
            pre.append(preprocess)
            net.append(self.network_cost)
            total.append(preprocess + self.network_cost + self.overhead)
        return p.BenchReply(runs, mode, self.info.cycle_unit, p.predicted_class(scores),
                            p.StageStats.of(pre), p.StageStats.of(net),
                            p.StageStats.of(total)).to_payload()

    def _reset(self, payload: bytes) -> bytes:
        if payload:
            raise _Outcome(ErrorCode.BAD_LENGTH, 0, len(payload))
        self._reset_stream()
        return b""

    def _reset_stream(self) -> None:
        self.preprocessor.reset()
        self.position = 0
        self.history = []


# ---- served over TCP -------------------------------------------------------------

class FakeBoardServer:
    """Serves a :class:`FakeBoard` on 127.0.0.1; connect to :attr:`url`.

    One connection at a time; a new connection is a new "cable" to the same
    board (state is kept, as for a real board whose USB link dropped).
    """

    boot_delay_s = 0.1

    def __init__(self, board: FakeBoard, send_boot: bool = True) -> None:
        self.board = board
        self.send_boot = send_boot
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._connection: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-board", daemon=True)
        self.received = bytearray()

    @property
    def url(self) -> str:
        """pyserial URL of the fake board."""
        return f"socket://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "FakeBoardServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and close every socket."""
        self._stop.set()
        self.disconnect()
        self._listener.close()
        self._thread.join(timeout=5)

    def disconnect(self) -> None:
        """Drop the current connection (a pulled cable)."""
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._connection.close()
                self._connection = None

    def reboot(self, reset_cause: int = 1) -> None:
        """Reset the board; it announces itself with a BOOT frame."""
        self.push(self.board.boot(reset_cause))

    def push(self, data: bytes) -> None:
        """Send unsolicited bytes to the host (noise, events)."""
        with self._lock:
            if self._connection is not None:
                self._connection.sendall(data)

    def _serve(self) -> None:
        self._listener.settimeout(0.05)
        first = True
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            connection.settimeout(0.05)
            with self._lock:
                self._connection = connection
            if first and self.send_boot:
                # A firmware takes a moment to boot; pyserial's socket:// open
                # also drops whatever arrived before it finished connecting.
                time.sleep(self.boot_delay_s)
                self.push(self.board.boot())
            first = False
            self._pump(connection)

    def _pump(self, connection: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                data = connection.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            if not data:
                return
            self.received += data
            with self._lock:
                reply = self.board.handle_bytes(data)
                if reply and self._connection is connection:
                    try:
                        connection.sendall(reply)
                    except OSError:
                        return
