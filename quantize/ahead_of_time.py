"""The ahead-of-time step of ``myoedge quantize``: generate C, prove it bit-exact.

Generates ``model_aot.c/.h`` for the converted model (element-wise chains
folded into lookup tables), compiles it with the kernel library for the host
and runs every test window through it. The int8 scores must equal the TFLM
interpreter's on every element; the first window that differs is traced op
by op to name the op that diverges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

AOT_NAME = "model"  # the firmware calls mye_model_invoke()


class ParityError(RuntimeError):
    """The generated C and TFLM disagree on at least one test window."""


def generate_and_check(model_bytes: bytes, build_dir: Path, x_int8: np.ndarray, scores_int8: np.ndarray,
                       progress: bool = True) -> dict[str, Any]:
    """Write the AOT C into ``build_dir`` and compare it with TFLM on ``x_int8``.

    Returns the report fields ``aot_arena_bytes``, ``aot_state_bytes``,
    ``aot_kernels``, ``aot_fused_chains``, ``flash_estimate_bytes``,
    ``flash_estimate`` and ``parity`` (``windows``, ``mismatches``,
    ``mismatched_windows`` (the first 20), ``first_divergence``).
    """
    from .aot.debug import first_divergence
    from .aot.generate import generate_c
    from .aot.host_build import AotModel, HostBuildError, estimate_flash

    result = generate_c(model_bytes, Path(build_dir), name=AOT_NAME, fuse_lut=True, memory_map_png=True)
    model = AotModel(Path(build_dir), name=AOT_NAME)
    expected = scores_int8.reshape(len(scores_int8), -1)
    mismatched: list[int] = []
    for i in tqdm(range(len(x_int8)), desc="AOT parity", unit="window", disable=not progress):
        got = model.invoke(x_int8[i]).reshape(-1)
        if not np.array_equal(got, expected[i]):
            mismatched.append(i)
    divergence = first_divergence(model_bytes, x_int8[mismatched[0]], model) if mismatched else None
    try:
        flash = estimate_flash(result)
    except HostBuildError as err:  # no ARM toolchain: the rest of the report still stands
        flash = {"error": str(err)}
    return {
        "aot_arena_bytes": int(result.arena_bytes),
        "aot_state_bytes": int(result.state_bytes),
        "aot_kernels": list(result.kernels_used),
        "aot_fused_chains": len(result.fused_chains),
        "flash_estimate_bytes": flash.get("flash_bytes"),
        "flash_estimate": flash,
        "parity": {
            "windows": int(len(x_int8)),
            "mismatches": len(mismatched),
            "mismatched_windows": mismatched[:20],
            "first_divergence": divergence,
        },
    }
