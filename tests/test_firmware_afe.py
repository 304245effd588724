"""ADS1298 driver against a simulated pair of daisy-chained chips (host-compiled).

The simulator (firmware/host_tests/ads1298_sim.c) decodes the SPI traffic as
the chip does; the harness prints what the driver did. Expected register
values and scaled samples are computed here from the datasheet's formulas.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from firmware_host_build import compile_host, host_cc
from myoedge.boards import FIRMWARE_DIR

pytestmark = pytest.mark.skipif(host_cc() is None, reason="no host C compiler")

CODES_A = [0, 1, -1, 8388607, -8388608, 123456, -654321, 4194304]
CODES_B = [-2, 2, 1000, -1000, 7, -7, 3000000, -3000000]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tests = FIRMWARE_DIR / "host_tests"
    out = tmp_path_factory.mktemp("afe") / "afe_harness"
    return compile_host(out, [tests / "afe_harness.c", tests / "ads1298_sim.c", FIRMWARE_DIR / "boards" / "ads1298_model.c",
                         FIRMWARE_DIR / "src" / "afe_ads1298.c"],
                        [tests])


def run(harness: Path, scenario: str) -> dict[str, list[str]]:
    result = subprocess.run([str(harness), scenario], capture_output=True, text=True, check=True, timeout=30)
    lines: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        key, *rest = line.split()
        lines[key] = rest
    return lines


def microvolts(codes: list[int], gain: int, vref: float) -> np.ndarray:
    per_code = np.float32(vref) / (np.float32(gain) * np.float32(8388607.0)) * np.float32(1e6)
    return np.array(codes, dtype=np.float32) * np.float32(per_code)


def test_init_configures_both_chips_and_starts_continuous_reading(harness: Path) -> None:
    out = run(harness, "frames2")
    assert out["init"] == ["0"]
    assert out["mode"] == ["rdatac=1", "start=1", "reset=1", "drdy=1"]
    timing = dict(item.split("=") for item in out["timing"])
    # t_POR (2^18 clocks at 2.048 MHz = 128 ms) between power-up and the first command.
    assert int(timing["first_command"]) - int(timing["powered"]) >= 128_000
    assert timing["reset_pulses"] == "1"
    assert out["ignored_in_rdatac"] == ["0", "bytes_without_cs", "0"]
    commands = [int(c, 16) for c in out["commands"]]
    assert commands[0] == 0x11  # SDATAC before any register access
    assert commands[1] == 0x20  # RREG ID
    assert 0x41 in commands and 0x45 in commands  # WREG CONFIG1.., WREG CH1SET..
    assert commands[-1] == 0x10  # RDATAC last
    for chip in ("regs1", "regs2"):
        regs = [int(v, 16) for v in out[chip]]
        assert regs[0] == 0x92
        assert regs[1] == 0x80 | 0x04  # high resolution, daisy chain, 2 kSPS
        assert regs[3] == 0xC0  # reference buffer on, 2.4 V
        assert regs[5:13] == [0x00] * 8  # gain 6 (000), normal input, powered


def test_daisy_chained_frame_is_scaled_to_model_units(harness: Path) -> None:
    out = run(harness, "frames2")
    assert out["before"] == ["0"]
    rc, *values = out["poll"]
    assert rc == "1"
    got = np.array([float(v) for v in values], dtype=np.float32)
    expected = np.concatenate([microvolts(CODES_A, 6, 2.4), microvolts(CODES_B, 6, 2.4)])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got[3] == pytest.approx(2.4 / 6 * 1e6, rel=1e-6)  # full scale = VREF / gain
    assert out["status"] == ["c00000", "c12345"]
    assert out["after"] == ["0"]  # one DRDY, one frame
    assert out["stopped"] == ["rdatac=0", "start=0", "drdy=0"]


def test_single_chip_low_power_rate_and_4v_reference(harness: Path) -> None:
    out = run(harness, "frames1")
    assert out["init"] == ["0"]
    regs = [int(v, 16) for v in out["regs1"]]
    assert regs[1] == 0x06  # low-power mode, 250 SPS
    assert regs[3] == 0xE0  # VREF 4 V
    assert regs[5:13] == [0x60] * 8  # gain 12 = 110
    rc, *values = out["poll"]
    assert rc == "1" and len(values) == 8
    np.testing.assert_allclose(np.array(values, dtype=np.float32), microvolts(CODES_A, 12, 4.0), rtol=1e-6)


def test_wrong_chip_id_is_refused(harness: Path) -> None:
    out = run(harness, "wrong_id")
    assert out["init"] == ["-2"] and out["start"] == ["0"]


def test_register_readback_mismatch_is_reported(harness: Path) -> None:
    assert run(harness, "refuse_writes")["init"] == ["-3"]


def test_corrupt_frame_status_is_an_error(harness: Path) -> None:
    assert run(harness, "bad_status")["poll"] == ["-4"]


def test_missed_drdy_is_reported_as_overrun(harness: Path) -> None:
    out = run(harness, "overrun")
    assert out["poll"][0] == "-5"  # the frame is still delivered
    np.testing.assert_allclose(np.array(out["poll"][1:9], dtype=np.float32), microvolts(CODES_A, 6, 2.4), rtol=1e-6)
    assert out["after"] == ["0", "overruns", "1"]


def test_unsupported_settings_are_rejected_before_touching_the_chip(harness: Path) -> None:
    out = run(harness, "bad_args")
    assert out["gain5"] == ["-1"] and out["rate200"] == ["-1"] and out["chips3"] == ["-1"] and out["units"] == ["-1"]
    assert out["commands"] == ["0"]
