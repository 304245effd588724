"""Encoding and decoding of myoedge frames and payloads, built from the spec.

The byte layouts come from :mod:`myoedge.host.protocol_spec`; this module
only turns them into typed Python values and back. The host client and the
in-process fake board both use it, so a test of one is a test of the codec
both sides share.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Iterator, Union

import numpy as np

from myoedge.host import protocol_spec as spec
from myoedge.host.protocol_spec import (
    CycleUnit,
    ErrorCode,
    InferMode,
    Layout,
    LiveAction,
    Reply,
)


class ProtocolError(Exception):
    """Bytes or values that break the protocol; the message names what."""

    def __init__(self, message: str, error: ErrorCode | None = None,
                 expected: int = 0, got: int = 0) -> None:
        super().__init__(message)
        self.error = error
        self.expected = expected
        self.got = got


# --------------------------------------------------------------------------
# CRC and COBS
# --------------------------------------------------------------------------

def crc16(data: bytes, crc: int = spec.CRC_INIT) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (bitwise, like the firmware's)."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ spec.CRC_POLY) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data``: the result holds no 0x00 byte."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
            continue
        block.append(byte)
        if len(block) == spec.COBS_BLOCK:
            out.append(spec.COBS_BLOCK + 1)
            out += block
            block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Undo :func:`cobs_encode`; raises :class:`ProtocolError` (BAD_FRAMING)."""
    out = bytearray()
    index = 0
    while index < len(data):
        code = data[index]
        if code == 0:
            raise ProtocolError("COBS: 0x00 inside a frame", ErrorCode.BAD_FRAMING, 0,
                                len(data))
        end = index + code
        if end > len(data):
            raise ProtocolError(
                f"COBS: block of {code - 1} bytes at offset {index} runs past the "
                f"frame end ({len(data)} bytes)", ErrorCode.BAD_FRAMING, 0, len(data))
        out += data[index + 1:end]
        index = end
        if code != spec.COBS_BLOCK + 1 and index < len(data):
            out.append(0)
    return bytes(out)


# --------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    """A decoded frame: header fields and payload."""

    code: int
    seq: int
    payload: bytes = b""
    version: int = spec.PROTOCOL_VERSION


def frame_bytes(code: int, seq: int, payload: bytes = b"",
                version: int = spec.PROTOCOL_VERSION) -> bytes:
    """Header + payload + CRC, before COBS (what the CRC protects)."""
    if not 0 <= seq <= 0xFFFF:
        raise ValueError(f"sequence number {seq} does not fit 16 bits")
    if len(payload) > 0xFFFF:
        raise ValueError(f"payload of {len(payload)} bytes does not fit the length field")
    body = struct.pack(spec.HEADER_FORMAT, version, code, seq, len(payload)) + payload
    return body + struct.pack(spec.CRC_FORMAT, crc16(body))


def encode_frame(code: int, seq: int, payload: bytes = b"",
                 version: int = spec.PROTOCOL_VERSION) -> bytes:
    """The bytes on the wire: 0x00, COBS(header | payload | CRC), 0x00."""
    return b"\x00" + cobs_encode(frame_bytes(code, seq, payload, version)) + b"\x00"


def parse_frame(decoded: bytes) -> Frame:
    """Check length, CRC, version and length field of a COBS-decoded frame.

    The checks run in the firmware's order; a failure raises
    :class:`ProtocolError` carrying the ErrorCode, expected and got values a
    board would answer with.
    """
    minimum = spec.HEADER_SIZE + spec.CRC_SIZE
    if len(decoded) < minimum:
        raise ProtocolError(
            f"frame of {len(decoded)} bytes is shorter than header + CRC ({minimum})",
            ErrorCode.BAD_LENGTH, minimum, len(decoded))
    body, (received,) = decoded[:-spec.CRC_SIZE], struct.unpack(
        spec.CRC_FORMAT, decoded[-spec.CRC_SIZE:])
    computed = crc16(body)
    if computed != received:
        raise ProtocolError(
            f"CRC mismatch: computed 0x{computed:04X}, frame says 0x{received:04X}",
            ErrorCode.BAD_CRC, computed, received)
    version, code, seq, length = struct.unpack_from(spec.HEADER_FORMAT, body)
    if version != spec.PROTOCOL_VERSION:
        raise ProtocolError(
            f"frame speaks protocol version {version}, this side speaks "
            f"{spec.PROTOCOL_VERSION}", ErrorCode.BAD_VERSION, spec.PROTOCOL_VERSION, version)
    actual = len(body) - spec.HEADER_SIZE
    if length != actual:
        raise ProtocolError(
            f"header says {length} payload bytes, frame carries {actual}",
            ErrorCode.BAD_LENGTH, length, actual)
    return Frame(code, seq, bytes(body[spec.HEADER_SIZE:]), version)


