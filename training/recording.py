"""The one typed structure every loader returns.

A :class:`Recording` is a continuous multi-channel sEMG stream with one label
and one repetition number per sample, as NinaPro and CapgMyo distribute them.
Loaders (``loaders.py``) and the synthetic generator (``synthetic.py``) produce
it; preprocessing (``preprocess.py``) consumes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ElectrodeLayout:
    """Where the channels sit on the forearm.

    ``grid`` is ``(rows, cols)`` for a high-density electrode array (CapgMyo:
    8 x 16) and ``None`` for a ring of bipolar electrodes. ``channel_order``
    maps grid position ``r * cols + c`` to the column index in
    ``Recording.emg``; for a ring it is simply ``range(n_channels)``.
    """

    name: str
    n_channels: int
    sampling_rate_hz: float
    grid: tuple[int, int] | None = None
    channel_order: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.channel_order:
            object.__setattr__(self, "channel_order", tuple(range(self.n_channels)))
        if len(self.channel_order) != self.n_channels:
            raise ValueError(
                f"layout {self.name}: channel_order has {len(self.channel_order)} "
                f"entries for {self.n_channels} channels"
            )
        if sorted(self.channel_order) != list(range(self.n_channels)):
            raise ValueError(f"layout {self.name}: channel_order is not a permutation of 0..{self.n_channels - 1}")
        if self.grid is not None and self.grid[0] * self.grid[1] != self.n_channels:
            raise ValueError(f"layout {self.name}: grid {self.grid} does not hold {self.n_channels} channels")

    def to_grid(self, frames: np.ndarray) -> np.ndarray:
        """Reshape ``(..., n_channels)`` frames into ``(..., rows, cols)`` images."""
        if self.grid is None:
            raise ValueError(f"layout {self.name} is not an electrode grid")
        ordered = frames[..., list(self.channel_order)]
        return ordered.reshape(*frames.shape[:-1], *self.grid)


MYO16 = ElectrodeLayout("myo16", 16, 200.0)
DELSYS12 = ElectrodeLayout("delsys12", 12, 2000.0)
COMETA12 = ElectrodeLayout("cometa12", 12, 2000.0)


def _capgmyo_channel_order() -> tuple[int, ...]:
    """Grid position -> file column for CapgMyo's 128 channels.

    What the public material says: the CapgMyo device wraps 8 differential
    electrode arrays around the forearm, each array 8 electrodes long (along
    the forearm) and 2 electrodes wide (around it), 128 channels at 1 kHz
    (Geng et al. 2016, Sci. Rep. 6:36571; Du et al. 2017, Sensors 17:458). The
    data set authors' own training code reads each 128-column frame as a
    16 x 8 image by a plain row-major reshape (16 rows, 8 columns). So every
    run of 8 consecutive file columns is one line of 8 electrodes along the
    forearm, and consecutive runs are neighbouring lines around the forearm
    (two per array, eight arrays): file column ``k`` sits at position
    ``k % 8`` along the forearm and ``k // 8`` around it.

    Our grid is that image transposed, 8 rows along the forearm by 16 columns
    around it, so a row of the image is a ring around the arm: grid position
    ``(r, c)`` reads file column ``c * 8 + r``. Neighbouring pixels are
    neighbouring electrodes in both directions, and the 16 columns wrap
    around (column 15 touches column 0).

    Caveat: no pin-by-pin map was found in the public material; the order
    within an array (first its 8 electrodes of one line, then the other
    line) is inferred from the authors' reshape, which only makes spatial
    sense that way. The synthetic ``hd8x16`` data are written in this order.
    """
    rows_along, cols_around = 8, 16
    return tuple(c * rows_along + r for r in range(rows_along) for c in range(cols_around))


# CapgMyo DB-a/b/c: 8 x 16 high-density grid at 1 kHz (see _capgmyo_channel_order).
HD8X16 = ElectrodeLayout("hd8x16", 128, 1000.0, grid=(8, 16), channel_order=_capgmyo_channel_order())

LAYOUTS: dict[str, ElectrodeLayout] = {l.name: l for l in (MYO16, DELSYS12, COMETA12, HD8X16)}


@dataclass
class Recording:
    """One continuous recording of one subject.

    emg:          (samples, channels) float32, in the file's units.
    labels:       (samples,) int, 0 = rest; already mapped to the data set's
                  class numbering (e.g. DB5's 53-class merge).
    repetitions:  (samples,) int, 0 = rest before the first movement.
    """

    emg: np.ndarray
    labels: np.ndarray
    repetitions: np.ndarray
    layout: ElectrodeLayout
    subject: int
    exercise: int = 0
    source: Path | None = None
    label_names: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self.emg = np.asarray(self.emg, dtype=np.float32)
        self.labels = np.asarray(self.labels).reshape(-1).astype(np.int64)
        self.repetitions = np.asarray(self.repetitions).reshape(-1).astype(np.int64)
        where = f" ({self.source})" if self.source else ""
        if self.emg.ndim != 2:
            raise ValueError(f"recording{where}: emg must be 2-D (samples, channels), got shape {self.emg.shape}")
        n, c = self.emg.shape
        if c != self.layout.n_channels:
            raise ValueError(
                f"recording{where}: emg has {c} channels, layout {self.layout.name} expects {self.layout.n_channels}"
            )
        for name in ("labels", "repetitions"):
            if getattr(self, name).shape[0] != n:
                raise ValueError(
                    f"recording{where}: {name} has {getattr(self, name).shape[0]} samples, emg has {n}"
                )

    @property
    def sampling_rate_hz(self) -> float:
        return self.layout.sampling_rate_hz

    @property
    def n_samples(self) -> int:
        return int(self.emg.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.emg.shape[1])
