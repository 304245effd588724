"""Boards for the bench: one or several, each with reconnect-and-resume.

``--board qemu:BOARD --boards N`` starts N QEMU instances of the same
firmware; ``--board PORT1,PORT2,...`` uses those serial ports or URLs. The
windows are cut into contiguous shards, one per board, run in parallel
threads (serial I/O releases the GIL), and every answer is stored at its
window's index, so results come out in window order whatever finished first.

Faults: when a board stops answering (timeout after the client's retries),
its link drops (cable, killed QEMU) or garbage defeats the client's retries,
:class:`BoardLink` closes the link and opens it again (for QEMU: a fresh
instance) and the shard resumes at the first window without a verified
answer; no window is lost or stored twice. After ``max_reconnects``
recoveries in a row without a single answer in between, the board is given
up and named, and everything collected so far is kept.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from myoedge.host.client import (BoardClient, BoardError, BoardFault, BoardLinkLost, BoardReset,
                                 BoardTimeout, ProtocolError, open_board)

from .windows import RecordedWindows

LINK_FAULTS = (BoardTimeout, BoardLinkLost, BoardFault, BoardReset, ProtocolError, OSError)
"""What a link fault looks like (BoardError, a refused command, is final instead). Any
other exception while talking to a board (QEMU failing to start) is treated the same."""


class BenchAbort(RuntimeError):
    """A board is given up; the message names it and the window it stopped at."""


class ModelMismatch(BenchAbort):
    """A board runs another model than the windows file was exported for."""


def firmware_elf(firmware: Path) -> Path:
    """The ELF in a firmware folder (``firmware.elf``), or the file itself."""
    firmware = Path(firmware)
    elf = firmware / "firmware.elf" if firmware.is_dir() else firmware
    if not elf.is_file():
        raise FileNotFoundError(f"{elf}: no firmware ELF; build one with `myoedge firmware build`")
    return elf


def board_targets(board: str, firmware: Path, boards: int = 1) -> list[str]:
    """The ``open_board`` targets for ``--board`` / ``--boards``.

    ``qemu:BOARD`` (or ``qemu:BOARD:ELF``) gives ``boards`` instances of the
    firmware; a comma-separated list of ports gives one board per port.
    """
    if boards < 1:
        raise ValueError(f"--boards must be >= 1, got {boards}")
    if board.startswith("qemu:"):
        parts = board.split(":", 2)
        if len(parts) < 2 or not parts[1]:
            raise ValueError(f"expected qemu:BOARD, got {board!r}")
        elf = Path(parts[2]) if len(parts) == 3 and parts[2] else firmware_elf(firmware)
        return [f"qemu:{parts[1]}:{elf}"] * boards
    ports = [p.strip() for p in board.split(",") if p.strip()]
    if not ports:
        raise ValueError("--board names no port")
    if boards not in (1, len(ports)):
        raise ValueError(f"--boards {boards} needs qemu:BOARD (N emulated boards) or {boards} "
                         f"comma-separated ports; got {len(ports)} port(s)")
    return ports


def shard_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous (first, stop) ranges covering 0..n, sizes differing by at most one."""
    parts = max(1, min(parts, n)) if n else 1
    edges = [round(i * n / parts) for i in range(parts + 1)]
    return [(edges[i], edges[i + 1]) for i in range(parts)]


