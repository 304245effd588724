"""Measured energy per inference with a Nordic Power Profiler Kit II (PPK2).

Optional hardware, optional package: ``pip install 'myoedge[ppk2]'`` installs
``ppk2-api``, imported only when a PPK2 port is given. The PPK2 powers the
board (source meter, at the board's supply voltage) or sits in series with
its supply (ampere meter) and samples the current at 100 kS/s while the
board runs a BENCH command; the mean current times the supply voltage times
the time of one inference (its median cycle count at the board clock) is the
measured energy per inference. The board's whole supply current is counted,
as a bench meter sees it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

INSTALL_HINT = "install it with: pip install 'myoedge[ppk2]' (the ppk2-api package)"


class Ppk2Error(RuntimeError):
    """The PPK2 could not be used (package missing, port wrong, no samples)."""


def _ppk2_api_class() -> Any:
    try:
        from ppk2_api.ppk2_api import PPK2_API
    except ImportError as err:
        raise Ppk2Error(f"--ppk2 needs the optional ppk2-api package, which is not installed; "
                        f"{INSTALL_HINT}") from err
    return PPK2_API


@dataclass(frozen=True)
class CurrentMeasurement:
    """Mean current over a measured action."""

    mean_ua: float
    samples: int
    seconds: float
    supply_mv: int


def measure_current(port: str, action: Callable[[], Any], supply_mv: int = 3300,
                    source_meter: bool = True, meter_factory: Callable[..., Any] | None = None,
                    settle_s: float = 0.05) -> tuple[CurrentMeasurement, Any]:
    """Run ``action`` while the PPK2 on ``port`` samples the current; returns (measurement, result).

    ``meter_factory(port)`` builds the meter (default: ``ppk2_api.PPK2_API``);
    tests pass a stand-in with the same methods.
    """
    factory = meter_factory or (lambda name: _ppk2_api_class()(name, timeout=1, write_timeout=1))
    try:
        meter = factory(port)
        meter.get_modifiers()
        (meter.use_source_meter if source_meter else meter.use_ampere_meter)()
        meter.set_source_voltage(int(supply_mv))
        if source_meter:
            meter.toggle_DUT_power("ON")
    except Ppk2Error:
        raise
    except Exception as err:  # noqa: BLE001 - serial and API errors alike
        raise Ppk2Error(f"PPK2 on {port}: cannot configure it ({err})") from err

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = action()
        except BaseException as err:  # noqa: BLE001 - handed back to the caller below
            outcome["error"] = err

    total_ua, count = 0.0, 0
    meter.start_measuring()
    time.sleep(settle_s)
    meter.get_data()  # drop what came before the action
    worker = threading.Thread(target=run, name="ppk2-action", daemon=True)
    started = time.monotonic()
    worker.start()
    while worker.is_alive():
        data = meter.get_data()
        if data:
            samples, _digital = meter.get_samples(data)
            total_ua += float(sum(samples))
            count += len(samples)
        time.sleep(0.001)
    seconds = time.monotonic() - started
    meter.stop_measuring()
    if "error" in outcome:
        raise outcome["error"]
    if count == 0:
        raise Ppk2Error(f"PPK2 on {port}: no current samples arrived during the measurement")
    return CurrentMeasurement(total_ua / count, count, seconds, int(supply_mv)), outcome.get("result")


def energy_per_inference_uj(measurement: CurrentMeasurement, cycles_per_inference: float,
                            clock_hz: float) -> float:
    """Mean current x supply voltage x one inference's time, in microjoules."""
    if clock_hz <= 0:
        raise ValueError("PPK2 energy: the board reported no clock")
    seconds = float(cycles_per_inference) / float(clock_hz)
    return measurement.mean_ua * 1e-6 * (measurement.supply_mv / 1000.0) * seconds * 1e6
