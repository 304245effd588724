"""Offline memory planner: places buffers with known lifetimes in one arena.

Every activation buffer of the generated C lives in a single static arena.
A buffer is needed from the op that writes it to the last op that reads it
(inclusive); two buffers whose lifetimes overlap must not overlap in memory,
except where an :class:`OverlapRule` says a kernel tolerates it (an op whose
output may start before the end of its own input, see :mod:`.overlap`).

Placement is greedy: buffers are taken one by one and each goes to the lowest
aligned offset that collides with no already placed buffer alive at the same
time. The order matters, so several orders are tried (:data:`ORDERS`:
"largest first", the strategy TFLM's own greedy planner uses, first; then by
first use, lifetime length, size x lifetime, and two that walk the graph
backwards so that an op's output is placed before its input, which is what
an overlap with a negative shift needs) and the smallest arena wins.

:func:`format_memory_map` prints a plan (offsets and lifetimes) as text and
:func:`save_memory_map_png` draws it.

The planner works on abstract :class:`LiveRange` records; which tensors share
a buffer (views, in-place ops) is decided by the generator before it calls
:func:`plan_arena`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Iterable


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
class OverlapRule:
    """Buffer ``later`` may overlap buffer ``earlier`` in memory when
    ``offset(later) - offset(earlier) <= max_shift``.

    It describes one op that reads ``earlier`` (its last use) and writes
    ``later`` (its first write) in an order that never overwrites an input
    byte before reading it; ``max_shift >= 0`` means fully in place.
    """

    earlier: Hashable
    later: Hashable
    max_shift: int


@dataclass(frozen=True)
class ArenaPlan:
    """Arena offsets per buffer key and the arena size (peak, aligned)."""

    offsets: dict[Hashable, int]
    arena_bytes: int
    ranges: tuple[LiveRange, ...]
    overlaps: tuple[OverlapRule, ...] = ()

    def check(self) -> None:
        """Raise ``AssertionError`` if two live-overlapping buffers overlap in memory
        (beyond what an :class:`OverlapRule` allows)."""
        rules = {(r.earlier, r.later): r.max_shift for r in self.overlaps}
        placed = list(self.ranges)
        for i, a in enumerate(placed):
            a_off = self.offsets[a.key]
            if a_off < 0 or a_off + a.size > self.arena_bytes:
                raise AssertionError(f"buffer {a.key!r} at {a_off}+{a.size} is outside the arena")
            for b in placed[i + 1:]:
                b_off = self.offsets[b.key]
                if not (a.size and b.size and a.overlaps(b) and a_off < b_off + b.size and b_off < a_off + a.size):
                    continue
                if (a.key, b.key) in rules and b_off - a_off <= rules[(a.key, b.key)]:
                    continue
                if (b.key, a.key) in rules and a_off - b_off <= rules[(b.key, a.key)]:
                    continue
                raise AssertionError(f"buffers {a.key!r} and {b.key!r} overlap in time and memory")


def align_up(value: int, alignment: int) -> int:
    """``value`` rounded up to a multiple of ``alignment``."""
    return (value + alignment - 1) // alignment * alignment


def _forbidden_interval(r: LiveRange, p: LiveRange, p_off: int,
                        rules: dict[tuple[Hashable, Hashable], int]) -> tuple[int, int]:
    """Open interval (lo, hi) of offsets of ``r`` that collide with ``p`` placed at ``p_off``.

    Without a rule, ``r`` must end at or before ``p`` starts (``o <= p_off -
    r.size``) or start at or after ``p`` ends (``o >= p_off + p.size``). A
    rule adds the allowed ray of shifts it permits.
    """
    lo, hi = p_off - r.size, p_off + p.size
    if (p.key, r.key) in rules:  # r is the op's output, p its input: o - p_off <= shift is fine
        lo = max(lo, p_off + rules[(p.key, r.key)])
    if (r.key, p.key) in rules:  # r is the input, p the output: p_off - o <= shift is fine
        hi = min(hi, p_off - rules[(r.key, p.key)])
    return lo, hi


def _place(order: list[LiveRange], alignment: int,
           rules: dict[tuple[Hashable, Hashable], int]) -> tuple[dict[Hashable, int], int]:
    """Greedy placement in ``order``: each buffer at the lowest aligned free offset."""
    offsets: dict[Hashable, int] = {}
    placed: list[LiveRange] = []
    peak = 0
    for r in order:
        if r.size == 0:
            offsets[r.key] = 0
            continue
        intervals = [_forbidden_interval(r, p, offsets[p.key], rules) for p in placed if p.overlaps(r)]
        candidate = 0
        moved = True
        while moved:
            moved = False
            for lo, hi in intervals:
                if lo < candidate < hi:
                    candidate = align_up(hi, alignment)
                    moved = True
        offsets[r.key] = candidate
        placed.append(r)
        peak = max(peak, candidate + r.size)
    return offsets, align_up(peak, alignment)


ORDERS: tuple[tuple[str, Callable[[LiveRange], tuple]], ...] = (
    ("largest first", lambda r: (-r.size, r.first, r.last)),
    ("first use", lambda r: (r.first, -r.size, r.last)),
    ("longest lifetime", lambda r: (-(r.last - r.first), -r.size, r.first)),
    ("size x lifetime", lambda r: (-r.size * (r.last - r.first + 1), r.first)),
    # Backwards from the last op: an op's output is placed before its input, which
    # lets an OverlapRule with a negative shift slide the input up into it.
    ("last use, backwards", lambda r: (-r.last, -r.first, -r.size)),
    ("largest first, backwards", lambda r: (-r.size, -r.last, -r.first)),
)
"""Placement orders :func:`plan_arena` tries; ties keep the earlier order."""


def plan_arena(ranges: list[LiveRange], alignment: int = 16, overlaps: Iterable[OverlapRule] = ()) -> ArenaPlan:
    """Place ``ranges`` in one arena, trying every order of :data:`ORDERS`; the smallest wins.

    ``overlaps`` lists pairs of buffers that may share memory at bounded
    shifts (see :class:`OverlapRule`). Zero-size buffers get offset 0 and
    take no space. Raises ``ValueError`` for a negative size, a range that
    ends before it starts, duplicate keys or a rule naming an unknown buffer.
    """
    keys = [r.key for r in ranges]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate buffer keys in the plan")
    for r in ranges:
        if r.size < 0 or r.last < r.first:
            raise ValueError(f"buffer {r.key!r}: size {r.size}, lifetime {r.first}..{r.last}")
    overlaps = tuple(overlaps)
    known = set(keys)
    for rule in overlaps:
        if rule.earlier not in known or rule.later not in known:
            raise ValueError(f"overlap rule {rule!r} names a buffer that is not in the plan")
    rules = {(rule.earlier, rule.later): int(rule.max_shift) for rule in overlaps}
    best: tuple[dict[Hashable, int], int] | None = None
    for _, key in ORDERS:
        offsets, arena = _place(sorted(ranges, key=key), alignment, rules)
        if best is None or arena < best[1]:
            best = (offsets, arena)
    assert best is not None
    return ArenaPlan(offsets=best[0], arena_bytes=best[1], ranges=tuple(ranges), overlaps=overlaps)


def naive_arena_bytes(ranges: list[LiveRange], alignment: int = 16) -> int:
    """Arena size without any reuse (every buffer gets its own slot): the baseline to beat."""
    return sum(align_up(r.size, alignment) for r in ranges)


def _sharing_rules(plan: ArenaPlan) -> dict[Hashable, OverlapRule]:
    """The rules whose two buffers really share bytes in ``plan``, keyed by the later buffer."""
    sizes = {r.key: r.size for r in plan.ranges}
    used = {}
    for rule in plan.overlaps:
        shift = plan.offsets[rule.later] - plan.offsets[rule.earlier]
        if -sizes[rule.later] < shift < sizes[rule.earlier]:
            used[rule.later] = rule
    return used


def format_memory_map(plan: ArenaPlan, labels: dict[Hashable, str] | None = None) -> str:
    """The plan as a text table, one buffer per line in offset order: offset, end, bytes,
    lifetime (first..last op) and a label; buffers that share memory under an
    :class:`OverlapRule` are marked with the shift the rule allows."""
    labels = labels or {}
    shared = {}
    for later, rule in _sharing_rules(plan).items():
        shift = plan.offsets[later] - plan.offsets[rule.earlier]
        shared[later] = f"overlaps {labels.get(rule.earlier, repr(rule.earlier))} at shift {shift} " \
                        f"(allowed <= {rule.max_shift})"
    rows = [f"arena: {plan.arena_bytes} bytes, {len(plan.ranges)} buffers",
            f"{'offset':>8} {'end':>8} {'bytes':>8} {'ops':>9}  buffer"]
    for r in sorted(plan.ranges, key=lambda r: (plan.offsets[r.key], r.first)):
        if r.size == 0:
            continue
        off = plan.offsets[r.key]
        label = labels.get(r.key, repr(r.key))
        note = f"  [{shared[r.key]}]" if r.key in shared else ""
        rows.append(f"{off:>8} {off + r.size:>8} {r.size:>8} {f'{r.first}..{r.last}':>9}  {label}{note}")
    return "\n".join(rows)


def save_memory_map_png(plan: ArenaPlan, path, title: str = "AOT activation arena") -> None:
    """Draw the plan (x: op index, y: arena offset; one box per buffer) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(8, 4.5))
    last_op = max((r.last for r in plan.ranges), default=0)
    overlapping = set(_sharing_rules(plan))
    for r in plan.ranges:
        if r.size == 0:
            continue
        off = plan.offsets[r.key]
        is_tensor = isinstance(r.key, tuple) and r.key[0] == "t"
        ax.add_patch(Rectangle((r.first - 0.4, off), r.last - r.first + 0.8, r.size,
                               facecolor="tab:blue" if is_tensor else "tab:orange",
                               edgecolor="black", alpha=0.6, hatch="//" if r.key in overlapping else None))
    ax.set_xlim(-1, last_op + 1)
    ax.set_ylim(0, max(plan.arena_bytes, 1))
    ax.set_xlabel("op index")
    ax.set_ylabel("arena offset (bytes)")
    ax.set_title(f"{title}: {plan.arena_bytes} bytes\n"
                 "(blue: tensors, orange: scratch, hatched: overlaps its op's input)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