@dataclass(frozen=True)
class DecodeFailure:
    """Bytes between two delimiters that were not a valid frame."""

    error: ProtocolError
    raw: bytes


class FrameDecoder:
    """Splits a byte stream into frames; resynchronises at every 0x00.

    Feed it whatever arrives; it returns the frames completed so far and
    :class:`DecodeFailure` records for garbage (never raises on bad input).
    Runs longer than ``max_encoded`` bytes are dropped up to the next
    delimiter.
    """

    def __init__(self, max_encoded: int = spec.MAX_REPLY_ENCODED) -> None:
        self.max_encoded = max_encoded
        self._buffer = bytearray()
        self._overflow = 0
        self.frames = 0
        self.failures = 0
        self.garbage_bytes = 0

    def feed(self, data: bytes) -> list[Union[Frame, DecodeFailure]]:
        """Consume ``data``; return the frames and failures it completed."""
        results: list[Union[Frame, DecodeFailure]] = []
        for byte in data:
            if byte != spec.FRAME_DELIMITER:
                if len(self._buffer) < self.max_encoded:
                    self._buffer.append(byte)
                else:
                    self._overflow += 1
                continue
            result = self._finish()
            if result is not None:
                results.append(result)
        return results

    def _finish(self) -> Union[Frame, DecodeFailure, None]:
        """Decode the bytes collected since the last delimiter."""
        raw, overflow = bytes(self._buffer), self._overflow
        self._buffer.clear()
        self._overflow = 0
        if not raw and not overflow:
            return None
        try:
            if overflow:
                raise ProtocolError(
                    f"{len(raw) + overflow} bytes without a delimiter (limit {self.max_encoded})",
                    ErrorCode.FRAME_TOO_LONG, self.max_encoded, len(raw) + overflow)
            frame = parse_frame(cobs_decode(raw))
        except ProtocolError as error:
            self.failures += 1
            self.garbage_bytes += len(raw) + overflow
            return DecodeFailure(error, raw)
        self.frames += 1
        return frame

    @property
    def pending(self) -> int:
        """Bytes held waiting for a delimiter."""
        return len(self._buffer) + self._overflow


# --------------------------------------------------------------------------
# Payload helpers
# --------------------------------------------------------------------------

def _pack(layout: Layout, **values: object) -> bytes:
    """Pack the fixed part of ``layout``; missing fields are 0."""
    return struct.pack(layout.format, *(values.get(f.name, 0) for f in layout.fields))


def _unpack(layout: Layout, payload: bytes, what: str) -> dict[str, object]:
    """Unpack the fixed part of ``layout`` or raise BAD_LENGTH naming ``what``."""
    if len(payload) < layout.size:
        raise ProtocolError(
            f"{what}: payload of {len(payload)} bytes, fixed part needs {layout.size}",
            ErrorCode.BAD_LENGTH, layout.size, len(payload))
    values = struct.unpack_from(layout.format, payload)
    return {f.name: v for f, v in zip(layout.fields, values)}


def _expect_tail(payload: bytes, layout: Layout, tail: int, what: str) -> bytes:
    """The variable tail after ``layout``, which must be exactly ``tail`` bytes."""
    expected = layout.size + tail
    if len(payload) != expected:
        raise ProtocolError(
            f"{what}: payload of {len(payload)} bytes, its fields imply {expected}",
            ErrorCode.BAD_LENGTH, expected, len(payload))
    return payload[layout.size:]


def predicted_class(scores: np.ndarray) -> int:
    """Index of the first largest score (the protocol's definition)."""
    return int(np.argmax(scores))


def majority_vote(history: list[int]) -> int:
    """The protocol's vote: most frequent class; ties go to the latest."""
    counts: dict[int, int] = {}
    for label in history:
        counts[label] = counts.get(label, 0) + 1
    best = max(counts.values())
    for label in reversed(history):
        if counts[label] == best:
            return label
    raise ValueError("majority_vote of an empty history")


