"""Run a firmware ELF on an emulated board, with its UART on a loopback TCP port.

``QemuBoard(board, elf)`` is a context manager: on entry it starts
``qemu-system-arm`` for the board's machine with ``-icount shift=S`` (so
cycle counts are deterministic instruction counts) and semihosting (so the
firmware can end the run with an exit code), its serial port served on
``127.0.0.1:PORT`` with ``wait=on`` (the guest does not start until the host
connects, so nothing it sends is lost). Connect with pyserial:
``serial.serial_for_url(board.url)``. On exit QEMU is always killed and
reaped, whatever happened inside the ``with`` block.

Semihosting text and QEMU's own messages (stderr) are collected in
``board.log``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from myoedge.boards import BoardSpec, load_board
from myoedge.toolchain import require_tools

START_TIMEOUT_S = 20.0
BANNER_PREFIX = b"myoedge-fw "
# QEMU prints this on stderr once the serial server socket listens.
_LISTENING = "waiting for connection"


class QemuError(RuntimeError):
    """QEMU could not start, or the emulated board did not answer."""


def _die_with_parent() -> None:
    """In the QEMU child (Linux): get SIGKILL when the Python process that started it dies.

    So even a host process killed outright (no ``__exit__``) leaves no QEMU behind.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class QemuBoard:
    """An emulated board running ``elf``; use as ``with QemuBoard("mps2-an386", elf) as board:``."""

    def __init__(self, board: str | BoardSpec, elf: str | Path, icount_shift: int | None = None,
                 extra_args: list[str] | None = None) -> None:
        self.spec = board if isinstance(board, BoardSpec) else load_board(board)
        if not self.spec.qemu_machine:
            raise QemuError(f"board {self.spec.name} is real hardware only; QEMU cannot run it")
        self.elf = Path(elf)
        if not self.elf.is_file():
            raise QemuError(f"firmware {self.elf} does not exist")
        # The firmware converts SysTick ticks to instructions with the shift it
        # was built for (board.cmake); another shift would mislabel its counts.
        self.icount_shift = self.spec.icount_shift if icount_shift is None else int(icount_shift)
        self.extra_args = list(extra_args or [])
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: list[str] = []
        self._log_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._listening = threading.Event()
        self.exit_code: int | None = None

    # -- properties ------------------------------------------------------

    @property
    def url(self) -> str:
        """pyserial URL of the board's UART: ``socket://127.0.0.1:PORT``."""
        if self.port is None:
            raise QemuError("QemuBoard is not started (use it in a with block)")
        return f"socket://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        """QEMU's stderr so far (semihosting output, warnings)."""
        with self._log_lock:
            return "".join(self._log)

    @property
    def returncode(self) -> int | None:
        """QEMU's exit code once it ended (by itself or killed), else None."""
        if self.process is not None:
            return self.process.poll()
        return self.exit_code

    def command(self, port: int) -> list[str]:
        """The qemu-system-arm command line for this board and port."""
        tools = require_tools(need_qemu=True)
        return [
            str(tools.qemu), "-M", str(self.spec.qemu_machine), "-nographic", "-monitor", "none",
            "-kernel", str(self.elf),
            "-icount", f"shift={self.icount_shift}",
            "-semihosting-config", "enable=on,target=native",
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on",
            *self.extra_args,
        ]

    # -- lifecycle -------------------------------------------------------

    def start(self) -> "QemuBoard":
        """Start QEMU and wait until its serial port listens (a few tries on port races)."""
        last_error = ""
        for _attempt in range(3):
            port = free_loopback_port()
            self._log = []
            self._listening.clear()
            self.process = subprocess.Popen(
                self.command(port), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
            self._reader = threading.Thread(target=self._read_stderr, args=(self.process,), daemon=True)
            self._reader.start()
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline and not self._listening.is_set() and self.process.poll() is None:
                self._listening.wait(0.05)
            if self._listening.is_set() and self.process.poll() is None:
                self.port = port
                return self
            last_error = self.log.strip()
            self.stop()
        raise QemuError(f"QEMU for {self.spec.name} did not start: {last_error or 'no output'}")

    def _read_stderr(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        for raw in iter(process.stderr.readline, b""):
            text = raw.decode("utf-8", errors="replace")
            with self._log_lock:
                self._log.append(text)
            if _LISTENING in text:
                self._listening.set()

    def wait(self, timeout: float) -> int:
        """Wait for QEMU to end by itself (semihosting exit); its exit code."""
        if self.process is None:
            raise QemuError("QemuBoard is not started")
        try:
            code = self.process.wait(timeout=timeout)
            self.exit_code = code
            return code
        except subprocess.TimeoutExpired as error:
            raise QemuError(f"{self.spec.name}: QEMU still running after {timeout} s") from error

    def stop(self) -> None:
        """Kill QEMU (its whole process group) and reap it. Safe to call twice."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
        if self._reader is not None:
            self._reader.join(timeout=2.0)
        self.exit_code = process.returncode

    def __enter__(self) -> "QemuBoard":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def read_banner(link, timeout: float = 10.0) -> str:
    """Read from an open pyserial link until the firmware's boot banner line; return it.

    Bytes before the banner (noise) are skipped. Raises QemuError on timeout.
    """
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline:
        chunk = link.read(1)
        if not chunk:
            continue
        buffer += chunk
        start = buffer.find(BANNER_PREFIX)
        if start >= 0 and buffer.endswith(b"\r\n"):
            return buffer[start:].decode("ascii", errors="replace").strip()
        if start < 0 and len(buffer) > 4096:
            buffer = buffer[-len(BANNER_PREFIX):]
    raise QemuError(f"no boot banner within {timeout} s (got {buffer[-200:]!r})")
