"""The myoedge wire protocol, defined once.

Everything the host and the firmware must agree on lives here: the framing,
the checksum, the header, the command and reply codes, the error codes, the
payload layout of every message and the size limits. Two renderers turn this
definition into the other copies, so they never drift:

* :func:`render_c_header` writes ``firmware/include/myoedge_protocol.h``
  (constants, codes and byte offsets the C codec and dispatcher use);
* :func:`render_markdown` writes ``docs/PROTOCOL.md``.

Tests fail when either committed file differs from what these functions
render; regenerate both with ``python scripts/gen_protocol_header.py``.

Choices and why:

* **COBS framing with a 0x00 delimiter**, and a delimiter on both sides of
  every frame. COBS has a bounded overhead (one byte per 254) so buffer sizes
  are known at compile time, and a receiver resynchronises at the next 0x00
  whatever garbage came before (a boot banner, line noise, half a frame).
* **CRC-16/CCITT-FALSE** (poly 0x1021, init 0xFFFF, no reflection, no final
  xor) over header and payload: cheap on a Cortex-M without tables, and it
  detects every burst error up to 16 bits, which covers the single flipped
  bytes a UART produces.
* **Little-endian fixed layouts** described as :mod:`struct` formats; the C
  side reads them byte by byte at generated offsets (no packed structs).
* **Sequence numbers** chosen by the host and echoed by the board. A frame
  that repeats the previous frame exactly (same sequence number, code and
  CRC) is answered with the cached reply and not executed again, so a host
  may retry a command whose reply got lost without side effects.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

PROTOCOL_VERSION = 1
"""Bumped whenever any layout or meaning below changes. Additions that leave
every existing layout and meaning as they were (a new command, a new reply or
error code) keep the version: a board that predates them answers the new
command UNKNOWN_COMMAND, which a host reports as "not supported"."""

FRAME_DELIMITER = 0x00
COBS_BLOCK = 254
"""COBS inserts one code byte per run of at most 254 non-zero bytes."""

HEADER_FORMAT = "<BBHH"
"""version, code, sequence number, payload length."""
HEADER_SIZE = struct.calcsize(HEADER_FORMAT)
CRC_FORMAT = "<H"
CRC_SIZE = struct.calcsize(CRC_FORMAT)
CRC_POLY = 0x1021
CRC_INIT = 0xFFFF
CRC_CHECK = 0x29B1
"""CRC of the ASCII bytes ``123456789``: the catalogue's check value."""

MAX_REQUEST_PAYLOAD = 8192
"""Largest payload a host may send (a raw float32 window of 128 x 16 fits)."""
MAX_REPLY_PAYLOAD = 4096
"""Largest payload a board sends."""
MAX_STRING = 47
"""Longest text field (board, core, model name, hash, build) in bytes."""
MAX_STREAM_SAMPLES = 128
"""Most samples in one STREAM chunk (each may complete a hop)."""
MAX_VOTE = 31
"""Longest majority-vote history a STREAM command may ask for."""
MAX_BENCH_RUNS = 128
"""Most inferences one BENCH command may ask for."""


def cobs_max_encoded(size: int) -> int:
    """Bytes that COBS needs for ``size`` bytes of data (without delimiters)."""
    return size + size // COBS_BLOCK + 1


MAX_REQUEST_FRAME = HEADER_SIZE + MAX_REQUEST_PAYLOAD + CRC_SIZE
MAX_REPLY_FRAME = HEADER_SIZE + MAX_REPLY_PAYLOAD + CRC_SIZE
MAX_REQUEST_ENCODED = cobs_max_encoded(MAX_REQUEST_FRAME)
"""Receive buffer a board needs: the encoded bytes between two delimiters."""
MAX_REPLY_ENCODED = cobs_max_encoded(MAX_REPLY_FRAME)


class Command(IntEnum):
    """Codes a host sends."""

    INFO = 0x01
    INFER = 0x02
    STREAM = 0x03
    BENCH = 0x04
    RESET = 0x05
    LIVE = 0x06


REPLY_BIT = 0x80
"""A reply's code is its command's code with this bit set."""


class Reply(IntEnum):
    """Codes a board sends."""

    INFO = 0x81
    INFER = 0x82
    STREAM = 0x83
    BENCH = 0x84
    RESET = 0x85
    LIVE = 0x86
    BOOT = 0xB0
    LIVE_PREDICTION = 0xB1
    FAULT = 0xFE
    ERROR = 0xFF