# --------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """A window as INFER and BENCH carry it."""

    mode: InferMode
    values: np.ndarray
    """int8 (PREPROCESSED) or float32 (RAW), shape (rows, cols)."""

    @classmethod
    def from_array(cls, window: np.ndarray, preprocessed: bool) -> "Window":
        """Shape any array to (rows, cols): rows = first axis, cols = the rest."""
        array = np.asarray(window)
        if array.ndim == 0:
            raise ValueError("a window needs at least one dimension")
        if array.ndim == 1:
            array = array.reshape(1, -1)
        array = array.reshape(array.shape[0], -1)
        if preprocessed:
            if array.dtype != np.int8:
                if not np.issubdtype(array.dtype, np.integer) or array.min(initial=0) < -128 \
                        or array.max(initial=0) > 127:
                    raise ValueError(
                        f"a preprocessed window must hold int8 values, got {array.dtype}")
                array = array.astype(np.int8)
            return cls(InferMode.PREPROCESSED, array)
        return cls(InferMode.RAW, array.astype("<f4"))

    def to_payload(self) -> bytes:
        """WINDOW layout + values."""
        rows, cols = self.values.shape
        data = self.values.astype(np.int8 if self.mode == InferMode.PREPROCESSED else "<f4")
        return _pack(spec.WINDOW, mode=int(self.mode), rows=rows, cols=cols) + data.tobytes()

    @classmethod
    def from_payload(cls, payload: bytes, what: str = "window") -> "Window":
        """Parse a WINDOW layout and its values (the board's side)."""
        fields = _unpack(spec.WINDOW, payload, what)
        mode = int(fields["mode"])
        if mode not in (InferMode.PREPROCESSED, InferMode.RAW):
            raise ProtocolError(f"{what}: unknown mode {mode}", ErrorCode.BAD_ARGUMENT,
                                max(InferMode), mode)
        rows, cols = int(fields["rows"]), int(fields["cols"])
        size = 1 if mode == InferMode.PREPROCESSED else 4
        tail = _expect_tail(payload, spec.WINDOW, rows * cols * size, what)
        dtype = np.int8 if mode == InferMode.PREPROCESSED else np.dtype("<f4")
        return cls(InferMode(mode), np.frombuffer(tail, dtype=dtype).reshape(rows, cols))


def infer_request(window: Window) -> bytes:
    """INFER payload."""
    return window.to_payload()


def stream_request(samples: np.ndarray, vote: int = 0, reset: bool = False) -> bytes:
    """STREAM payload for a chunk of raw samples (n_samples x n_channels)."""
    array = np.asarray(samples, dtype="<f4")
    if array.ndim != 2:
        raise ValueError(f"a stream chunk must be samples x channels, got shape {array.shape}")
    return _pack(spec.STREAM_REQUEST, flags=spec.STREAM_FLAG_RESET if reset else 0,
                 vote=vote, n_samples=array.shape[0], n_channels=array.shape[1]) \
        + array.tobytes()


def bench_request(runs: int, window: Window) -> bytes:
    """BENCH payload: the run count, then a WINDOW."""
    return struct.pack("<H", runs) + window.to_payload()


def _live_action(value: int, what: str) -> LiveAction:
    """A LIVE action code from the wire, or a BAD_ARGUMENT ProtocolError naming it."""
    action = int(value)
    if action not in LiveAction._value2member_map_:
        raise ProtocolError(f"{what}: unknown action {action}", ErrorCode.BAD_ARGUMENT, max(LiveAction), action)
    return LiveAction(action)


