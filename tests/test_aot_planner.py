"""The offline arena planner: no two live buffers overlap, memory is reused,
views and in-place ops share buffers, and the generated arena matches the plan."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from myoedge.quantize.aot.planner import ArenaPlan, LiveRange, align_up, naive_arena_bytes, plan_arena


def _overlap_free(plan: ArenaPlan) -> None:
    plan.check()


def test_disjoint_lifetimes_share_offset_zero() -> None:
    ranges = [LiveRange("a", 100, 0, 1), LiveRange("b", 80, 2, 3), LiveRange("c", 60, 4, 5)]
    plan = plan_arena(ranges, alignment=4)
    assert all(plan.offsets[k] == 0 for k in "abc")
    assert plan.arena_bytes == 100


def test_overlapping_lifetimes_get_separate_memory() -> None:
    ranges = [LiveRange("a", 10, 0, 2), LiveRange("b", 7, 1, 3)]
    plan = plan_arena(ranges, alignment=4)
    _overlap_free(plan)
    assert plan.arena_bytes == align_up(10, 4) + align_up(7, 4)


def test_chain_of_layers_needs_only_two_largest_neighbours() -> None:
    # A chain x0 -> x1 -> x2 -> x3: each op needs its input and output alive.
    sizes = [64, 256, 32, 128]
    ranges = [LiveRange(i, s, i, i + 1) for i, s in enumerate(sizes)]
    plan = plan_arena(ranges, alignment=16)
    _overlap_free(plan)
    assert plan.arena_bytes == max(a + b for a, b in zip(sizes, sizes[1:]))


def test_offsets_are_aligned_and_zero_size_is_free() -> None:
    ranges = [LiveRange("a", 5, 0, 3), LiveRange("b", 3, 0, 3), LiveRange("z", 0, 0, 3)]
    plan = plan_arena(ranges, alignment=8)
    assert all(off % 8 == 0 for off in plan.offsets.values())
    assert plan.offsets["z"] == 0
    _overlap_free(plan)


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="lifetime"):
        plan_arena([LiveRange("a", 4, 3, 1)])
    with pytest.raises(ValueError, match="duplicate"):
        plan_arena([LiveRange("a", 4, 0, 1), LiveRange("a", 4, 0, 1)])


def test_check_catches_a_collision() -> None:
    ranges = (LiveRange("a", 8, 0, 2), LiveRange("b", 8, 1, 2))
    with pytest.raises(AssertionError, match="overlap"):
        ArenaPlan(offsets={"a": 0, "b": 4}, arena_bytes=16, ranges=ranges).check()


def test_random_plans_are_valid_and_never_worse_than_no_reuse() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(1, 14))
        ranges = []
        for i in range(n):
            first = int(rng.integers(0, 10))
            ranges.append(LiveRange(i, int(rng.integers(0, 500)), first, first + int(rng.integers(0, 4))))
        plan = plan_arena(ranges, alignment=4)
        _overlap_free(plan)
        # Lower bound: at every op the live buffers must fit side by side.
        peak_live = max(
            sum(align_up(r.size, 4) if r.size else 0 for r in ranges if r.first <= t <= r.last)
            for t in range(0, 14)
        )
        assert plan.arena_bytes >= max((r.size for r in ranges), default=0)
        assert plan.arena_bytes <= naive_arena_bytes(ranges, alignment=4)
        assert peak_live <= naive_arena_bytes(ranges, alignment=4)


def test_small_cases_match_the_best_order_often() -> None:
    """Greedy by size is optimal on every 3-buffer case here (sizes aligned)."""
    rng = np.random.default_rng(4)
    for _ in range(100):
        ranges = [LiveRange(i, 4 * int(rng.integers(1, 20)), int(f), int(f) + int(rng.integers(0, 3)))
                  for i, f in enumerate(rng.integers(0, 4, size=3))]
        plan = plan_arena(ranges, alignment=4)
        best = None
        for order in itertools.permutations(ranges):
            offsets: dict[int, int] = {}
            top = 0
            for r in order:
                busy = sorted((offsets[p.key], offsets[p.key] + p.size) for p in order
                              if p.key in offsets and p.overlaps(r))
                cand = 0
                for s, e in busy:
                    if cand + r.size <= s:
                        break
                    cand = max(cand, e)
                offsets[r.key] = cand
                top = max(top, cand + r.size)
            best = top if best is None else min(best, top)
        assert plan.arena_bytes == best


# ---- the planner inside the generator -------------------------------------------------------


def _generate(model: bytes, tmp_path):
    from myoedge.quantize.aot.generate import generate_c

    return generate_c(model, tmp_path, "plan")


def test_reshape_is_an_alias_and_costs_no_arena(tmp_path) -> None:
    """input -> FC -> RESHAPE -> FC -> output: the reshape emits no code and shares the FC's buffer."""
    from myoedge.quantize.aot.single_op import Op, Tensor, build_model

    rng = np.random.default_rng(0)
    tensors = [
        Tensor((1, 8), "INT8", [0.05], [3]),                        # 0 input
        Tensor((1, 12), "INT8", [0.1], [-5]),                        # 1 fc1 out
        Tensor((3, 4), "INT8", [0.1], [-5]),                         # 2 reshaped
        Tensor((3, 2), "INT8", [0.2], [7]),                          # 3 output (3 rows of 2)
        Tensor((12, 8), "INT8", [0.01], [0], rng.integers(-127, 128, (12, 8))),
        Tensor((2, 4), "INT8", [0.02], [0], rng.integers(-127, 128, (2, 4))),
        Tensor((2,), "INT32", data=np.array([3, 4])),
    ]
    ops = [Op("FULLY_CONNECTED", [0, 4, -1], [1]), Op("RESHAPE", [1, 6], [2]),
           Op("FULLY_CONNECTED", [2, 5, -1], [3])]
    model = build_model(tensors, ops, [0], [3])
    result = _generate(model, tmp_path)
    assert [o.aliased for o in result.ops] == [False, True, False]
    assert result.arena_bytes == 12  # only fc1's output lives in the arena
    assert "mye_copy_bytes" not in result.c_path.read_text()