REPLY_DOCS: dict[IntEnum, str] = {
    Reply.BOOT: 'Unsolicited, sequence number 0: the firmware has (re)started.',
    Reply.FAULT: 'Unsolicited, sequence number 0: the firmware hit a fault handler.',
    Reply.LIVE_PREDICTION: (
        'Unsolicited, header sequence number 0, while live mode runs: one prediction '
        'from the board\'s own front end (its own sequence number is in the payload).'
    ),
}


class ErrorCode(IntEnum):
    """Why a board refused a frame; carried in an ERROR reply."""

    BAD_CRC = 1
    BAD_LENGTH = 2
    UNKNOWN_COMMAND = 3
    BAD_SHAPE = 4
    BUSY = 5
    INTERNAL = 6
    BAD_VERSION = 7
    BAD_ARGUMENT = 8
    FRAME_TOO_LONG = 9
    BAD_FRAMING = 10
    AFE_ABSENT = 11
    AFE_RATE = 12
    AFE_CONFIG = 13


ERROR_DOCS: dict[IntEnum, str] = {
    ErrorCode.BAD_CRC: 'CRC mismatch (expected: CRC computed, got: CRC received).',
    ErrorCode.BAD_LENGTH: (
        'Frame shorter than header + CRC, header length differs from the bytes received, '
        'or a payload whose size does not match its own fields (expected, got: byte '
        'counts).'
    ),
    ErrorCode.UNKNOWN_COMMAND: 'The code is not a command (got: the code).',
    ErrorCode.BAD_SHAPE: (
        'A window or chunk whose dimensions do not fit the model or the preprocessing '
        '(expected, got: element, row or channel counts).'
    ),
    ErrorCode.BUSY: (
        'The board cannot take commands now (reserved; live mode does not use it: any '
        'command ends live mode and then runs).'
    ),
    ErrorCode.INTERNAL: (
        'The firmware failed on a valid command (e.g. the model returned an error, or '
        'preprocessing produced no window).'
    ),
    ErrorCode.BAD_VERSION: "Protocol version differs (expected: the board's, got: the frame's).",
    ErrorCode.BAD_ARGUMENT: (
        'A field out of range: mode, flags, vote length, run count (expected: the limit, '
        'got: the value).'
    ),
    ErrorCode.FRAME_TOO_LONG: (
        'More bytes than the receive buffer holds before a delimiter (expected: the '
        'limit).'
    ),
    ErrorCode.BAD_FRAMING: 'The bytes between two delimiters are not valid COBS.',
    ErrorCode.AFE_ABSENT: (
        'LIVE start: no ADS1298 answered (expected: the ID register of an ADS1298, 0x92; '
        'got: what was read; a board without a front end answers got 0).'
    ),
    ErrorCode.AFE_RATE: (
        "LIVE start: the chip cannot sample at the model's rate nor at an integer "
        "multiple of it (expected: 0, got: the model's rate in Hz)."
    ),
    ErrorCode.AFE_CONFIG: (
        'LIVE start: a register read back differently from what was written (expected: '
        '0, got: 0), or the driver refused the settings.'
    ),
}


LINK_ERRORS = frozenset(
    {ErrorCode.BAD_CRC, ErrorCode.FRAME_TOO_LONG, ErrorCode.BAD_FRAMING}
)
"""Errors that mean the bytes were damaged on the way: the board cannot
trust the sequence number (it answers with 0, as for a frame shorter than
header + CRC) and a host should resend."""


class InferMode(IntEnum):
    """What the window in an INFER or BENCH command holds."""

    PREPROCESSED = 0
    RAW = 1


MODE_DOCS: dict[IntEnum, str] = {
    InferMode.PREPROCESSED: 'int8 values: the quantised model input, fed to the network as is.',
    InferMode.RAW: (
        "float32 samples x channels in the recording's units: the firmware resets its "
        'streaming preprocessor, feeds the window through it and runs the network on the '
        'window that results (and leaves the stream reset, as RESET does).'
    ),
}


class CycleUnit(IntEnum):
    """What a board's cycle counts count."""

    CYCLES = 0
    INSTRUCTIONS = 1
    TICKS = 2


UNIT_DOCS: dict[IntEnum, str] = {
    CycleUnit.CYCLES: 'Core clock cycles (DWT CYCCNT on real silicon).',
    CycleUnit.INSTRUCTIONS: 'Instructions executed (SysTick under QEMU -icount).',
    CycleUnit.TICKS: 'Timer ticks of an unspecified clock (a board without either).',
}


STREAM_FLAG_RESET = 0x01
"""STREAM flag: reset the preprocessor and the vote history first."""


class LiveAction(IntEnum):
    """What a LIVE command asks for."""

    STOP = 0
    START = 1


