"""Energy per inference: estimated from cycle counts and a board's power profile.

A profile (``power_profiles.json`` beside this module) gives the run-mode
supply current per MHz and the supply voltage of a board, each with the
datasheet table it comes from. With current proportional to the clock,
the energy of ``cycles`` cycles does not depend on the clock at all::

    E = cycles / f * V * (k * f / 1e6)  =  cycles * V * k * 1e-6  µJ  (k in µA/MHz)

Under QEMU the counts are instructions; the estimate then assumes one
instruction per cycle. A measured figure (Nordic PPK2, :mod:`.ppk2`)
replaces the estimate when a PPK2 is attached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROFILES_FILE = Path(__file__).with_name("power_profiles.json")


@dataclass(frozen=True)
class PowerProfile:
    """One board's run-mode current per MHz and supply voltage, with their source."""

    board: str
    device: str
    supply_v: float
    run_current_ua_per_mhz: float
    source: str
    checked: bool

    def energy_uj(self, cycles: float) -> float:
        """Energy of ``cycles`` core cycles in microjoules."""
        return float(cycles) * self.supply_v * self.run_current_ua_per_mhz * 1e-6

    def power_mw(self, clock_hz: float) -> float:
        """Run-mode power at ``clock_hz`` in milliwatts."""
        return self.supply_v * self.run_current_ua_per_mhz * clock_hz / 1e6 / 1e3


@lru_cache(maxsize=4)
def load_power_profiles(path: Path = PROFILES_FILE) -> dict[str, PowerProfile]:
    """Every profile in the table, by board name."""
    data = json.loads(Path(path).read_text())
    profiles = {}
    for board, entry in data["boards"].items():
        try:
            profiles[board] = PowerProfile(
                board=board, device=str(entry["device"]), supply_v=float(entry["supply_v"]),
                run_current_ua_per_mhz=float(entry["run_current_ua_per_mhz"]),
                source=str(entry["source"]), checked=bool(entry.get("checked", False)))
        except KeyError as err:
            raise ValueError(f"{path}: board {board!r} lacks field {err}") from err
        if profiles[board].supply_v <= 0 or profiles[board].run_current_ua_per_mhz <= 0:
            raise ValueError(f"{path}: board {board!r} needs positive supply_v and current")
    return profiles


def power_profile(board: str) -> PowerProfile | None:
    """The profile of ``board`` (an INFO board name such as ``netduinoplus2``), or None."""
    return load_power_profiles().get(board)


def estimate_energy(board: str, cycles_by_stage: dict[str, float]) -> dict[str, object] | None:
    """Estimated µJ per inference for each stage's median count, or None without a profile."""
    profile = power_profile(board)
    if profile is None:
        return None
    return {
        "method": "estimate: cycles x supply voltage x run current per MHz",
        "board": board,
        "device": profile.device,
        "supply_v": profile.supply_v,
        "run_current_ua_per_mhz": profile.run_current_ua_per_mhz,
        "source": profile.source,
        "source_checked": profile.checked,
        "uj_per_inference": {stage: round(profile.energy_uj(value), 4)
                             for stage, value in cycles_by_stage.items()},
    }