class BoardLink:
    """One board: opens it, checks its model, and reopens it after a fault.

    Everything that talks to the board runs on the link's own worker thread
    (:meth:`call`), which lives until :meth:`shutdown`: a QEMU instance is
    started with a parent-death signal tied to the thread that spawned it,
    so a board opened from a short-lived thread would die with that thread.
    """

    def __init__(self, target: str, index: int, expected_hash: str | None, timeout: float,
                 retries: int = 3, log: Path | None = None,
                 opener: Callable[..., BoardClient] = open_board) -> None:
        self.target = target
        self.index = index
        self.expected_hash = expected_hash
        self.timeout = timeout
        self.retries = retries
        self.log = log
        self.opener = opener
        self.client: BoardClient | None = None
        self.info: Any = None
        self.connects = 0
        self.recoveries = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hil-board-{index}")

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``function(*args, **kwargs)`` on the link's worker thread; its result."""
        return self._worker.submit(function, *args, **kwargs).result()

    def shutdown(self) -> None:
        """Close the link (stopping a QEMU it started) and end the worker thread."""
        try:
            self._worker.submit(self.close).result()
        finally:
            self._worker.shutdown(wait=True)

    @property
    def name(self) -> str:
        return f"board {self.index} ({self.target})"

    def connect(self) -> Any:
        """Open the link and read INFO; refuses a board running another model."""
        self.client = self.opener(self.target, timeout=self.timeout, retries=self.retries,
                                  log=self.log)
        self.connects += 1
        try:
            self.info = self.client.info()
        except ProtocolError:
            # A board that boots as we connect sends BOOT in the middle of the first
            # INFO; with few retries that alone can fail it. Ask once more.
            if not self.client.events:
                raise
            self.info = self.client.info()
        if self.expected_hash and self.info.model_hash != self.expected_hash:
            raise ModelMismatch(f"{self.name} runs model {self.info.model_name!r} with hash "
                                f"{self.info.model_hash!r}; the windows were exported for "
                                f"{self.expected_hash!r}")
        return self.info

    def recover(self) -> None:
        """Close whatever is left of the link and connect again (QEMU: a new instance)."""
        self.recoveries += 1
        self.close()
        self.connect()

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - a broken link may fail to close
                pass
            self.client = None


@dataclass
class WindowStore:
    """Answers per window index, filled by any board, read in window order."""

    n_windows: int
    n_classes: int
    scores: np.ndarray = field(init=False)
    predicted: np.ndarray = field(init=False)
    cycles: np.ndarray = field(init=False)  # (n, 3): preprocess, network, total
    board: np.ndarray = field(init=False)
    answered: np.ndarray = field(init=False)
    answers: list[int] = field(default_factory=list)  # every store, in order (duplicates show)

    def __post_init__(self) -> None:
        self.scores = np.zeros((self.n_windows, self.n_classes), dtype=np.int8)
        self.predicted = np.full(self.n_windows, -1, dtype=np.int64)
        self.cycles = np.zeros((self.n_windows, 3), dtype=np.int64)
        self.board = np.full(self.n_windows, -1, dtype=np.int64)
        self.answered = np.zeros(self.n_windows, dtype=bool)

    def put(self, index: int, board: int, reply: Any) -> None:
        """Store one verified INFER reply (its scores padded or cut to n_classes)."""
        scores = np.asarray(reply.scores, dtype=np.int8).ravel()[:self.n_classes]
        self.scores[index, :scores.size] = scores
        if scores.size < self.n_classes:  # a wrong count is a mismatch, not a lost window
            self.scores[index, scores.size:] = np.iinfo(np.int8).min
        self.predicted[index] = int(reply.predicted)
        self.cycles[index] = (reply.cycles.preprocess, reply.cycles.network, reply.cycles.total)
        self.board[index] = board
        self.answered[index] = True
        self.answers.append(index)


@dataclass
class ShardOutcome:
    """What one board did with its shard."""

    board: int
    first: int
    stop: int
    answered: int = 0
    seconds: float = 0.0  # wall time of the shard, connecting and recovering included
    first_sent: float | None = None  # monotonic time the first INFER went out
    last_answer: float | None = None  # monotonic time the last verified answer came in
    incidents: list[str] = field(default_factory=list)
    abort: str | None = None