LIVE_ACTION_DOCS: dict[IntEnum, str] = {
    LiveAction.STOP: (
        'Leave live mode (SDATAC, START low); the reply carries the final counters. '
        'Stopping when live mode is off is not an error (the counters of the last run).'
    ),
    LiveAction.START: (
        'Configure the front end from the model manifest and start live mode (a running '
        'live mode is stopped first, and its counters restart at 0).'
    ),
}

LIVE_MAX_CHANNELS = 16
"""Channels two daisy-chained ADS1298 give (8 per chip)."""
LIVE_DEFAULT_GAIN = 6
"""PGA gain when the LIVE request leaves it 0."""
LIVE_GAINS = (1, 2, 3, 4, 6, 8, 12)
"""PGA gains the ADS1298 offers."""


@dataclass(frozen=True)
class Field:
    """One fixed-size field of a payload layout."""

    name: str
    fmt: str
    doc: str

    @property
    def size(self) -> int:
        """Bytes the field takes on the wire."""
        return struct.calcsize("<" + self.fmt)


@dataclass(frozen=True)
class Layout:
    """The fixed part of a payload, followed by an optional variable tail."""

    name: str
    fields: tuple[Field, ...]
    tail: str = ""

    @property
    def format(self) -> str:
        """The :mod:`struct` format of the fixed part."""
        return "<" + "".join(field.fmt for field in self.fields)

    @property
    def size(self) -> int:
        """Bytes of the fixed part."""
        return struct.calcsize(self.format)

    def offset(self, name: str) -> int:
        """Byte offset of field ``name`` from the start of the payload."""
        position = 0
        for field in self.fields:
            if field.name == name:
                return position
            position += field.size
        raise KeyError(f"layout {self.name} has no field {name!r}")


EMPTY = Layout("empty", ())

HEADER = Layout(
    "header",
    (
        Field("version", "B", "protocol version, PROTOCOL_VERSION"),
        Field("code", "B", "command or reply code"),
        Field("seq", "H", "sequence number chosen by the host, echoed in the reply"),
        Field("length", "H", "payload bytes that follow the header"),
    ),
    "payload (length bytes), then CRC-16/CCITT-FALSE of header + payload as u16",
)

INFO_REPLY = Layout(
    "info_reply",
    (
        Field("protocol_version", "B", "protocol the firmware speaks"),
        Field("fw_major", "B", "firmware version, major"),
        Field("fw_minor", "B", "firmware version, minor"),
        Field("fw_patch", "B", "firmware version, patch"),
        Field("clock_hz", "I", "core clock in Hz"),
        Field("flash_used", "I", "flash bytes used by the image (text + rodata + data)"),
        Field("flash_size", "I", "flash bytes on the board (0: not known)"),
        Field("ram_used", "I", "RAM bytes used statically (data + bss + stack)"),
        Field("ram_size", "I", "RAM bytes on the board (0: not known)"),
        Field("input_size", "I", "int8 elements of the model input (preprocessed window)"),
        Field("input_scale", "f", "model input quantisation scale"),
        Field("input_zero_point", "i", "model input quantisation zero point"),
        Field("output_scale", "f", "model output quantisation scale"),
        Field("output_zero_point", "i", "model output quantisation zero point"),
        Field("output_size", "H", "int8 scores the model outputs (classes)"),
        Field("raw_window", "H", "samples in a raw window"),
        Field("raw_channels", "H", "channels per raw sample"),
        Field("hop", "H", "samples between two predictions in STREAM"),
        Field("cycle_unit", "B", "CycleUnit of every cycle count"),
        Field("max_vote", "B", "longest vote history the board keeps"),
        Field("max_bench_runs", "H", "most runs one BENCH may ask for"),
        Field("max_request_payload", "H", "largest request payload accepted"),
        Field("max_stream_samples", "H", "most samples in one STREAM chunk"),
    ),
    "five strings, each a u8 length (<= MAX_STRING) then that many UTF-8 bytes: "
    "board, core, model_name, model_hash, build",
)
INFO_STRINGS = ("board", "core", "model_name", "model_hash", "build")

WINDOW = Layout(
    "window",
    (
        Field("mode", "B", "InferMode: 0 preprocessed int8, 1 raw float32"),
        Field("flags", "B", "reserved, 0"),
        Field("rows", "H", "time steps (raw: samples) of the window"),
        Field("cols", "H", "values per time step (raw: channels)"),
    ),
    "rows x cols values, row-major: int8 (PREPROCESSED) or float32 (RAW)",
)
INFER_REQUEST = WINDOW
"""INFER carries a WINDOW and nothing else."""