@dataclass(frozen=True)
class LiveRequest:
    """LIVE: start or stop live mode (the board's own front end)."""

    action: LiveAction
    vote: int = 0
    gain: int = 0
    units_per_volt: float = 0.0

    def to_payload(self) -> bytes:
        """LIVE_REQUEST layout; checks the ranges the board checks."""
        if not 0 <= self.vote <= spec.MAX_VOTE:
            raise ValueError(f"vote must be 0..{spec.MAX_VOTE}, got {self.vote}")
        if self.gain != 0 and self.gain not in spec.LIVE_GAINS:
            raise ValueError(f"gain must be 0 or one of {spec.LIVE_GAINS}, got {self.gain}")
        if not 0.0 <= self.units_per_volt <= 3.0e38:  # what the board accepts (NaN fails too)
            raise ValueError(f"units_per_volt must be 0 .. 3e38, got {self.units_per_volt}")
        return _pack(spec.LIVE_REQUEST, action=int(self.action), vote=self.vote, gain=self.gain,
                     units_per_volt=float(self.units_per_volt))

    @classmethod
    def from_payload(cls, payload: bytes) -> "LiveRequest":
        """Parse a LIVE request (the board's side; ranges are not checked here)."""
        _expect_tail(payload, spec.LIVE_REQUEST, 0, "LIVE request")
        f = _unpack(spec.LIVE_REQUEST, payload, "LIVE request")
        return cls(_live_action(f["action"], "LIVE request"), int(f["vote"]), int(f["gain"]),
                   float(f["units_per_volt"]))


def live_request(action: LiveAction, vote: int = 0, gain: int = 0,
                 units_per_volt: float = 0.0) -> bytes:
    """LIVE payload."""
    return LiveRequest(action, vote, gain, units_per_volt).to_payload()


# --------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------

def _text(payload: bytes, offset: int, what: str) -> tuple[str, int]:
    """One u8-length-prefixed string at ``offset``; returns it and the next offset."""
    if offset >= len(payload):
        raise ProtocolError(f"{what}: payload ends before the string", ErrorCode.BAD_LENGTH,
                            offset + 1, len(payload))
    length = payload[offset]
    end = offset + 1 + length
    if length > spec.MAX_STRING or end > len(payload):
        raise ProtocolError(f"{what}: string of {length} bytes at offset {offset} does not fit",
                            ErrorCode.BAD_LENGTH, min(len(payload), spec.MAX_STRING), length)
    return payload[offset + 1:end].decode("utf-8", errors="replace"), end


@dataclass(frozen=True)
class InfoReply:
    """What a board runs (INFO)."""

    protocol_version: int
    firmware_version: str
    clock_hz: int
    flash_used: int
    flash_size: int
    ram_used: int
    ram_size: int
    input_size: int
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    output_size: int
    raw_window: int
    raw_channels: int
    hop: int
    cycle_unit: CycleUnit
    max_vote: int
    max_bench_runs: int
    max_request_payload: int
    max_stream_samples: int
    board: str
    core: str
    model_name: str
    model_hash: str
    build: str

    def to_payload(self) -> bytes:
        """INFO_REPLY layout + the five strings."""
        major, minor, patch = (int(p) for p in self.firmware_version.split("."))
        values = {f.name: getattr(self, f.name, 0) for f in spec.INFO_REPLY.fields}
        values.update(fw_major=major, fw_minor=minor, fw_patch=patch,
                      cycle_unit=int(self.cycle_unit))
        out = _pack(spec.INFO_REPLY, **values)
        for name in spec.INFO_STRINGS:
            text = getattr(self, name).encode()[: spec.MAX_STRING]
            out += bytes([len(text)]) + text
        return out

    @classmethod
    def from_payload(cls, payload: bytes) -> "InfoReply":
        """Parse an INFO reply."""
        fields = _unpack(spec.INFO_REPLY, payload, "INFO reply")
        offset = spec.INFO_REPLY.size
        texts = {}
        for name in spec.INFO_STRINGS:
            texts[name], offset = _text(payload, offset, f"INFO reply {name}")
        if offset != len(payload):
            raise ProtocolError(f"INFO reply: {len(payload) - offset} bytes after the strings",
                                ErrorCode.BAD_LENGTH, offset, len(payload))
        version = f"{fields.pop('fw_major')}.{fields.pop('fw_minor')}.{fields.pop('fw_patch')}"
        fields["cycle_unit"] = CycleUnit(fields["cycle_unit"])
        return cls(firmware_version=version, **fields, **texts)  # type: ignore[arg-type]


@dataclass(frozen=True)
class StageCycles:
    """Cycle counts of one inference, per stage, with their unit."""

    preprocess: int
    network: int
    total: int
    unit: CycleUnit


