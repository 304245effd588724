#!/usr/bin/env bash
# Install everything myoedge needs: a virtual environment at .venv with the
# project and its pinned Python dependencies, and (through apt, when missing)
# the Arm cross compiler and QEMU for the emulated boards.
# Idempotent: a stamp keyed by pyproject.toml skips work already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[install] %s\n' "$*"; }

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3 python3.11 python3.12; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" 2>/dev/null -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PY=$candidate; break
    fi
  done
fi
[ -n "$PY" ] || { echo "install: Python >= 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

# 1. Debian packages for the firmware: arm-none-eabi-gcc, newlib, qemu-system-arm.
need=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || need+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
[ -f /usr/lib/arm-none-eabi/include/stdio.h ] || [ -f /usr/include/newlib/stdio.h ] || need+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null 2>&1 || need+=(qemu-system-arm)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v make >/dev/null 2>&1 || need+=(make)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && { [ -z "$SUDO" ] || sudo -n true 2>/dev/null; }; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "install: cannot install ${need[*]} (needs apt-get and root). Install them by hand;" >&2
    echo "install: the firmware and QEMU tests will skip until they are present." >&2
  fi
fi

# 2. The virtual environment.
stamp=.venv/.myoedge-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/myoedge ]; then
  say "virtual environment up to date (.venv)"
  exit 0
fi
[ -x .venv/bin/python ] || { say "creating .venv with $PY"; "$PY" -m venv .venv; }
say "installing myoedge and its dependencies into .venv (first time: a few minutes)"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[all]"
echo "$want" > "$stamp"
say "done: .venv/bin/myoedge is ready"