INFER_REPLY = Layout(
    "infer_reply",
    (
        Field("predicted", "H", "index of the first largest score"),
        Field("n_scores", "H", "number of int8 scores that follow"),
        Field("mode", "B", "InferMode of the request"),
        Field("cycle_unit", "B", "CycleUnit of the counts below"),
        Field("reserved", "H", "0"),
        Field("preprocess_cycles", "I", "preprocessing (0 for PREPROCESSED)"),
        Field("network_cycles", "I", "network invocation"),
        Field("total_cycles", "I", "whole command, from frame received to reply built"),
    ),
    "n_scores int8 scores",
)

STREAM_REQUEST = Layout(
    "stream_request",
    (
        Field("flags", "B", "STREAM_FLAG_RESET: reset preprocessing and votes first"),
        Field("vote", "B", "majority vote over the last K predictions (0 or 1: none)"),
        Field("n_samples", "H", "samples in this chunk (<= MAX_STREAM_SAMPLES)"),
        Field("n_channels", "H", "channels per sample (the board's raw_channels)"),
    ),
    "n_samples x n_channels float32, sample-major",
)

STREAM_REPLY = Layout(
    "stream_reply",
    (
        Field("position", "I", "samples consumed since the last stream reset"),
        Field("n_predictions", "H", "predictions that follow (hops completed in this chunk)"),
        Field("cycle_unit", "B", "CycleUnit of the counts below"),
        Field("vote", "B", "vote length used"),
    ),
    "n_predictions x stream_prediction",
)

STREAM_PREDICTION = Layout(
    "stream_prediction",
    (
        Field("position", "I", "samples consumed when this hop fired"),
        Field("predicted", "H", "index of the first largest score"),
        Field("voted", "H", "majority vote over the last K predictions"),
        Field("score", "b", "the predicted class's int8 score"),
        Field("reserved", "B", "0"),
        Field("preprocess_cycles", "I", "preprocessing of the samples of this hop"),
        Field("network_cycles", "I", "network invocation"),
    ),
)

BENCH_REQUEST = Layout(
    "bench_request",
    (Field("runs", "H", "inferences to time, 1..MAX_BENCH_RUNS"),) + WINDOW.fields,
    WINDOW.tail,
)

BENCH_REPLY = Layout(
    "bench_reply",
    (
        Field("runs", "H", "inferences timed"),
        Field("mode", "B", "InferMode of the request"),
        Field("cycle_unit", "B", "CycleUnit of the counts below"),
        Field("predicted", "H", "class of the last run"),
        Field("reserved", "H", "0"),
        Field("preprocess_min", "I", "preprocessing, fewest"),
        Field("preprocess_median", "I", "preprocessing, median (lower middle)"),
        Field("preprocess_max", "I", "preprocessing, most"),
        Field("network_min", "I", "network, fewest"),
        Field("network_median", "I", "network, median (lower middle)"),
        Field("network_max", "I", "network, most"),
        Field("total_min", "I", "one whole run, fewest"),
        Field("total_median", "I", "one whole run, median (lower middle)"),
        Field("total_max", "I", "one whole run, most"),
    ),
)

LIVE_REQUEST = Layout(
    "live_request",
    (
        Field("action", "B", "LiveAction: 0 stop, 1 start"),
        Field("vote", "B", "majority vote over the last K predictions (0 or 1: none)"),
        Field("gain", "B", "ADS1298 PGA gain 1, 2, 3, 4, 6, 8 or 12 (0: 6)"),
        Field("flags", "B", "reserved, 0"),
        Field("units_per_volt", "f", "model input units per volt at the electrodes "
              "0 .. 3e38 (0: the manifest's MYE_AFE_UNITS_PER_VOLT, else 1e6, microvolts)"),
    ),
)

LIVE_REPLY = Layout(
    "live_reply",
    (
        Field("action", "B", "LiveAction of the request"),
        Field("chips", "B", "ADS1298 chips in use: 1 (<= 8 channels) or 2 (daisy chain)"),
        Field("gain", "B", "PGA gain in use"),
        Field("vote", "B", "vote length in use"),
        Field("channels", "H", "model channels fed from the front end"),
        Field("decimation", "H", "chip frames averaged into one model-rate sample"),
        Field("chip_rate_hz", "I", "the chip's data rate"),
        Field("model_rate_hz", "I", "the model's sampling rate (chip rate / decimation)"),
        Field("units_per_volt", "f", "scaling in use"),
        Field("predictions", "I", "LIVE_PREDICTION frames sent since the start"),
        Field("frames_read", "I", "chip frames read since the start"),
        Field("overruns", "I", "chip frames lost: a /DRDY before the last frame was read"),
        Field("frame_errors", "I", "chip frames whose status word was not 1100b (dropped)"),
    ),
)