def infer_shard(link: BoardLink, windows: RecordedWindows, first: int, stop: int, store: WindowStore,
                on_answer: Callable[[], None], max_reconnects: int = 3,
                halt: threading.Event | None = None) -> ShardOutcome:
    """INFER every window first..stop-1 on one board, recovering from link faults.

    ``halt`` (set by Ctrl-C in the main thread) ends the shard after the
    window in flight, keeping every answer stored so far.
    """
    outcome = ShardOutcome(link.index, first, stop)
    started = time.monotonic()
    failures_in_a_row = 0
    index = first
    try:
        while index < stop:
            if halt is not None and halt.is_set():
                raise BenchAbort(f"{link.name}: interrupted at window #{index}")
            if store.answered[index]:
                index += 1
                continue
            try:
                if link.client is None:
                    link.connect()
                if outcome.first_sent is None:
                    outcome.first_sent = time.monotonic()
                reply = link.client.infer(windows.x_int8[index], preprocessed=True)
            except ModelMismatch:
                raise
            except BoardError as err:  # the board refused the window: final, not a link fault
                raise BenchAbort(f"{link.name} refused window #{index}: {err}") from err
            except Exception as err:  # noqa: BLE001 - LINK_FAULTS, or QEMU failing to start
                failures_in_a_row += 1
                outcome.incidents.append(f"{link.name}, window #{index}: {type(err).__name__}: {err}")
                if failures_in_a_row > max_reconnects:
                    raise BenchAbort(
                        f"{link.name} gave no answer for window #{index} after {max_reconnects} "
                        f"reconnect(s); last error: {type(err).__name__}: {err}") from err
                try:
                    link.recover()
                except ModelMismatch:
                    raise
                except Exception as again:  # noqa: BLE001 - counted as the next failure
                    outcome.incidents.append(f"{link.name}: reconnect failed: {again}")
                    link.close()
                continue
            store.put(index, link.index, reply)
            outcome.last_answer = time.monotonic()
            outcome.answered += 1
            failures_in_a_row = 0
            on_answer()
            index += 1
    except BenchAbort as err:
        outcome.abort = str(err)
    finally:
        outcome.seconds = time.monotonic() - started
    return outcome


def run_shards(links: list[BoardLink], windows: RecordedWindows, store: WindowStore,
               max_reconnects: int = 3, progress: bool = True) -> list[ShardOutcome]:
    """Every board takes one contiguous shard, in parallel; returns each board's outcome."""
    bounds = shard_bounds(len(windows), len(links))
    lock = threading.Lock()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(windows), desc=f"INFER on {len(bounds)} board(s)", unit="window")

    def tick() -> None:
        if bar is not None:
            with lock:
                bar.update(1)

    outcomes: list[ShardOutcome | None] = [None] * len(bounds)
    halt = threading.Event()

    def work(slot: int) -> None:
        first, stop = bounds[slot]
        try:
            outcomes[slot] = infer_shard(links[slot], windows, first, stop, store, tick,
                                         max_reconnects, halt)
        except BaseException as err:  # noqa: BLE001 - a thread must not die unreported
            outcomes[slot] = ShardOutcome(links[slot].index, first, stop,
                                          abort=f"{links[slot].name}: {type(err).__name__}: {err}")

    futures = [links[slot]._worker.submit(work, slot) for slot in range(len(bounds))]
    interrupted = False
    for future in futures:
        while True:
            try:
                future.result()
                break
            except KeyboardInterrupt:  # let every board finish its window in flight
                interrupted = True
                halt.set()
    if bar is not None:
        bar.close()
    if interrupted:
        raise Interrupted([o for o in outcomes if o is not None])
    return [o for o in outcomes if o is not None]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during the INFER phase; ``outcomes`` holds what every board did until then."""

    def __init__(self, outcomes: list[ShardOutcome]) -> None:
        super().__init__("interrupted")
        self.outcomes = outcomes


def run_stream(link: BoardLink, samples: np.ndarray, max_reconnects: int = 3,
               chunk_timeout: float | None = None) -> tuple[list[Any], list[str]]:
    """Feed a recorded stream with STREAM (reset first); restart it after a link fault.

    A stream's state lives on the board, so after a fault it is sent again
    from its first sample (with the reset flag), never resumed halfway.
    """
    incidents: list[str] = []
    for attempt in range(max_reconnects + 1):
        try:
            if link.client is None:
                link.connect()
            return link.client.stream(samples, vote=0, reset=True, timeout=chunk_timeout), incidents
        except (ModelMismatch, BoardError):
            raise
        except Exception as err:  # noqa: BLE001 - LINK_FAULTS, or QEMU failing to start
            incidents.append(f"{link.name}, STREAM attempt {attempt + 1}: {type(err).__name__}: {err}")
            if attempt == max_reconnects:
                raise BenchAbort(f"{link.name}: STREAM failed {attempt + 1} times; last error: "
                                 f"{type(err).__name__}: {err}") from err
            try:
                link.recover()
            except ModelMismatch:
                raise
            except Exception as again:  # noqa: BLE001
                incidents.append(f"{link.name}: reconnect failed: {again}")
                link.close()
    raise AssertionError("unreachable")
