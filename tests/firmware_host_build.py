"""Compile firmware C modules for the host, for the test suite (not a test file).

The firmware's portable modules (ring buffer, preprocessing, AFE driver) are
compiled with the host's cc and the same float rules as the board build
(-ffp-contract=off), CMSIS-DSP in its portable configuration
(__GNUC_PYTHON__, the one the cmsisdsp Python package is built with).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from myoedge.boards import FIRMWARE_DIR

HOST_CFLAGS = ["-std=c11", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]


def host_cc() -> str | None:
    return shutil.which("cc") or shutil.which("gcc")


def cmsisdsp_root() -> Path:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("fetch_cmsisdsp", FIRMWARE_DIR.parent / "scripts" / "fetch_cmsisdsp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fetch_cmsisdsp", module)
    spec.loader.exec_module(module)
    return module.fetch()


def compile_host(out: Path, sources: list[Path], includes: list[Path], with_cmsisdsp: bool = False,
                 defines: list[str] | None = None) -> Path:
    """Compile and link a host program; return its path (raises with the compiler's output)."""
    cc = host_cc()
    if cc is None:
        raise RuntimeError("no host C compiler (cc / gcc)")
    args = [cc, *HOST_CFLAGS, "-o", str(out)]
    args += [f"-D{d}" for d in defines or []]
    args += [f"-I{p}" for p in [FIRMWARE_DIR / "include", *includes]]
    files = [str(s) for s in sources]
    if with_cmsisdsp:
        root = cmsisdsp_root()
        args += ["-D__GNUC_PYTHON__", f"-I{root / 'Include'}", f"-I{root / 'PrivateInclude'}"]
        files += [str(root / "Source" / "FilteringFunctions" / name) for name in
                  ("arm_biquad_cascade_df2T_f32.c", "arm_biquad_cascade_df2T_init_f32.c")]
    result = subprocess.run([*args, *files, "-lm"], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"host compile failed:\n{result.stderr[-4000:]}")
    return out
