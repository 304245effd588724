"""CMSIS-DSP's DSP-extension path through our cmsis_compiler.h, on the board, equals the cmsisdsp package.

The q15 functions use the SIMD intrinsics (__SMLALD, __QADD16, __PKHBT,
__SSAT ...) that cmsis_compiler.h maps onto ACLE; their results must equal,
bit for bit, the portable C the Python package runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myoedge.boards import FIRMWARE_DIR
from myoedge.toolchain import tools_available

cmsisdsp = pytest.importorskip("cmsisdsp", reason="the cmsisdsp package (extra 'dsp') is not installed")
serial = pytest.importorskip("serial", reason="pyserial is not installed")
pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not tools_available(need_qemu=True), reason="arm-none-eabi-gcc / cmake / qemu-system-arm missing"),
]

CMSIS_SOURCES = [
    "BasicMathFunctions/arm_abs_q15.c", "BasicMathFunctions/arm_dot_prod_q15.c",
    "StatisticsFunctions/arm_mean_q15.c", "FilteringFunctions/arm_fir_q15.c",
    "FilteringFunctions/arm_fir_init_q15.c", "FilteringFunctions/arm_biquad_cascade_df1_q15.c",
    "FilteringFunctions/arm_biquad_cascade_df1_init_q15.c",
]
FIR = np.array([100, -200, 300, 4000, 4000, 300, -200, 100], np.int16)
BIQUAD = np.array([8192, 0, -16384, 8192, 16000, -6000], np.int16)


def expected(blocks: list[np.ndarray]) -> list[bytes]:
    fir = cmsisdsp.arm_fir_instance_q15()
    cmsisdsp.arm_fir_init_q15(fir, len(FIR), FIR, np.zeros(len(FIR) + 64, np.int16))
    biquad = cmsisdsp.arm_biquad_casd_df1_inst_q15()
    cmsisdsp.arm_biquad_cascade_df1_init_q15(biquad, 1, BIQUAD, np.zeros(4, np.int16), 1)
    out = []
    for x in blocks:
        out.append(np.asarray(cmsisdsp.arm_abs_q15(x), "<i2").tobytes()
                   + np.int16(cmsisdsp.arm_mean_q15(x)).astype("<i2").tobytes()
                   + np.int64(cmsisdsp.arm_dot_prod_q15(x, x)).astype("<i8").tobytes()
                   + np.asarray(cmsisdsp.arm_fir_q15(fir, x), "<i2").tobytes()
                   + np.asarray(cmsisdsp.arm_biquad_cascade_df1_q15(biquad, x), "<i2").tobytes())
    return out


@pytest.mark.parametrize("board", ["mps2-an386", "netduinoplus2"])
def test_q15_dsp_path_equals_python_package(board: str, tmp_path: Path) -> None:
    from myoedge.firmware_build import build_firmware
    from myoedge.qemu import QemuBoard, read_banner
    from firmware_host_build import cmsisdsp_root

    root = cmsisdsp_root()
    build = build_firmware(board, None, tmp_path / "fw", main_source=FIRMWARE_DIR / "host_tests" / "target_cmsis_main.c",
                           extra_sources=[root / "Source" / s for s in CMSIS_SOURCES])
    rng = np.random.default_rng(4)
    # Large values so the saturating paths (abs of -32768, filter overflow) are exercised.
    blocks = [rng.integers(-32768, 32768, 64).astype(np.int16) for _ in range(2)]
    blocks[0][0] = -32768
    answers = []
    with QemuBoard(board, build.elf) as qemu:
        link = serial.serial_for_url(qemu.url, timeout=10.0)
        try:
            read_banner(link)
            size = 2 * 64 + 2 + 8 + 2 * 64 + 2 * 64
            for x in blocks:
                link.write(x.astype("<i2").tobytes())
                answers.append(link.read(size))
        finally:
            link.close()
        assert qemu.wait(timeout=20.0) == 0
    for got, want in zip(answers, expected(blocks)):
        assert len(got) == len(want)
        assert got == want