@dataclass(frozen=True)
class InferReply:
    """Scores, class and cycles of one window (INFER)."""

    scores: np.ndarray
    predicted: int
    mode: InferMode
    cycles: StageCycles

    def to_payload(self) -> bytes:
        """INFER_REPLY layout + int8 scores."""
        scores = np.asarray(self.scores, dtype=np.int8)
        return _pack(spec.INFER_REPLY, predicted=self.predicted, n_scores=scores.size,
                     mode=int(self.mode), cycle_unit=int(self.cycles.unit),
                     preprocess_cycles=self.cycles.preprocess,
                     network_cycles=self.cycles.network,
                     total_cycles=self.cycles.total) + scores.tobytes()

    @classmethod
    def from_payload(cls, payload: bytes) -> "InferReply":
        """Parse an INFER reply."""
        f = _unpack(spec.INFER_REPLY, payload, "INFER reply")
        tail = _expect_tail(payload, spec.INFER_REPLY, int(f["n_scores"]), "INFER reply")
        scores = np.frombuffer(tail, dtype=np.int8).copy()
        return cls(scores, int(f["predicted"]), InferMode(f["mode"]), StageCycles(
            int(f["preprocess_cycles"]), int(f["network_cycles"]), int(f["total_cycles"]),
            CycleUnit(f["cycle_unit"])))


@dataclass(frozen=True)
class StreamPrediction:
    """One hop's prediction in a STREAM reply."""

    position: int
    predicted: int
    voted: int
    score: int
    preprocess_cycles: int
    network_cycles: int


@dataclass(frozen=True)
class StreamReply:
    """Predictions completed by one STREAM chunk."""

    position: int
    vote: int
    unit: CycleUnit
    predictions: tuple[StreamPrediction, ...] = field(default_factory=tuple)

    def to_payload(self) -> bytes:
        """STREAM_REPLY layout + the predictions."""
        out = _pack(spec.STREAM_REPLY, position=self.position,
                    n_predictions=len(self.predictions), cycle_unit=int(self.unit),
                    vote=self.vote)
        for p in self.predictions:
            out += _pack(spec.STREAM_PREDICTION, position=p.position, predicted=p.predicted,
                         voted=p.voted, score=p.score, preprocess_cycles=p.preprocess_cycles,
                         network_cycles=p.network_cycles)
        return out

    @classmethod
    def from_payload(cls, payload: bytes) -> "StreamReply":
        """Parse a STREAM reply."""
        f = _unpack(spec.STREAM_REPLY, payload, "STREAM reply")
        count = int(f["n_predictions"])
        tail = _expect_tail(payload, spec.STREAM_REPLY, count * spec.STREAM_PREDICTION.size,
                            "STREAM reply")
        predictions = []
        for index in range(count):
            values = struct.unpack_from(spec.STREAM_PREDICTION.format, tail,
                                        index * spec.STREAM_PREDICTION.size)
            p = dict(zip((x.name for x in spec.STREAM_PREDICTION.fields), values))
            p.pop("reserved")
            predictions.append(StreamPrediction(**p))  # type: ignore[arg-type]
        return cls(int(f["position"]), int(f["vote"]), CycleUnit(f["cycle_unit"]),
                   tuple(predictions))