LIVE_PREDICTION = Layout(
    "live_prediction",
    (
        Field("seq", "I", "1, 2, 3 ... since LIVE start: a gap means lost frames"),
        Field("position", "I", "model-rate samples since LIVE start when this hop fired"),
        Field("predicted", "H", "index of the first largest score"),
        Field("voted", "H", "majority vote over the last K predictions"),
        Field("n_scores", "H", "number of int8 scores that follow"),
        Field("cycle_unit", "B", "CycleUnit of the counts below"),
        Field("chips", "B", "ADS1298 chips in use"),
        Field("acquire_cycles", "I", "checking, scaling and averaging this hop's chip frames "
              "(the SPI reads run in the /DRDY interrupt and are not counted)"),
        Field("preprocess_cycles", "I", "preprocessing of this hop's samples"),
        Field("network_cycles", "I", "network invocation"),
        Field("lead_off_p", "H", "LOFF_STATP bits seen in this hop's frames (bit i: channel i)"),
        Field("lead_off_n", "H", "LOFF_STATN bits seen in this hop's frames (bit i: channel i)"),
        Field("frames_read", "I", "chip frames read since LIVE start"),
        Field("overruns", "I", "chip frames lost since LIVE start (never hidden)"),
        Field("frame_errors", "I", "chip frames dropped for a bad status word since LIVE start"),
    ),
    "n_scores int8 scores",
)

BOOT_EVENT = Layout(
    "boot_event",
    (
        Field("protocol_version", "B", "protocol the firmware speaks"),
        Field("reset_cause", "B", "board-specific reset cause, 0 if unknown"),
    ),
)

FAULT_EVENT = Layout(
    "fault_event",
    (
        Field("pc", "I", "program counter of the faulting instruction"),
        Field("lr", "I", "link register"),
        Field("cfsr", "I", "configurable fault status register"),
        Field("hfsr", "I", "hard fault status register"),
    ),
)

ERROR_REPLY = Layout(
    "error_reply",
    (
        Field("error", "B", "ErrorCode"),
        Field("command", "B", "code of the refused frame, 0 if unreadable"),
        Field("reserved", "H", "0"),
        Field("expected", "I", "what the board expected (see ErrorCode)"),
        Field("got", "I", "what it received"),
    ),
)


@dataclass(frozen=True)
class Message:
    """One command and its reply."""

    command: Command
    request: Layout
    reply: Layout
    doc: str


MESSAGES: tuple[Message, ...] = (
    Message(Command.INFO, EMPTY, INFO_REPLY,
            "What the board runs: firmware, board, core, clock, model, memory use."),
    Message(Command.INFER, INFER_REQUEST, INFER_REPLY,
            "One window through the network (RAW: through preprocessing first)."),
    Message(Command.STREAM, STREAM_REQUEST, STREAM_REPLY,
            "Raw samples into the streaming preprocessor; one prediction per hop."),
    Message(Command.BENCH, BENCH_REQUEST, BENCH_REPLY,
            "The INFER work repeated `runs` times; min/median/max per stage."),
    Message(Command.RESET, EMPTY, EMPTY,
            "Soft reset: preprocessing state, stream position and vote history."),
    Message(Command.LIVE, LIVE_REQUEST, LIVE_REPLY,
            "Start or stop live mode: the board classifies what its own front end "
            "(ADS1298) measures and sends a LIVE_PREDICTION frame every hop."),
)

LAYOUTS: tuple[Layout, ...] = (
    HEADER, INFO_REPLY, WINDOW, INFER_REPLY, STREAM_REQUEST, STREAM_REPLY,
    STREAM_PREDICTION, BENCH_REQUEST, BENCH_REPLY, LIVE_REQUEST, LIVE_REPLY, LIVE_PREDICTION,
    BOOT_EVENT, FAULT_EVENT, ERROR_REPLY,
)
"""Layouts rendered into the C header (INFER's request is WINDOW)."""

MAX_SCORES = 256
"""Most scores an INFER reply may carry (classes)."""