def test_reshape_of_the_input_straight_to_the_output_is_a_copy(tmp_path) -> None:
    """A view cannot join the caller's input and output buffers: the copy kernel runs."""
    from myoedge.quantize.aot.single_op import Tensor, single_op_model

    model = single_op_model("RESHAPE", Tensor((2, 3), "INT8", [0.1], [0]), Tensor((6,), "INT8", [0.1], [0]),
                            [Tensor((1,), "INT32", data=np.array([6]))], {"newShape": [6]})
    result = _generate(model, tmp_path)
    assert result.ops[0].aliased is False
    assert result.kernels_used == ["mye_copy_bytes"]
    assert result.arena_bytes == 0


def test_in_place_op_reuses_its_input_buffer(tmp_path) -> None:
    """QUANTIZE (in-place capable) whose input dies at the op writes over it."""
    from myoedge.quantize.aot.single_op import Op, Tensor, build_model

    rng = np.random.default_rng(1)
    tensors = [
        Tensor((1, 8), "INT8", [0.05], [3]),
        Tensor((1, 16), "INT8", [0.1], [-5]),
        Tensor((1, 16), "INT8", [0.3], [2]),
        Tensor((1, 4), "INT8", [0.2], [7]),
        Tensor((16, 8), "INT8", [0.01], [0], rng.integers(-127, 128, (16, 8))),
        Tensor((4, 16), "INT8", [0.02], [0], rng.integers(-127, 128, (4, 16))),
    ]
    ops = [Op("FULLY_CONNECTED", [0, 4, -1], [1]), Op("QUANTIZE", [1], [2]),
           Op("FULLY_CONNECTED", [2, 5, -1], [3])]
    result = _generate(build_model(tensors, ops, [0], [3]), tmp_path)
    assert result.arena_bytes == 16


def test_generator_reports_its_arena_plan_and_draws_it(tmp_path) -> None:
    """The JSON lists every arena buffer with its lifetime and offset; the PNG is written."""
    import json

    from myoedge.quantize.aot.generate import generate_c
    from myoedge.quantize.aot.single_op import Op, Tensor, build_model

    rng = np.random.default_rng(2)
    sizes = [8, 32, 16, 24, 4]
    tensors = [Tensor((1, s), "INT8", [0.05], [1]) for s in sizes]
    weights = [Tensor((b, a), "INT8", [0.01], [0], rng.integers(-127, 128, (b, a))) for a, b in zip(sizes, sizes[1:])]
    ops = [Op("FULLY_CONNECTED", [i, len(sizes) + i, -1], [i + 1]) for i in range(len(sizes) - 1)]
    result = generate_c(build_model(tensors + weights, ops, [0], [len(sizes) - 1]), tmp_path, "chain",
                        memory_map_png=True)
    assert (tmp_path / "chain_aot_memory.png").stat().st_size > 1000
    buffers = json.loads(result.json_path.read_text())["arena_buffers"]
    ranges = [LiveRange(tuple(b["buffer"]), b["bytes"], b["first_op"], b["last_op"]) for b in buffers]
    plan = ArenaPlan({r.key: b["offset"] for r, b in zip(ranges, buffers)}, result.arena_bytes, tuple(ranges))
    plan.check()
    # Middle tensors 32, 16, 24 bytes: peak is 16 + 24 at op 2 (or 32 + 16 at op 1) -> 48.
    assert result.arena_bytes == 48
