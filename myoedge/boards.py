"""Board descriptions, read from the firmware's own board files.

Each board is one folder ``firmware/boards/<board>/``: ``board.cmake`` holds
the CPU flags, clock, QEMU machine and ``-icount`` shift, ``board.ld`` the
flash and RAM regions and the reserved stack. Python reads those same files
(never a copy of their numbers), so the build, the size check and the QEMU
launcher cannot disagree about a board.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
BOARDS_DIR = FIRMWARE_DIR / "boards"
DEFAULT_BOARD = "mps2-an386"

_CMAKE_SET = re.compile(r"^\s*set\(\s*(MYOEDGE_BOARD_\w+)\s+(.*?)\s*\)\s*(?:#.*)?$")
_LD_REGION = re.compile(
    r"^\s*(\w+)\s*\([a-z]+\)\s*:\s*ORIGIN\s*=\s*(0x[0-9A-Fa-f]+|\d+)\s*,\s*LENGTH\s*=\s*(\d+)\s*([KM]?)\s*$"
)
_LD_ALIAS = re.compile(r'^\s*REGION_ALIAS\(\s*"ROM_DATA"\s*,\s*(\w+)\s*\)')
_LD_STACK = re.compile(r"^\s*_stack_size\s*=\s*(\d+)\s*([KM]?)\s*;")
_UNIT = {"": 1, "K": 1024, "M": 1024 * 1024}


@dataclass(frozen=True)
class BoardSpec:
    """One board as the firmware build defines it."""

    name: str
    core: str
    cpu_flags: tuple[str, ...]
    clock_hz: int
    qemu_machine: str | None  # None: real hardware only
    icount_shift: int | None  # QEMU -icount shift (instructions = ticks * 1e9 / (clock * 2^S))
    real: bool  # a physical board (gets .bin/.hex, DWT cycles, watchdog)
    flash_origin: int
    flash_bytes: int  # read-only capacity: FLASH plus the constants region when it is separate
    ram_origin: int
    ram_bytes: int
    stack_bytes: int

    @property
    def cycle_unit(self) -> str:
        """Unit of the board's cycle counts: "instructions" under QEMU, else "cycles"."""
        return "instructions" if self.qemu_machine else "cycles"


def list_boards() -> list[str]:
    """Names of every board folder with a board.cmake."""
    return sorted(p.parent.name for p in BOARDS_DIR.glob("*/board.cmake"))


def load_board(name: str) -> BoardSpec:
    """Read ``firmware/boards/<name>/board.cmake`` and ``board.ld``."""
    folder = BOARDS_DIR / name
    if not (folder / "board.cmake").is_file():
        raise ValueError(f"unknown board {name!r}; known boards: {', '.join(list_boards())}")
    values = _read_cmake(folder / "board.cmake")
    regions, rom_data, stack = read_linker_regions(folder / "board.ld")

    def need(key: str) -> str:
        if key not in values:
            raise ValueError(f"{folder / 'board.cmake'}: missing set({key} ...)")
        return values[key]

    machine = values.get("MYOEDGE_BOARD_QEMU_MACHINE")
    shift = values.get("MYOEDGE_BOARD_ICOUNT_SHIFT")
    if machine and shift is None:
        raise ValueError(f"{folder / 'board.cmake'}: a QEMU board needs MYOEDGE_BOARD_ICOUNT_SHIFT")
    return BoardSpec(
        name=name,
        core=need("MYOEDGE_BOARD_CORE").strip('"'),
        cpu_flags=tuple(need("MYOEDGE_BOARD_CPU_FLAGS").split()),
        clock_hz=int(need("MYOEDGE_BOARD_CLOCK_HZ")),
        qemu_machine=machine or None,
        icount_shift=int(shift) if shift is not None else None,
        real=values.get("MYOEDGE_BOARD_REAL", "OFF").upper() in ("ON", "TRUE", "1", "YES"),
        flash_origin=regions["FLASH"][0],
        flash_bytes=regions["FLASH"][1] + (regions[rom_data][1] if rom_data != "FLASH" else 0),
        ram_origin=regions["RAM"][0],
        ram_bytes=regions["RAM"][1],
        stack_bytes=stack,
    )


def _read_cmake(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _CMAKE_SET.match(line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def read_linker_regions(path: Path) -> tuple[dict[str, tuple[int, int]], str, int]:
    """A board.ld's memory regions {name: (origin, bytes)}, its ROM_DATA region name and stack size."""
    regions: dict[str, tuple[int, int]] = {}
    stack: int | None = None
    rom_data = "FLASH"
    for line in path.read_text().splitlines():
        match = _LD_ALIAS.match(line)
        if match:
            rom_data = match.group(1)
        match = _LD_REGION.match(line)
        if match:
            regions[match.group(1)] = (int(match.group(2), 0), int(match.group(3)) * _UNIT[match.group(4)])
        match = _LD_STACK.match(line)
        if match:
            stack = int(match.group(1)) * _UNIT[match.group(2)]
    missing = {"FLASH", "RAM", rom_data} - set(regions)
    if missing or stack is None:
        raise ValueError(f"{path}: needs FLASH, RAM and ROM_DATA regions and _stack_size "
                         f"(missing {sorted(missing) or '_stack_size'})")
    return regions, rom_data, stack
