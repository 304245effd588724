"""Talk to a myoedge board over a serial link: typed calls, retries, logs.

``open_board(target)`` accepts a serial device (``/dev/ttyACM0``, ``COM3``),
any pyserial URL (``socket://host:port``, ``rfc2217://host:port``,
``loop://``) or ``qemu:BOARD:ELF`` (``ELF`` may also be a firmware folder
holding ``firmware.elf``), which starts QEMU with that firmware, connects
and stops QEMU again when the client is closed.

:class:`BoardClient` sends one command at a time and waits for its reply.
It resends the *same* frame (same sequence number) when no reply comes in
time or when the board says the frame arrived damaged; the board answers a
repeated frame from its cache without running it again, so a retried STREAM
is not fed twice. Garbage on the line (a boot banner, noise) is skipped at
the next frame delimiter. Every byte in both directions can be logged.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator

import numpy as np

from myoedge.host import protocol as p
from myoedge.host import protocol_spec as spec
from myoedge.host.protocol import ProtocolError
from myoedge.host.protocol_spec import Command, ErrorCode, LiveAction

DEFAULT_TIMEOUT_S = 2.0
DEFAULT_RETRIES = 3
POLL_S = 0.02
"""How long one read waits, so deadlines are checked often."""


class BoardTimeout(TimeoutError):
    """No valid reply came in time, after every retry."""

    def __init__(self, port: str, command: str, seq: int, tries: int, timeout: float) -> None:
        super().__init__(
            f"{port}: no reply to {command} (seq {seq}) after {tries} "
            f"{'try' if tries == 1 else 'tries'} of {timeout:.1f} s each")
        self.port = port
        self.command = command


class BoardError(ProtocolError):
    """The board refused a command with an ERROR reply."""

    def __init__(self, port: str, command: str, reply: p.ErrorReply) -> None:
        super().__init__(f"{port}: board refused {command}: {reply.describe()}",
                         reply.error if isinstance(reply.error, ErrorCode) else None,
                         reply.expected, reply.got)
        self.reply = reply


class BoardFault(RuntimeError):
    """The firmware reported a fault (HardFault handler) instead of replying."""

    def __init__(self, port: str, command: str, event: p.FaultEvent) -> None:
        super().__init__(
            f"{port}: firmware fault during {command}: pc=0x{event.pc:08X} lr=0x{event.lr:08X} "
            f"cfsr=0x{event.cfsr:08X} hfsr=0x{event.hfsr:08X}")
        self.event = event


class BoardReset(ProtocolError):
    """The board restarted while a command that depends on its state ran."""


class BoardLinkLost(ConnectionError):
    """The port itself failed (cable pulled, QEMU gone); see BoardClient.reopen."""

    def __init__(self, port: str, command: str, error: BaseException) -> None:
        super().__init__(f"{port}: link lost during {command}: {error}")
        self.port = port
        self.command = command


def _command_name(code: int) -> str:
    try:
        return Command(code).name
    except ValueError:
        return f"code 0x{code:02X}"


class TrafficLog:
    """Every byte sent and received, as timestamped hex lines, plus notes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] = open(self.path, "a", encoding="utf-8")
        self._start = time.monotonic()

    def write(self, direction: str, data: bytes | str) -> None:
        """One line: seconds since opening, TX/RX/--, hex or text."""
        text = data.hex(" ") if isinstance(data, bytes) else data
        self._file.write(f"{time.monotonic() - self._start:10.6f} {direction} {text}\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


@dataclass
class LinkStats:
    """What happened on the link, for reports."""

    commands: int = 0
    retries: int = 0
    timeouts: int = 0
    link_errors: int = 0
    garbage_frames: int = 0
    stale_replies: int = 0
    boots: int = 0


@dataclass
class LiveSession:
    """What one :meth:`BoardClient.live` run saw, for reports.

    ``setup`` is the board's answer to LIVE start (chips, rates, scaling),
    ``final`` its answer to LIVE stop (the board's own counts: predictions
    sent, frames read, overruns, bad frames), or None when the stop got no
    answer. ``missing`` counts predictions the board numbered but the host
    never decoded (gaps in ``seq``: garbled or lost frames), ``garbled`` the
    frames that failed to decode while live mode ran.
    """

    setup: p.LiveReply
    final: p.LiveReply | None = None
    received: int = 0
    missing: int = 0
    garbled: int = 0
    last_seq: int = 0
    stop_error: str = ""
    after_stop: list[p.LivePrediction] = field(default_factory=list)


class BoardClient:
    """Typed calls on a pyserial-like port (``read``, ``write``, ``timeout``)."""

    def __init__(self, port: Any, name: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES, log: str | Path | None = None,
                 owned: Any = None, reopen: Any = None) -> None:
        self.port = port
        self._reopen = reopen  # () -> a fresh port for the same target
        self.name = name or getattr(port, "name", None) or getattr(port, "portstr", "board")
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.log = TrafficLog(log) if log else None
        self.stats = LinkStats()
        self.decoder = p.FrameDecoder()
        self.events: list[p.BootEvent | p.FaultEvent] = []
        self._owned = owned  # e.g. a QemuBoard to stop on close
        # A random first sequence number: a new session's first command must not
        # look like a retry of the previous session's last one (the board's cache).
        self._seq = random.randrange(0xFFFF)
        self._info: p.InfoReply | None = None
        self._wait = self.timeout
        self._pending: list[p.Frame] = []  # frames read but not yet looked at
        self._live_backlog: list[p.LivePrediction] = []  # predictions met while awaiting a reply
        self.live_session: LiveSession | None = None
        if hasattr(port, "timeout"):
            port.timeout = POLL_S

    # -- life cycle --------------------------------------------------------------

    def __enter__(self) -> "BoardClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the port (and stop QEMU when this client started it)."""
        try:
            self.port.close()
        finally:
            if self._owned is not None:
                self._owned.__exit__(None, None, None)
                self._owned = None
            if self.log:
                self.log.close()
                self.log = None

    def reopen(self) -> None:
        """Close the port and open the same target again (after BoardLinkLost).

        The board keeps its state (a real board whose cable was replugged);
        partial bytes from the old link are dropped.
        """
        if self._reopen is None:
            raise ProtocolError(f"{self.name}: this link cannot be reopened")
        try:
            self.port.close()
        except Exception:  # noqa: BLE001 - the old port may already be broken
            pass
        self.port = self._reopen()
        if hasattr(self.port, "timeout"):
            self.port.timeout = POLL_S
        self.decoder = p.FrameDecoder()
        self._pending = []
        if self.log:
            self.log.write("--", "link reopened")

    def wait_for_boot(self, timeout: float = 10.0) -> p.BootEvent:
        """Wait for the BOOT frame a starting firmware sends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frames = self._read_frames("BOOT")
            while frames:
                reply = self._decode(frames.pop(0), "BOOT")
                if isinstance(reply, p.BootEvent):
                    self.stats.boots += 1
                    self.events.append(reply)
                    self._pending = frames + self._pending
                    return reply
        raise BoardTimeout(self.name, "BOOT", 0, 1, timeout)

    def wait_until_ready(self, timeout: float = 20.0) -> None:
        """Wait for the BOOT frame, or failing that for an answer to INFO.

        pyserial's ``socket://`` drops bytes that arrive while it connects, so
        a BOOT frame can be lost; a board that answers INFO is up as well.
        """
        deadline = time.monotonic() + timeout
        try:
            self.wait_for_boot(min(3.0, timeout))
            return
        except BoardTimeout:
            pass
        while True:
            try:
                self.info()
                return
            except BoardTimeout:
                if time.monotonic() >= deadline:
                    raise

    # -- typed calls --------------------------------------------------------------

    def info(self) -> p.InfoReply:
        """What the board runs; cached for the shape checks of later calls."""
        reply = self.request(Command.INFO, b"")
        assert isinstance(reply, p.InfoReply)
        self._info = reply
        return reply

    def infer(self, window: np.ndarray, preprocessed: bool = False,
              timeout: float | None = None) -> p.InferReply:
        """One window: raw float samples x channels, or the int8 network input."""
        payload = p.infer_request(p.Window.from_array(window, preprocessed))
        reply = self.request(Command.INFER, payload, timeout)
        assert isinstance(reply, p.InferReply)
        return reply

    def stream_chunk(self, samples: np.ndarray, vote: int = 0, reset: bool = False,
                     timeout: float | None = None) -> p.StreamReply:
        """One STREAM command (at most MAX_STREAM_SAMPLES samples)."""
        reply = self.request(Command.STREAM, p.stream_request(samples, vote, reset), timeout)
        assert isinstance(reply, p.StreamReply)
        return reply

    def stream(self, samples: np.ndarray, chunk: int | None = None, vote: int = 0,
               reset: bool = True, timeout: float | None = None,
               progress: bool = False) -> list[p.StreamPrediction]:
        """Feed a recording (samples x channels) in chunks; every hop's prediction.

        If a chunk fails, the exception carries the predictions collected so
        far as ``error.partial`` and the samples sent as ``error.samples_sent``.
        """
        array = np.asarray(samples, dtype=np.float32)
        if array.ndim != 2:
            raise ValueError(f"stream expects samples x channels, got shape {array.shape}")
        most = min(spec.MAX_STREAM_SAMPLES,
                   (spec.MAX_REQUEST_PAYLOAD - spec.STREAM_REQUEST.size) // (4 * array.shape[1]))
        size = most if chunk is None else int(chunk)
        if not 1 <= size <= most:
            raise ValueError(f"stream chunk must be 1..{most} samples for {array.shape[1]} "
                             f"channels, got {size}")
        predictions: list[p.StreamPrediction] = []
        starts = range(0, max(len(array), 1), size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc=f"STREAM {self.name}", unit="chunk")
        for start in starts:
            try:
                reply = self.stream_chunk(array[start:start + size], vote,
                                          reset and start == 0, timeout)
            except Exception as error:
                error.partial = predictions  # type: ignore[attr-defined]
                error.samples_sent = start  # type: ignore[attr-defined]
                raise
            predictions.extend(reply.predictions)
        return predictions

    def bench(self, runs: int, window: np.ndarray | None = None, preprocessed: bool = True,
              timeout: float | None = None) -> p.BenchReply:
        """Time ``runs`` inferences of one window (default: zeros at the model input)."""
        if not 1 <= runs <= spec.MAX_BENCH_RUNS:
            raise ValueError(f"bench runs must be 1..{spec.MAX_BENCH_RUNS}, got {runs}")
        if window is None:
            info = self._info or self.info()
            window = np.zeros(info.input_size, dtype=np.int8)
            preprocessed = True
        payload = p.bench_request(runs, p.Window.from_array(window, preprocessed))
        wait = timeout if timeout is not None else self.timeout * (1 + runs / 8)
        reply = self.request(Command.BENCH, payload, wait)
        assert isinstance(reply, p.BenchReply)
        return reply

    def reset(self) -> None:
        """Soft reset: preprocessing state, stream position, vote history."""
        self.request(Command.RESET, b"")

    def live(self, seconds: float | None = None, vote: int = 0, gain: int = 0,
             units_per_volt: float = 0.0, max_predictions: int | None = None,
             timeout: float | None = None) -> Iterator[p.LivePrediction]:
        """Classify what the board's own front end measures: yield each prediction.

        Sends LIVE start, then yields every LIVE_PREDICTION frame as it
        arrives until ``seconds`` have passed or ``max_predictions`` came (or
        for ever, when both are None); closing the generator, an exception in
        the loop that consumes it, or the end sends LIVE stop. Garbled frames
        are skipped and counted; gaps in the board's sequence numbers are
        counted as missing; predictions already yielded are never lost. What
        happened is in ``self.live_session`` (a :class:`LiveSession`), also
        after an error. Raises :class:`BoardTimeout` when no prediction
        arrives for ``timeout`` seconds (default: max(client timeout, 5 s)).
        """
        garbage_before = self.stats.garbage_frames
        start = self.request(Command.LIVE, p.live_request(LiveAction.START, vote, gain,
                                                          units_per_volt))
        assert isinstance(start, p.LiveReply)
        session = LiveSession(start)
        self.live_session = session
        self._live_backlog = []
        wait = max(self.timeout, 5.0) if timeout is None else float(timeout)
        end = None if seconds is None else time.monotonic() + float(seconds)
        try:
            last_heard = time.monotonic()
            while end is None or time.monotonic() < end:
                if max_predictions is not None and session.received >= max_predictions:
                    return
                frames = self._read_frames("LIVE")
                session.garbled = self.stats.garbage_frames - garbage_before
                if not frames:
                    if time.monotonic() - last_heard > wait:
                        raise BoardTimeout(self.name, "LIVE (no prediction)", 0, 1, wait)
                    continue
                while frames:
                    frame = frames.pop(0)
                    try:
                        reply = p.decode_reply(frame)
                    except ProtocolError:
                        self.stats.garbage_frames += 1
                        session.garbled = self.stats.garbage_frames - garbage_before
                        continue
                    if isinstance(reply, p.LivePrediction):
                        last_heard = time.monotonic()
                        self._count_live(session, reply)
                        self._pending = frames + self._pending
                        frames = []
                        yield reply
                        if max_predictions is not None and session.received >= max_predictions:
                            return
                    elif isinstance(reply, p.FaultEvent):
                        self.events.append(reply)
                        raise BoardFault(self.name, "LIVE", reply)
                    elif isinstance(reply, p.BootEvent):
                        self.events.append(reply)
                        self.stats.boots += 1
                        raise BoardReset(f"{self.name}: board restarted during LIVE; live mode "
                                         "has ended")
                    elif isinstance(reply, p.ErrorReply) and reply.command == Command.LIVE:
                        raise BoardError(self.name, "LIVE", reply)
                    else:
                        self.stats.stale_replies += 1
        finally:
            self._stop_live(session)
            session.garbled = self.stats.garbage_frames - garbage_before

    def _count_live(self, session: LiveSession, prediction: p.LivePrediction) -> None:
        """Sequence bookkeeping of one received prediction."""
        if session.last_seq and prediction.seq > session.last_seq + 1:
            session.missing += prediction.seq - session.last_seq - 1
        elif not session.last_seq and prediction.seq > 1:
            session.missing += prediction.seq - 1
        session.last_seq = max(session.last_seq, prediction.seq)
        session.received += 1

    def _stop_live(self, session: LiveSession) -> None:
        """Send LIVE stop; keep the board's final counts (best effort)."""
        try:
            final = self.request(Command.LIVE, p.live_request(LiveAction.STOP))
            assert isinstance(final, p.LiveReply)
            session.final = final
        except (ProtocolError, BoardTimeout, BoardLinkLost, BoardFault) as error:
            session.stop_error = str(error)
        session.after_stop = self._live_backlog
        self._live_backlog = []

    # -- the exchange ----------------------------------------------------------------

    def request(self, code: int, payload: bytes, timeout: float | None = None) -> p.AnyReply:
        """Send one command and return its typed reply.

        Raises :class:`BoardError` for an ERROR reply, :class:`BoardTimeout`
        when every try timed out, :class:`BoardFault` when the firmware
        faulted, :class:`ProtocolError` for replies that make no sense.
        """
        if len(payload) > spec.MAX_REQUEST_PAYLOAD:
            raise ValueError(f"{_command_name(code)} payload of {len(payload)} bytes exceeds "
                             f"MAX_REQUEST_PAYLOAD ({spec.MAX_REQUEST_PAYLOAD})")
        command = _command_name(code)
        wait = self.timeout if timeout is None else float(timeout)
        self._wait = wait
        seq = self._next_seq()
        wire = p.encode_frame(code, seq, payload)
        self.stats.commands += 1
        tries = 1
        self._send(wire, f"{command} seq {seq} ({len(payload)} bytes)")
        deadline = time.monotonic() + wait
        while True:
            if time.monotonic() >= deadline:
                self.stats.timeouts += 1
                if tries > self.retries:
                    raise BoardTimeout(self.name, command, seq, tries, wait)
                tries += 1
                self.stats.retries += 1
                self._send(wire, f"retry {tries} of {command} seq {seq} (timeout)")
                deadline = time.monotonic() + wait
            frames = self._read_frames(command)
            while frames:
                frame = frames.pop(0)
                reply = self._decode(frame, command)
                if isinstance(reply, p.FaultEvent):
                    self.events.append(reply)
                    raise BoardFault(self.name, command, reply)
                if isinstance(reply, p.BootEvent):
                    self.events.append(reply)
                    self.stats.boots += 1
                    if code == Command.STREAM:
                        raise BoardReset(f"{self.name}: board restarted during {command} "
                                         f"(seq {seq}); its stream state is gone")
                    tries, deadline = self._resend(wire, tries, command, seq, "board restarted")
                    continue
                if isinstance(reply, p.ErrorReply) and frame.seq == 0 and seq != 0:
                    self.stats.link_errors += 1
                    if self.log:
                        self.log.write("--", f"link error: {reply.describe()}")
                    tries, deadline = self._resend(wire, tries, command, seq, reply.describe())
                    continue
                if isinstance(reply, p.LivePrediction):
                    self._live_backlog.append(reply)  # live mode was still running
                    continue
                if frame.seq != seq:
                    self.stats.stale_replies += 1
                    continue
                if isinstance(reply, p.ErrorReply):
                    raise BoardError(self.name, command, reply)
                if frame.code != (code | spec.REPLY_BIT):
                    raise ProtocolError(
                        f"{self.name}: {command} (seq {seq}) answered with reply code "
                        f"0x{frame.code:02X}, expected 0x{code | spec.REPLY_BIT:02X}")
                self._pending = frames + self._pending  # frames that came with the reply
                return reply

    def _resend(self, wire: bytes, tries: int, command: str, seq: int,
                why: str) -> tuple[int, float]:
        """Resend after a damaged frame or a reboot; counts against the retries."""
        if tries > self.retries:
            raise ProtocolError(f"{self.name}: {command} (seq {seq}) failed {tries} times; "
                                f"last: {why}")
        self.stats.retries += 1
        self._send(wire, f"retry {tries + 1} of {command} seq {seq} ({why})")
        return tries + 1, time.monotonic() + self._wait

    def _next_seq(self) -> int:
        self._seq = self._seq % 0xFFFF + 1  # 1..65535: 0 marks untrusted replies
        return self._seq

    def _send(self, wire: bytes, note: str) -> None:
        if self.log:
            self.log.write("--", note)
            self.log.write("TX", wire)
        try:
            self.port.write(wire)
            flush = getattr(self.port, "flush", None)
            if flush:
                flush()
        except Exception as error:  # pyserial raises SerialException (an OSError) or others
            raise BoardLinkLost(self.name, note.split()[0], error) from error

    def _read_frames(self, command: str = "read") -> list[p.Frame]:
        """Whatever complete frames arrived within one poll interval."""
        if self._pending:
            frames, self._pending = self._pending, []
            return frames
        try:
            waiting = getattr(self.port, "in_waiting", 0) or 1
            data = self.port.read(waiting)
        except Exception as error:  # pyserial raises SerialException (an OSError) or others
            raise BoardLinkLost(self.name, command, error) from error
        if not data:
            return []
        if self.log:
            self.log.write("RX", data)
        frames = []
        for item in self.decoder.feed(data):
            if isinstance(item, p.Frame):
                frames.append(item)
            else:
                self.stats.garbage_frames += 1
                if self.log:
                    self.log.write("--", f"skipped {len(item.raw)} bytes: {item.error}")
        return frames

    def _decode(self, frame: p.Frame, command: str) -> p.AnyReply:
        try:
            return p.decode_reply(frame)
        except ProtocolError as error:
            raise ProtocolError(f"{self.name}: bad reply to {command} (seq {frame.seq}): {error}",
                                error.error, error.expected, error.got) from None


def _open_serial(url: str, timeout: float, baudrate: int) -> Any:
    import serial  # pyserial: the "host" extra

    port = serial.serial_for_url(url, timeout=timeout, baudrate=baudrate)
    _disable_nagle(port)
    return port


def _disable_nagle(port: Any) -> None:
    """Send small frames at once on a TCP link (socket:// ports, QEMU).

    With Nagle's algorithm on, a request written in pieces waits for the
    peer's delayed ACK (~40 ms) before its tail goes out, which caps a
    request/reply link at ~20 round trips per second.
    """
    import socket

    sock = getattr(port, "_socket", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def open_board(target: str, timeout: float = DEFAULT_TIMEOUT_S, retries: int = DEFAULT_RETRIES,
               log: str | Path | None = None, baudrate: int = 115200,
               boot_timeout: float = 20.0) -> BoardClient:
    """Connect to a board: a serial device, a pyserial URL or ``qemu:BOARD:ELF``.

    For ``qemu:`` the client waits for the firmware's BOOT frame before it
    returns (emulated UARTs may drop bytes sent before they are up).
    """
    if target.startswith("qemu:"):
        return _open_qemu(target, timeout, retries, log, baudrate, boot_timeout)
    port = _open_serial(target, POLL_S, baudrate)
    return BoardClient(port, target, timeout, retries, log,
                       reopen=lambda: _open_serial(target, POLL_S, baudrate))


def _open_qemu(target: str, timeout: float, retries: int, log: str | Path | None,
               baudrate: int, boot_timeout: float) -> BoardClient:
    parts = target.split(":", 2)
    if len(parts) < 3 or not parts[1] or not parts[2]:
        raise ValueError(f"expected qemu:BOARD:ELF (ELF: a firmware .elf or its folder), "
                         f"got {target!r}")
    board, elf = parts[1], Path(parts[2])
    if elf.is_dir():
        elf = elf / "firmware.elf"
    from myoedge.qemu import QemuBoard  # only needed for emulated boards

    qemu = QemuBoard(board, elf)
    qemu.__enter__()
    try:
        port = _open_serial(qemu.url, POLL_S, baudrate)
        client = BoardClient(port, f"{target} ({qemu.url})", timeout, retries, log, owned=qemu)
    except BaseException:
        qemu.__exit__(None, None, None)
        raise
    try:
        client.wait_until_ready(boot_timeout)
    except BaseException:
        client.close()
        raise
    return client


__all__ = [
    "BoardClient", "BoardError", "BoardFault", "BoardLinkLost", "BoardReset", "BoardTimeout",
    "LinkStats", "LiveSession",
    "ProtocolError", "TrafficLog", "open_board",
]