CONSTANTS: tuple[tuple[str, int, str], ...] = (
    ("PROTOCOL_VERSION", PROTOCOL_VERSION, "protocol version in every header"),
    ("FRAME_DELIMITER", FRAME_DELIMITER, "byte that ends (and starts) every frame"),
    ("CRC_SIZE", CRC_SIZE, "bytes of the CRC after the payload"),
    ("CRC_POLY", CRC_POLY, "CRC-16/CCITT-FALSE polynomial"),
    ("CRC_INIT", CRC_INIT, "CRC-16/CCITT-FALSE initial value"),
    ("CRC_CHECK", CRC_CHECK, "CRC of \"123456789\""),
    ("MAX_REQUEST_PAYLOAD", MAX_REQUEST_PAYLOAD, "largest request payload"),
    ("MAX_REPLY_PAYLOAD", MAX_REPLY_PAYLOAD, "largest reply payload"),
    ("MAX_REQUEST_FRAME", MAX_REQUEST_FRAME, "largest decoded request frame"),
    ("MAX_REPLY_FRAME", MAX_REPLY_FRAME, "largest decoded reply frame"),
    ("MAX_REQUEST_ENCODED", MAX_REQUEST_ENCODED, "largest COBS-encoded request"),
    ("MAX_REPLY_ENCODED", MAX_REPLY_ENCODED, "largest COBS-encoded reply"),
    ("MAX_STRING", MAX_STRING, "longest text field"),
    ("MAX_STREAM_SAMPLES", MAX_STREAM_SAMPLES, "most samples per STREAM chunk"),
    ("MAX_VOTE", MAX_VOTE, "longest vote history"),
    ("MAX_BENCH_RUNS", MAX_BENCH_RUNS, "most runs per BENCH"),
    ("MAX_SCORES", MAX_SCORES, "most scores per INFER reply"),
    ("REPLY_BIT", REPLY_BIT, "set in a reply's code"),
    ("STREAM_FLAG_RESET", STREAM_FLAG_RESET, "STREAM flag: reset first"),
    ("LIVE_MAX_CHANNELS", LIVE_MAX_CHANNELS, "most channels live mode reads (two chips)"),
    ("LIVE_DEFAULT_GAIN", LIVE_DEFAULT_GAIN, "PGA gain when LIVE asks for 0"),
)

ENUMS: tuple[tuple[str, type[IntEnum]], ...] = (
    ("CMD", Command),
    ("REPLY", Reply),
    ("ERR", ErrorCode),
    ("MODE", InferMode),
    ("UNIT", CycleUnit),
    ("LIVE", LiveAction),
)


# --------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------

GENERATED_NOTE = (
    "Generated by scripts/gen_protocol_header.py from host/protocol_spec.py. "
    "Do not edit: change the spec and regenerate."
)


def render_c_header() -> str:
    """The C header the firmware includes: constants, codes and offsets."""
    lines = [
        "/* myoedge_protocol.h - the wire protocol, as constants for C.",
        f" * {GENERATED_NOTE}",
        " * Multi-byte fields are little-endian; read them byte by byte at",
        " * the offsets below (MYE_<LAYOUT>_<FIELD>), never through a cast.",
        " */",
        "#ifndef MYOEDGE_PROTOCOL_H",
        "#define MYOEDGE_PROTOCOL_H",
        "",
    ]
    for name, value, doc in CONSTANTS:
        lines.append(f"#define MYE_{name} {value}u /* {doc} */")
    lines.append(f"#define MYE_LIVE_GAIN_COUNT {len(LIVE_GAINS)}u /* PGA gains a LIVE request may ask for */")
    lines.append("#define MYE_LIVE_GAINS { " + ", ".join(f"{g}u" for g in LIVE_GAINS) + " } /* besides 0 (default) */")
    for prefix, enum in ENUMS:
        lines.append("")
        lines.append(f"/* {enum.__name__} */")
        for member in enum:
            lines.append(f"#define MYE_{prefix}_{member.name} {int(member)}u")
    for layout in LAYOUTS:
        upper = layout.name.upper()
        lines.append("")
        lines.append(f"/* {layout.name}: struct '{layout.format}' */")
        for field in layout.fields:
            lines.append(
                f"#define MYE_{upper}_{field.name.upper()} {layout.offset(field.name)}u"
                f" /* {_c_type(field.fmt)}: {field.doc} */"
            )
        lines.append(f"#define MYE_{upper}_SIZE {layout.size}u")
    lines += ["", "#endif /* MYOEDGE_PROTOCOL_H */", ""]
    return "\n".join(lines)


def _c_type(fmt: str) -> str:
    """The C type a struct code stands for."""
    return {
        "B": "uint8_t", "b": "int8_t", "H": "uint16_t", "h": "int16_t",
        "I": "uint32_t", "i": "int32_t", "f": "float32",
    }[fmt]