@dataclass(frozen=True)
class StageStats:
    """Min, median (lower middle) and max of one stage over BENCH runs."""

    min: int
    median: int
    max: int

    @classmethod
    def of(cls, values: list[int]) -> "StageStats":
        """The protocol's statistics of ``values``."""
        ordered = sorted(values)
        return cls(ordered[0], ordered[(len(ordered) - 1) // 2], ordered[-1])


@dataclass(frozen=True)
class BenchReply:
    """Cycle statistics of N inferences (BENCH)."""

    runs: int
    mode: InferMode
    unit: CycleUnit
    predicted: int
    preprocess: StageStats
    network: StageStats
    total: StageStats

    def to_payload(self) -> bytes:
        """BENCH_REPLY layout."""
        values: dict[str, object] = dict(runs=self.runs, mode=int(self.mode),
                                         cycle_unit=int(self.unit), predicted=self.predicted)
        for stage in ("preprocess", "network", "total"):
            stats = getattr(self, stage)
            values.update({f"{stage}_min": stats.min, f"{stage}_median": stats.median,
                           f"{stage}_max": stats.max})
        return _pack(spec.BENCH_REPLY, **values)

    @classmethod
    def from_payload(cls, payload: bytes) -> "BenchReply":
        """Parse a BENCH reply."""
        _expect_tail(payload, spec.BENCH_REPLY, 0, "BENCH reply")
        f = _unpack(spec.BENCH_REPLY, payload, "BENCH reply")
        stages = {stage: StageStats(int(f[f"{stage}_min"]), int(f[f"{stage}_median"]),
                                    int(f[f"{stage}_max"]))
                  for stage in ("preprocess", "network", "total")}
        return cls(int(f["runs"]), InferMode(f["mode"]), CycleUnit(f["cycle_unit"]),
                   int(f["predicted"]), **stages)


@dataclass(frozen=True)
class ResetReply:
    """RESET acknowledged."""

    def to_payload(self) -> bytes:
        """Empty."""
        return b""

    @classmethod
    def from_payload(cls, payload: bytes) -> "ResetReply":
        """Parse a RESET reply (empty)."""
        _expect_tail(payload, spec.EMPTY, 0, "RESET reply")
        return cls()


@dataclass(frozen=True)
class LiveReply:
    """Live mode started (its settings) or stopped (its final counters)."""

    action: LiveAction
    chips: int
    gain: int
    vote: int
    channels: int
    decimation: int
    chip_rate_hz: int
    model_rate_hz: int
    units_per_volt: float
    predictions: int
    frames_read: int
    overruns: int
    frame_errors: int

    def to_payload(self) -> bytes:
        """LIVE_REPLY layout."""
        values = {f.name: getattr(self, f.name) for f in spec.LIVE_REPLY.fields}
        values["action"] = int(self.action)
        return _pack(spec.LIVE_REPLY, **values)

    @classmethod
    def from_payload(cls, payload: bytes) -> "LiveReply":
        """Parse a LIVE reply."""
        _expect_tail(payload, spec.LIVE_REPLY, 0, "LIVE reply")
        f = _unpack(spec.LIVE_REPLY, payload, "LIVE reply")
        f["action"] = _live_action(f["action"], "LIVE reply")
        return cls(**f)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LivePrediction:
    """One prediction the board made from its own front end (unsolicited)."""

    seq: int
    position: int
    predicted: int
    voted: int
    scores: np.ndarray
    unit: CycleUnit
    chips: int
    acquire_cycles: int
    preprocess_cycles: int
    network_cycles: int
    lead_off_p: int
    lead_off_n: int
    frames_read: int
    overruns: int
    frame_errors: int

    def to_payload(self) -> bytes:
        """LIVE_PREDICTION layout + int8 scores."""
        scores = np.asarray(self.scores, dtype=np.int8)
        values = {f.name: getattr(self, f.name, 0) for f in spec.LIVE_PREDICTION.fields}
        values.update(n_scores=scores.size, cycle_unit=int(self.unit))
        return _pack(spec.LIVE_PREDICTION, **values) + scores.tobytes()

    @classmethod
    def from_payload(cls, payload: bytes) -> "LivePrediction":
        """Parse a LIVE_PREDICTION frame."""
        f = _unpack(spec.LIVE_PREDICTION, payload, "LIVE_PREDICTION")
        tail = _expect_tail(payload, spec.LIVE_PREDICTION, int(f.pop("n_scores")),
                            "LIVE_PREDICTION")
        unit = int(f.pop("cycle_unit"))
        if unit not in CycleUnit._value2member_map_:
            raise ProtocolError(f"LIVE_PREDICTION: unknown cycle unit {unit}",
                                ErrorCode.BAD_ARGUMENT, max(CycleUnit), unit)
        return cls(scores=np.frombuffer(tail, dtype=np.int8).copy(), unit=CycleUnit(unit),
                   **f)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, object]:
        """Plain values for a JSON line (``myoedge board live --out``)."""
        out: dict[str, object] = {name: getattr(self, name) for name in (
            "seq", "position", "predicted", "voted", "chips", "acquire_cycles",
            "preprocess_cycles", "network_cycles", "lead_off_p", "lead_off_n", "frames_read",
            "overruns", "frame_errors")}
        out["unit"] = self.unit.name.lower()
        out["scores"] = [int(v) for v in self.scores]
        return out


@dataclass(frozen=True)
class ErrorReply:
    """The board refused a frame."""

    error: ErrorCode | int
    command: int
    expected: int
    got: int

    def to_payload(self) -> bytes:
        """ERROR_REPLY layout."""
        return _pack(spec.ERROR_REPLY, error=int(self.error), command=self.command,
                     expected=self.expected, got=self.got)

    @classmethod
    def from_payload(cls, payload: bytes) -> "ErrorReply":
        """Parse an ERROR reply (unknown error codes kept as int)."""
        _expect_tail(payload, spec.ERROR_REPLY, 0, "ERROR reply")
        f = _unpack(spec.ERROR_REPLY, payload, "ERROR reply")
        code = int(f["error"])
        error: ErrorCode | int = ErrorCode(code) if code in ErrorCode._value2member_map_ else code
        return cls(error, int(f["command"]), int(f["expected"]), int(f["got"]))

    def describe(self) -> str:
        """One line naming the error, the command and the numbers."""
        name = self.error.name if isinstance(self.error, ErrorCode) else f"error {self.error}"
        try:
            command = spec.Command(self.command).name
        except ValueError:
            command = f"code 0x{self.command:02X}"
        return f"{name} for {command} (expected {self.expected}, got {self.got})"


@dataclass(frozen=True)
class BootEvent:
    """The firmware (re)started."""

    protocol_version: int
    reset_cause: int

    def to_payload(self) -> bytes:
        """BOOT_EVENT layout."""
        return _pack(spec.BOOT_EVENT, protocol_version=self.protocol_version,
                     reset_cause=self.reset_cause)

    @classmethod
    def from_payload(cls, payload: bytes) -> "BootEvent":
        """Parse a BOOT event."""
        _expect_tail(payload, spec.BOOT_EVENT, 0, "BOOT event")
        return cls(**_unpack(spec.BOOT_EVENT, payload, "BOOT event"))  # type: ignore[arg-type]


@dataclass(frozen=True)
class FaultEvent:
    """The firmware hit a fault handler."""

    pc: int
    lr: int
    cfsr: int
    hfsr: int

    def to_payload(self) -> bytes:
        """FAULT_EVENT layout."""
        return _pack(spec.FAULT_EVENT, pc=self.pc, lr=self.lr, cfsr=self.cfsr, hfsr=self.hfsr)

    @classmethod
    def from_payload(cls, payload: bytes) -> "FaultEvent":
        """Parse a FAULT event."""
        _expect_tail(payload, spec.FAULT_EVENT, 0, "FAULT event")
        return cls(**_unpack(spec.FAULT_EVENT, payload, "FAULT event"))  # type: ignore[arg-type]


AnyReply = Union[InfoReply, InferReply, StreamReply, BenchReply, ResetReply, LiveReply,
                 ErrorReply, BootEvent, FaultEvent, LivePrediction]

REPLY_TYPES: dict[int, type] = {
    Reply.INFO: InfoReply,
    Reply.INFER: InferReply,
    Reply.STREAM: StreamReply,
    Reply.BENCH: BenchReply,
    Reply.RESET: ResetReply,
    Reply.LIVE: LiveReply,
    Reply.LIVE_PREDICTION: LivePrediction,
    Reply.ERROR: ErrorReply,
    Reply.BOOT: BootEvent,
    Reply.FAULT: FaultEvent,
}


def decode_reply(frame: Frame) -> AnyReply:
    """The typed reply a board frame carries; ProtocolError if it is not one."""
    if frame.version != spec.PROTOCOL_VERSION:
        raise ProtocolError(
            f"board speaks protocol version {frame.version}, host speaks "
            f"{spec.PROTOCOL_VERSION}", ErrorCode.BAD_VERSION, spec.PROTOCOL_VERSION,
            frame.version)
    kind = REPLY_TYPES.get(frame.code)
    if kind is None:
        raise ProtocolError(f"unknown reply code 0x{frame.code:02X}",
                            ErrorCode.UNKNOWN_COMMAND, 0, frame.code)
    return kind.from_payload(frame.payload)


def reply_code(reply: AnyReply) -> int:
    """The code a typed reply is sent with."""
    for code, kind in REPLY_TYPES.items():
        if isinstance(reply, kind):
            return int(code)
    raise TypeError(f"not a reply: {type(reply).__name__}")


def iter_frames(decoder: FrameDecoder, data: bytes) -> Iterator[Frame]:
    """Only the good frames of ``data`` (convenience for tests and tools)."""
    for item in decoder.feed(data):
        if isinstance(item, Frame):
            yield item
