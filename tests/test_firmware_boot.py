"""Every QEMU board boots the firmware: banner over the UART, link echo, honest timing.

Builds the bare firmware (no model) and a timing program for each emulated
board, runs them under QEMU through ``QemuBoard`` and talks over pyserial.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from myoedge.boards import FIRMWARE_DIR, list_boards, load_board
from myoedge.toolchain import tools_available

serial = pytest.importorskip("serial", reason="pyserial is not installed")

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not tools_available(need_qemu=True),
                       reason="arm-none-eabi-gcc / cmake / qemu-system-arm missing (see README set-up)"),
]

QEMU_BOARDS = [name for name in list_boards() if load_board(name).qemu_machine]


def _build(board: str, out: Path, main_source: Path | None = None):
    from myoedge.firmware_build import build_firmware

    return build_firmware(board, None, out, main_source=main_source)


_BARE_BUILDS: dict[str, object] = {}


@pytest.fixture(scope="module")
def bare_builds(tmp_path_factory: pytest.TempPathFactory):
    """The bare firmware per board, built once for this module."""
    def get(board: str):
        if board not in _BARE_BUILDS:
            _BARE_BUILDS[board] = _build(board, tmp_path_factory.mktemp(f"bare-{board}"))
        return _BARE_BUILDS[board]
    yield get
    _BARE_BUILDS.clear()


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_board_boots_with_banner_and_echoes(board: str, bare_builds) -> None:
    from myoedge.qemu import QemuBoard, read_banner

    build = bare_builds(board)
    spec = load_board(board)
    with QemuBoard(board, build.elf) as qemu:
        assert qemu.url.startswith("socket://127.0.0.1:")
        assert qemu.icount_shift == spec.icount_shift
        link = serial.serial_for_url(qemu.url, timeout=1.0)
        try:
            banner = read_banner(link, timeout=10.0)
            assert banner.startswith("myoedge-fw ")
            fields = dict(part.split("=", 1) for part in banner.split()[2:])
            assert fields["board"] == board
            assert fields["core"] == spec.core
            assert int(fields["clock_hz"]) == spec.clock_hz
            assert fields["unit"] == "instructions"
            assert fields["model"] == "none"
            payload = bytes(range(256))  # every byte value survives the link both ways
            link.write(payload)
            echoed = b""
            deadline = time.monotonic() + 10.0
            while len(echoed) < len(payload) and time.monotonic() < deadline:
                echoed += link.read(len(payload) - len(echoed))
            assert echoed == payload
        finally:
            link.close()
        pid = qemu.process.pid
    assert qemu.process is None  # killed and reaped on exit
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_cycle_counter_counts_instructions_across_systick_wraps(board: str, tmp_path: Path) -> None:
    """A loop of n iterations of (subs, bne) measures 2n instructions, plus the few the reads cost."""
    from myoedge.qemu import QemuBoard, read_banner

    build = _build(board, tmp_path / "fw", FIRMWARE_DIR / "host_tests" / "target_timing_main.c")
    with QemuBoard(board, build.elf) as qemu:
        link = serial.serial_for_url(qemu.url, timeout=30.0)
        try:
            read_banner(link, timeout=10.0)
            lines = [link.readline().decode() for _ in range(4)]
            stack_line = link.readline().decode()
        finally:
            link.close()
        assert qemu.wait(timeout=20.0) == 0  # semihosting exit code of main()
    stack = dict(item.split("=") for item in stack_line.split()[1:])
    # Measured from the stack painted at reset: some was used, far less than reserved.
    assert 0 < int(stack["used"]) < 2048 and int(stack["size"]) == load_board(board).stack_bytes
    for line in lines:
        match = re.match(r"timing iterations=(\d+) measured=(\d+) unit=(\w+)", line)
        assert match, line
        iterations, measured, unit = int(match[1]), int(match[2]), match[3]
        assert unit == "instructions"
        # 120 M instructions span several 2^24-tick SysTick wraps on every board.
        overhead = measured - 2 * iterations
        assert 0 <= overhead <= 200, line


def test_qemu_board_kills_qemu_when_the_block_raises(bare_builds) -> None:
    from myoedge.qemu import QemuBoard

    build = bare_builds("mps2-an386")
    holder = {}
    with pytest.raises(RuntimeError, match="boom"):
        with QemuBoard("mps2-an386", build.elf) as qemu:
            holder["pid"] = qemu.process.pid
            raise RuntimeError("boom")
    status = Path(f"/proc/{holder['pid']}/status")
    assert not status.exists()


def test_real_board_cannot_be_emulated(tmp_path: Path) -> None:
    from myoedge.qemu import QemuBoard, QemuError

    elf = tmp_path / "x.elf"
    elf.write_bytes(b"\x7fELF")
    with pytest.raises(QemuError, match="real hardware"):
        QemuBoard("nucleo-f446re", elf)


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_hardfault_reports_registers_over_the_link_and_exits(board: str, tmp_path: Path) -> None:
    from myoedge.qemu import QemuBoard, read_banner

    build = _build(board, tmp_path / "fw", FIRMWARE_DIR / "host_tests" / "target_fault_main.c")
    with QemuBoard(board, build.elf) as qemu:
        link = serial.serial_for_url(qemu.url, timeout=10.0)
        try:
            read_banner(link, timeout=10.0)
            fault_at = int(link.readline().decode().split()[1], 16)
            link.readline()  # the report starts with an empty line
            report = link.readline().decode().strip()
        finally:
            link.close()
        assert qemu.wait(timeout=20.0) == 3  # MYE_EXIT_FAULT
    assert report.startswith("!FAULT ")
    fields = dict(item.split("=") for item in report.split()[1:])
    assert int(fields["exc"], 16) == 3  # HardFault (UsageFault escalated)
    pc = int(fields["pc"], 16)
    assert fault_at <= pc < fault_at + 16  # inside the faulting function
    assert int(fields["cfsr"], 16) & (1 << 16)  # UFSR.UNDEFINSTR
    assert int(fields["hfsr"], 16) & (1 << 30)  # HFSR.FORCED


def test_qemu_dies_with_the_process_that_started_it(bare_builds) -> None:
    """A host process killed outright (no clean-up runs) leaves no QEMU behind."""
    import subprocess
    import sys

    build = bare_builds("mps2-an386")
    script = (
        "import sys, time\n"
        "from myoedge.qemu import QemuBoard\n"
        f"board = QemuBoard('mps2-an386', {str(build.elf)!r}).start()\n"
        "print(board.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        qemu_pid = int(parent.stdout.readline())
        assert Path(f"/proc/{qemu_pid}").exists()
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 5.0
    while Path(f"/proc/{qemu_pid}").exists() and time.monotonic() < deadline:
        state = Path(f"/proc/{qemu_pid}/stat").read_text().split()[2] if Path(f"/proc/{qemu_pid}/stat").exists() else "X"
        if state == "Z":
            break
        time.sleep(0.05)
    status = Path(f"/proc/{qemu_pid}/stat")
    assert not status.exists() or status.read_text().split()[2] == "Z"
