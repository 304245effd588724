"""Offline memory planner: places buffers with known lifetimes in one arena.

Every activation buffer of the generated C lives in a single static arena.
A buffer is needed from the op that writes it to the last op that reads it
(inclusive); two buffers whose lifetimes overlap must not overlap in memory.
The planner places the largest buffers first, each at the lowest aligned
offset that does not collide with an already placed buffer alive at the same
time ("greedy by size", the strategy TFLM's own greedy planner uses), and
reports the peak.

The planner works on abstract :class:`LiveRange` records; which tensors share
a buffer (views, in-place ops) is decided by the generator before it calls
:func:`plan_arena`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable


@dataclass(frozen=True)
class LiveRange:
    """A buffer of ``size`` bytes alive from op ``first`` to op ``last`` (inclusive)."""

    key: Hashable
    size: int
    first: int
    last: int

    def overlaps(self, other: "LiveRange") -> bool:
        """True when both buffers are alive during at least one op."""
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class ArenaPlan:
    """Arena offsets per buffer key and the arena size (peak, aligned)."""

    offsets: dict[Hashable, int]
    arena_bytes: int
    ranges: tuple[LiveRange, ...]

    def check(self) -> None:
        """Raise ``AssertionError`` if two live-overlapping buffers overlap in memory."""
        placed = list(self.ranges)
        for i, a in enumerate(placed):
            a_off = self.offsets[a.key]
            if a_off < 0 or a_off + a.size > self.arena_bytes:
                raise AssertionError(f"buffer {a.key!r} at {a_off}+{a.size} is outside the arena")
            for b in placed[i + 1:]:
                b_off = self.offsets[b.key]
                if a.overlaps(b) and a_off < b_off + b.size and b_off < a_off + a.size:
                    raise AssertionError(f"buffers {a.key!r} and {b.key!r} overlap in time and memory")


def align_up(value: int, alignment: int) -> int:
    """``value`` rounded up to a multiple of ``alignment``."""
    return (value + alignment - 1) // alignment * alignment


def plan_arena(ranges: list[LiveRange], alignment: int = 16) -> ArenaPlan:
    """Place ``ranges`` in one arena, largest first, each at the lowest free aligned offset.

    Zero-size buffers get offset 0 and take no space. Raises ``ValueError``
    for a negative size, a range that ends before it starts, or duplicate keys.
    """
    keys = [r.key for r in ranges]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate buffer keys in the plan")
    for r in ranges:
        if r.size < 0 or r.last < r.first:
            raise ValueError(f"buffer {r.key!r}: size {r.size}, lifetime {r.first}..{r.last}")
    order = sorted(ranges, key=lambda r: (-r.size, r.first, r.last))
    offsets: dict[Hashable, int] = {}
    placed: list[LiveRange] = []
    peak = 0
    for r in order:
        if r.size == 0:
            offsets[r.key] = 0
            continue
        busy = sorted(
            ((offsets[p.key], offsets[p.key] + p.size) for p in placed if p.overlaps(r)),
        )
        candidate = 0
        for start, end in busy:
            if candidate + r.size <= start:
                break
            candidate = max(candidate, align_up(end, alignment))
        offsets[r.key] = candidate
        placed.append(r)
        peak = max(peak, candidate + r.size)
    return ArenaPlan(offsets=offsets, arena_bytes=align_up(peak, alignment), ranges=tuple(ranges))


def naive_arena_bytes(ranges: list[LiveRange], alignment: int = 16) -> int:
    """Arena size without any reuse (every buffer gets its own slot): the baseline to beat."""
    return sum(align_up(r.size, alignment) for r in ranges)


def save_memory_map_png(plan: ArenaPlan, path, title: str = "AOT activation arena") -> None:
    """Draw the plan (x: op index, y: arena offset; one box per buffer) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(8, 4.5))
    last_op = max((r.last for r in plan.ranges), default=0)
    for r in plan.ranges:
        if r.size == 0:
            continue
        off = plan.offsets[r.key]
        ax.add_patch(Rectangle((r.first - 0.4, off), r.last - r.first + 0.8, r.size,
                               facecolor="tab:blue" if r.key[0] == "t" else "tab:orange",
                               edgecolor="black", alpha=0.6))
    ax.set_xlim(-1, last_op + 1)
    ax.set_ylim(0, max(plan.arena_bytes, 1))
    ax.set_xlabel("op index")
    ax.set_ylabel("arena offset (bytes)")
    ax.set_title(f"{title}: {plan.arena_bytes} bytes (blue: tensors, orange: scratch)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