_INTRO = """\
# myoedge serial protocol

{note}

## Framing

Every frame on the wire, in both directions, is

```
0x00  COBS( header | payload | crc )  0x00
```

* **COBS** (consistent overhead byte stuffing) removes every 0x00 from the
  frame, so 0x00 only ever marks a frame boundary. The overhead is one byte
  per 254 bytes. A delimiter is sent before and after each frame so a
  receiver drops whatever partial garbage came before (a boot banner, line
  noise) and resynchronises at once; empty frames (two delimiters in a row)
  are ignored.
* **Header**: `{header_fmt}` = version (u8, {version}), code (u8), sequence
  number (u16), payload length (u16). Little-endian throughout.
* **CRC**: CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, no
  reflection, no final xor; check value 0x{check:04X} for `123456789`) of the
  header and payload, appended as u16 little-endian.
* **Limits**: request payload <= {max_req} bytes, reply payload <= {max_rep}
  bytes; a board's receive buffer holds {max_req_enc} encoded bytes and a
  longer run without a delimiter is answered FRAME_TOO_LONG.

## Conversation

The host sends a command with a sequence number of its choice; the board
answers with the reply code (command code | 0x80) or ERROR and the same
sequence number. A command frame identical to the previous one (same
sequence number, code and CRC) is not executed again: the board resends the
cached reply, so retrying a command whose reply was lost is safe (STREAM
and RESET change state). The host ignores replies whose sequence number is
not the one it waits for (late answers to earlier tries).

Frames the board cannot trust ({link_errors}, and BAD_LENGTH for a frame
shorter than header + CRC) are answered with sequence number 0, since the
header may be damaged; hosts number their commands 1..65535 (skipping 0 when
they wrap, and starting each session at a random number so that its first
command is not mistaken for a retry of the last session's last one) and
resend a command when an ERROR with sequence number 0 comes back. Other errors echo the sequence number and are final for that command.

The board sends two frames unprompted, with sequence number 0: BOOT when
the firmware starts (the host learns the board reset and that its state is
gone) and FAULT from the fault handler (registers for the post-mortem).

Cycle counts carry their unit (CycleUnit): core cycles on real silicon
(DWT CYCCNT), instructions under QEMU -icount (SysTick), or plain ticks.
"""


def render_markdown() -> str:
    """The protocol document, docs/PROTOCOL.md."""
    out = [_INTRO.format(
        note=f"<!-- {GENERATED_NOTE} -->",
        header_fmt=HEADER_FORMAT,
        version=PROTOCOL_VERSION,
        check=CRC_CHECK,
        max_req=MAX_REQUEST_PAYLOAD,
        max_rep=MAX_REPLY_PAYLOAD,
        max_req_enc=MAX_REQUEST_ENCODED,
        link_errors=", ".join(e.name for e in sorted(LINK_ERRORS)),
    )]
    out.append("## Commands\n")
    out.append("| command | code | request payload | reply | reply payload | what it does |")
    out.append("| --- | --- | --- | --- | --- | --- |")
    for message in MESSAGES:
        reply = Reply(message.command | REPLY_BIT)
        out.append(
            f"| {message.command.name} | 0x{message.command:02X} | {message.request.name} "
            f"| {reply.name} 0x{reply:02X} | {message.reply.name} | {message.doc} |"
        )
    out.append(
        f"| (event) | | | BOOT 0x{Reply.BOOT:02X} | boot_event | Sent once when the firmware starts. |"
    )
    out.append(
        f"| (event) | | | FAULT 0x{Reply.FAULT:02X} | fault_event | Sent by the fault handler. |"
    )
    out.append(
        f"| (event) | | | LIVE_PREDICTION 0x{Reply.LIVE_PREDICTION:02X} | live_prediction "
        "| Sent every hop while live mode runs. |"
    )
    out.append(
        f"| (any) | | | ERROR 0x{Reply.ERROR:02X} | error_reply | The frame was refused. |"
    )
    out.append("\n## Payload layouts\n")
    out.append(
        "Each layout is the fixed part of a payload (Python `struct` format,"
        " little-endian), then its variable tail if any.\n"
    )
    for layout in LAYOUTS:
        out.append(f"### {layout.name} (`{layout.format}`, {layout.size} bytes)\n")
        out.append("| offset | field | type | meaning |")
        out.append("| --- | --- | --- | --- |")
        for field in layout.fields:
            out.append(
                f"| {layout.offset(field.name)} | {field.name} | {_c_type(field.fmt)} | {field.doc} |"
            )
        if layout.tail:
            out.append(f"\nThen: {layout.tail}.")
        out.append("")
    for title, enum, docs in (("Error codes", ErrorCode, ERROR_DOCS),
                              ("Infer modes", InferMode, MODE_DOCS),
                              ("Cycle units", CycleUnit, UNIT_DOCS),
                              ("Live actions", LiveAction, LIVE_ACTION_DOCS)):
        out.append(f"## {title}\n")
        out.append("| name | value | meaning |")
        out.append("| --- | --- | --- |")
        for member in enum:
            out.append(f"| {member.name} | {int(member)} | {docs.get(member, '')} |")
        out.append("")
    out.append("## Limits\n")
    out.append("| name | value | meaning |")
    out.append("| --- | --- | --- |")
    for name, value, doc in CONSTANTS:
        out.append(f"| {name} | {value} | {doc} |")
    out.append("")
    out.append(_SEMANTICS)
    out.append(_WHERE)
    return "\n".join(out)


