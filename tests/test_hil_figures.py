"""Latency statistics, energy from power profiles, PPK2 arithmetic, report files."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from myoedge.hil.checks import CheckResult, check_bit_exact, check_stream, window_names
from myoedge.hil.energy import estimate_energy, load_power_profiles, power_profile
from myoedge.hil.latency import latency_table, nearest_rank, stage_latency
from myoedge.hil.ppk2 import CurrentMeasurement, Ppk2Error, energy_per_inference_uj, measure_current
from myoedge.hil.report import Report, write_report


def test_stage_statistics_and_microseconds() -> None:
    values = list(range(1, 101))  # 1..100
    row = stage_latency("network", values, "cycles", 100_000_000)
    assert (row.min, row.median, row.p95, row.max) == (1, 50, 95, 100)
    assert row.microseconds == {"min": 0.01, "median": 0.5, "p95": 0.95, "max": 1.0}
    assert nearest_rank([7], 0.95) == 7
    assert [r.stage for r in latency_table({"a": [1, 2], "empty": []}, "instructions", 0)] == ["a"]
    assert stage_latency("x", [5], "ticks", 0).microseconds["median"] is None
    with pytest.raises(ValueError, match="no values"):
        stage_latency("x", [], "cycles", 1)


def test_every_qemu_and_real_board_has_a_sourced_profile() -> None:
    from myoedge.boards import list_boards

    profiles = load_power_profiles()
    for board in list_boards():
        assert board in profiles, f"no power profile for {board}"
        assert "section" in profiles[board].source  # names the datasheet table it comes from
    f405 = power_profile("netduinoplus2")
    # 1e6 cycles at 168 MHz is 5.95 ms; at 274 uA/MHz (46 mA) and 3.3 V that is 0.90 mJ.
    assert f405.energy_uj(1_000_000) == pytest.approx(1_000_000 / 168e6 * 0.046 * 3.3 * 1e6, rel=0.01)
    assert estimate_energy("unknown-board", {"network": 10}) is None
    assert estimate_energy("netduinoplus2", {"network": 1000})["uj_per_inference"]["network"] == \
        pytest.approx(f405.energy_uj(1000), abs=1e-4)


class FakeMeter:
    """The ppk2-api calls the bench makes, with a constant 1500 uA current."""

    def __init__(self, port: str) -> None:
        self.port, self.calls, self.measuring = port, [], False

    def get_modifiers(self) -> None:
        self.calls.append("modifiers")

    def use_source_meter(self) -> None:
        self.calls.append("source")

    def use_ampere_meter(self) -> None:
        self.calls.append("ampere")

    def set_source_voltage(self, millivolts: int) -> None:
        self.calls.append(("voltage", millivolts))

    def toggle_DUT_power(self, state: str) -> None:  # noqa: N802 - ppk2-api's name
        self.calls.append(("power", state))

    def start_measuring(self) -> None:
        self.measuring = True

    def stop_measuring(self) -> None:
        self.measuring = False

    def get_data(self) -> bytes:
        return b"\x01" * 40 if self.measuring else b""

    def get_samples(self, data: bytes) -> tuple[list[float], list[int]]:
        return [1500.0] * len(data), []


def test_ppk2_mean_current_and_energy() -> None:
    import time

    meters = []

    def factory(port):
        meters.append(FakeMeter(port))
        return meters[-1]

    measurement, result = measure_current("/dev/ttyPPK2", lambda: time.sleep(0.05) or "bench", 1800,
                                          meter_factory=factory)
    assert result == "bench" and measurement.mean_ua == pytest.approx(1500.0)
    assert measurement.samples > 0 and ("voltage", 1800) in meters[0].calls
    # 1.5 mA x 1.8 V for 1000 cycles at 1 MHz (1 ms) = 2.7 uJ
    assert energy_per_inference_uj(measurement, 1000, 1e6) == pytest.approx(2.7)
    assert energy_per_inference_uj(CurrentMeasurement(1000.0, 1, 1.0, 3300), 168e6, 168e6) == \
        pytest.approx(3300.0)


def test_ppk2_without_the_package_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ppk2_api", None)
    monkeypatch.setitem(sys.modules, "ppk2_api.ppk2_api", None)
    with pytest.raises(Ppk2Error, match=r"pip install 'myoedge\[ppk2\]'"):
        measure_current("/dev/ttyACM9", lambda: None)


def test_mismatch_names_and_stream_rules() -> None:
    host = np.zeros((4, 3), dtype=np.int8)
    device = host.copy()
    device[2, 1] = 3
    names = window_names(range(4), np.array([0, 5, 10, -1]), np.ones(4, int), np.full(4, 5))
    result = check_bit_exact(device, host, np.array([True, True, True, False]), names)
    assert result.passed is False and result.details["mismatches"] == [2]
    assert "#2 (subject 1, repetition 5, sample 10)" in result.summary and "max 3 LSB" in result.summary
    positions = np.array([8, 12, 16, 20])
    expected = np.array([1, 2, 2, 0])
    ok = check_stream([(8, 1), (12, 2), (16, 2)], positions, expected, None, expected, 0.98, 19)
    assert ok.passed and ok.details["hops"] == 3
    lost = check_stream([(8, 1), (12, 2), (16, 2)], positions, expected, None, expected, 0.98)
    assert lost.passed is False and "host expects 4" in lost.summary
    off = check_stream([(8, 1), (12, 0), (16, 2)], positions, expected, None, expected, 0.98, 16)
    assert off.passed is False
    board = check_stream([(8, 1), (12, 0)], positions, expected, np.array([1, 0, 2, 0]), expected,
                         0.98, 12)
    assert board.passed  # the board reference is what the device must match exactly
    shifted = check_stream([(9, 1)], positions, expected, None, expected, 0.98, 9)
    assert shifted.passed is False and "positions" in shifted.summary


def test_report_files_for_a_failed_run(tmp_path: Path) -> None:
    report = Report([CheckResult("bit_exact", False, "2 of 9 windows differ: #3, #4"),
                     CheckResult("latency", True, "fine"),
                     CheckResult("stream", None, "no recorded stream")], {"latency": {"stages": []}})
    write_report(report, tmp_path, confusion=np.array([[3, 1], [0, 5]]), label_names=["a", "b"],
                 latency_stages={"network": np.array([10, 11, 12])}, unit="cycles")
    assert not report.passed
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["passed"] is False and [c["passed"] for c in saved["checks"]] == [False, True, None]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    failure = suite.find("testcase[@name='bit_exact']/failure")
    assert failure is not None and "#3, #4" in failure.get("message")
    page = (tmp_path / "report.html").read_text()
    assert "FAILED" in page and page.count("data:image/png;base64,") == 2
    assert (tmp_path / "confusion_device.png").stat().st_size > 1000
