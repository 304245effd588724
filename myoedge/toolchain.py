"""Find the Arm cross toolchain and QEMU, installing them on Debian when allowed.

The firmware is built with Debian's ``arm-none-eabi-gcc`` (with newlib) and
CMake, and run under ``qemu-system-arm``. :func:`require_tools` returns their
paths; when one is missing and the process runs as root on a system with
``apt-get``, it installs the packages (about 80 s, 335 MB), otherwise it
raises :class:`ToolchainError` naming the packages to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

# Program -> Debian package providing it.
PACKAGES = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "arm-none-eabi-objcopy": "binutils-arm-none-eabi",
    "arm-none-eabi-size": "binutils-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
    "cmake": "cmake",
    "make": "make",
}
NEWLIB_PACKAGE = "libnewlib-arm-none-eabi"
APT_TIMEOUT_S = 900


class ToolchainError(RuntimeError):
    """A program the firmware build or the emulator needs is missing."""


@dataclass(frozen=True)
class Toolchain:
    gcc: str
    objcopy: str
    size: str
    cmake: str
    make: str
    qemu: str | None  # None when only building was asked for


def _missing(programs: list[str]) -> list[str]:
    return [p for p in programs if shutil.which(p) is None]


def _can_apt_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt_install(packages: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", *packages]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S)
        if result.returncode != 0:
            raise ToolchainError(
                f"`{' '.join(command)}` failed (exit {result.returncode}): {result.stderr.strip()[-800:]}"
            )


def require_tools(need_qemu: bool = True, install: bool = True) -> Toolchain:
    """Paths of the build tools (and QEMU when ``need_qemu``); install or raise when missing."""
    programs = ["arm-none-eabi-gcc", "arm-none-eabi-objcopy", "arm-none-eabi-size", "cmake", "make"]
    if need_qemu:
        programs.append("qemu-system-arm")
    missing = _missing(programs)
    if missing:
        packages = sorted({PACKAGES[p] for p in missing})
        if "gcc-arm-none-eabi" in packages:
            packages.append(NEWLIB_PACKAGE)
        if install and _can_apt_install():
            _apt_install(packages)
            missing = _missing(programs)
        if missing:
            raise ToolchainError(
                f"missing {', '.join(missing)}; install the Debian packages: "
                f"apt-get install -y {' '.join(packages)}"
            )
    which = {p: shutil.which(p) or "" for p in programs}
    return Toolchain(
        gcc=which["arm-none-eabi-gcc"],
        objcopy=which["arm-none-eabi-objcopy"],
        size=which["arm-none-eabi-size"],
        cmake=which["cmake"],
        make=which["make"],
        qemu=which.get("qemu-system-arm") or None,
    )


def tools_available(need_qemu: bool = True) -> bool:
    """True when every tool is on PATH already (tests use this to skip, never installing)."""
    programs = ["arm-none-eabi-gcc", "arm-none-eabi-size", "cmake", "make"]
    if need_qemu:
        programs.append("qemu-system-arm")
    return not _missing(programs)