_SEMANTICS = """\
## Semantics the layouts do not show

* **Predicted class** is the index of the first largest int8 score.
* **Majority vote** (STREAM, vote K >= 2): the class that occurs most often
  among the last K predictions since the last stream reset (fewer at the
  start); a tie goes to the tied class predicted most recently. With K of
  0 or 1 the voted class is the predicted class.
* **Stream position** counts samples since the last reset (STREAM with
  STREAM_FLAG_RESET, RESET, or INFER/BENCH in RAW mode, which use the same
  preprocessor). A prediction's position is the count after the sample that
  completed its hop.
* **Median** in BENCH is the lower middle value of the sorted runs.
* **Shape checks**: PREPROCESSED windows must have rows x cols equal to the
  model's input size (expected, got: element counts); RAW windows must have
  rows = raw_window (expected, got: rows) and cols = raw_channels
  (expected, got: channels); STREAM chunks must have n_channels =
  raw_channels and n_samples <= MAX_STREAM_SAMPLES. A payload whose byte
  count differs from what its own fields imply is BAD_LENGTH.
* **Strings** in INFO are UTF-8, at most MAX_STRING bytes, not terminated.
* **Raw samples** that are NaN or infinite are dropped by the board's
  preprocessor (its state is unchanged); they still count in the stream
  position. Hosts should not send them.
* **Before BOOT** a firmware may print one text line (its banner, e.g.
  `myoedge-fw 0.1.0 board=...`); it is not framed, and receivers skip it as
  garbage at the BOOT frame's leading delimiter. Some emulated UARTs drop
  bytes sent before the firmware enabled them: hosts wait for BOOT (or for
  an answer to INFO) before sending commands.
* **Live mode** (LIVE start): the board configures its ADS1298 front end
  from the model manifest (1 chip for <= 8 model channels, 2 daisy-chained
  for <= 16; the chip's data rate is the model's rate when the chip has it,
  else the lowest chip rate that is an integer multiple of it, and that many
  frames are averaged into one model-rate sample; a rate with no such
  multiple is AFE_RATE), enters RDATAC and starts conversions. Every
  model-rate sample goes through the same streaming preprocessing as
  STREAM (reset at the start; the /DRDY interrupt reads each frame into a
  ring the main loop drains, so a long inference loses no frame), a hop runs
  the network, and the board sends
  a LIVE_PREDICTION frame (header sequence number 0, its own `seq` 1, 2, 3
  ... in the payload). Lead-off bits, frames read, overruns (a frame that
  could not be read before the next one replaced it, or that found the ring
  full: it is lost and counted)
  and frames dropped for a bad status word are reported in every
  prediction, never hidden. LIVE stop, RESET or any other command leaves
  live mode (START low, SDATAC) before that command runs; the LIVE reply to
  a stop carries the final counters. On emulated boards the front end is a
  software model of the chip on the SPI bus (a deterministic signal, /DRDY
  from a timer), see docs/FIRMWARE.md.
* **Check order** for every command: fixed part present (BAD_LENGTH), fields
  in range (BAD_ARGUMENT), byte count against the fields (BAD_LENGTH), shape
  (BAD_SHAPE); nothing runs before all checks pass.
"""

_WHERE = """\
## Where each side lives

| piece | file |
| --- | --- |
| this definition | `host/protocol_spec.py` (renders this file and `firmware/include/myoedge_protocol.h`: `python scripts/gen_protocol_header.py`) |
| Python codec, typed replies | `host/protocol.py` |
| host client | `host/client.py`: `open_board("socket://...", timeout=2.0)`, `"/dev/ttyACM0"`, `"rfc2217://..."` or `"qemu:BOARD:ELF"`; `BoardClient.info()`, `.infer(window, preprocessed=False)`, `.stream(samples, chunk=None, vote=0)`, `.bench(runs, window=None)`, `.reset()`, `.live(seconds=None, vote=0, gain=0, units_per_volt=0.0)` (a generator of `LivePrediction`) |
| Python board (tests, benches without hardware) | `host/fake_board.py` |
| C frame codec | `firmware/src/protocol.c` |
| C dispatcher | `firmware/src/commands.c`, its port to the board, preprocessing and model in `firmware/src/commands_port.c` |
| tests | `tests/test_protocol.py` (C built with ASan/UBSan, 100 000-frame fuzz, C against Python), `tests/test_host_client.py` (faults; the firmware in QEMU on every emulated board) |
"""
