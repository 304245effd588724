"""Finding the toolchain (and asking for the right Debian packages), and reading board files."""

from __future__ import annotations

from pathlib import Path

import pytest

from myoedge import toolchain
from myoedge.boards import BOARDS_DIR, list_boards, load_board, read_linker_regions


def _which_without(missing: set[str]):
    def which(name: str) -> str | None:
        return None if name in missing else f"/usr/bin/{name}"
    return which


def test_missing_compiler_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain.shutil, "which", _which_without({"arm-none-eabi-gcc", "qemu-system-arm"}))
    with pytest.raises(toolchain.ToolchainError) as error:
        toolchain.require_tools(need_qemu=True, install=False)
    message = str(error.value)
    assert "arm-none-eabi-gcc" in message and "qemu-system-arm" in message
    assert "apt-get install -y gcc-arm-none-eabi qemu-system-arm libnewlib-arm-none-eabi" in message
    assert not toolchain.tools_available(need_qemu=True)


def test_installs_with_apt_when_root(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = {"qemu-system-arm"}
    installed: list[list[str]] = []
    monkeypatch.setattr(toolchain.shutil, "which", _which_without(missing))
    monkeypatch.setattr(toolchain, "_can_apt_install", lambda: True)

    def fake_apt(packages: list[str]) -> None:
        installed.append(packages)
        missing.clear()

    monkeypatch.setattr(toolchain, "_apt_install", fake_apt)
    tools = toolchain.require_tools(need_qemu=True)
    assert installed == [["qemu-system-arm"]]
    assert tools.qemu == "/usr/bin/qemu-system-arm"


def test_not_root_means_no_install_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain.shutil, "which", _which_without({"cmake"}))
    monkeypatch.setattr(toolchain, "_can_apt_install", lambda: False)
    monkeypatch.setattr(toolchain, "_apt_install", lambda packages: pytest.fail("must not install"))
    with pytest.raises(toolchain.ToolchainError, match="apt-get install -y cmake"):
        toolchain.require_tools(need_qemu=False)


def test_every_board_folder_describes_a_consistent_board() -> None:
    assert set(list_boards()) >= {"mps2-an386", "netduinoplus2", "mps3-an547", "nucleo-f446re"}
    for name in list_boards():
        spec = load_board(name)
        assert (BOARDS_DIR / name / "board.c").is_file()
        assert spec.ram_bytes > spec.stack_bytes > 0 and spec.flash_bytes > 0
        assert spec.real == (spec.qemu_machine is None)
        assert spec.cycle_unit == ("cycles" if spec.real else "instructions")
        if spec.qemu_machine:
            assert spec.icount_shift is not None and 0 <= spec.icount_shift <= 10
    an547 = load_board("mps3-an547")
    regions, rom_data, _stack = read_linker_regions(BOARDS_DIR / "mps3-an547" / "board.ld")
    assert rom_data == "SRAM" and an547.flash_bytes == regions["FLASH"][1] + regions["SRAM"][1]
    assert load_board("nucleo-f446re").clock_hz == 180_000_000


def test_unknown_board_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown board 'esp32'; known boards: mps2-an386, mps3-an547"):
        load_board("esp32")


def test_board_file_without_regions_is_an_error(tmp_path: Path) -> None:
    script = tmp_path / "board.ld"
    script.write_text("MEMORY { }\n")
    with pytest.raises(ValueError, match="needs FLASH, RAM and ROM_DATA regions"):
        read_linker_regions(script)
