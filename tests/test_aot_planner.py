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
    memory_map = (tmp_path / "chain_aot_memory.txt").read_text().splitlines()
    assert memory_map[0].startswith(f"arena: {result.arena_bytes} bytes")
    assert sum(" tensor " in line for line in memory_map) == 3  # the three middle activations
    buffers = json.loads(result.json_path.read_text())["arena_buffers"]
    ranges = [LiveRange(tuple(b["buffer"]), b["bytes"], b["first_op"], b["last_op"]) for b in buffers]
    plan = ArenaPlan({r.key: b["offset"] for r, b in zip(ranges, buffers)}, result.arena_bytes, tuple(ranges))
    plan.check()
    # Middle tensors 32, 16, 24 bytes: peak is 16 + 24 at op 2 (or 32 + 16 at op 1) -> 48.
    assert result.arena_bytes == 48


# ---- buffers that may overlap under an OverlapRule ---------------------------------------------


def test_rule_with_shift_zero_lets_the_output_sit_on_its_input() -> None:
    from myoedge.quantize.aot.planner import OverlapRule

    ranges = [LiveRange("x", 96, 0, 1), LiveRange("y", 40, 1, 2)]
    assert plan_arena(ranges, alignment=4).arena_bytes == 136
    plan = plan_arena(ranges, alignment=4, overlaps=[OverlapRule("x", "y", 0)])
    plan.check()
    assert plan.arena_bytes == 96


def test_negative_shift_packs_the_output_just_below_its_input() -> None:
    """Output 100 B may start at most 24 B below its input (100 B): 124 B instead of 200."""
    from myoedge.quantize.aot.planner import OverlapRule

    ranges = [LiveRange("x", 100, 0, 1), LiveRange("y", 100, 1, 2)]
    plan = plan_arena(ranges, alignment=4, overlaps=[OverlapRule("x", "y", -24)])
    plan.check()
    assert plan.offsets["x"] - plan.offsets["y"] >= 24
    assert plan.arena_bytes == 124


def test_check_refuses_a_shift_beyond_the_rule_and_unknown_buffers() -> None:
    from myoedge.quantize.aot.planner import OverlapRule

    ranges = (LiveRange("x", 100, 0, 1), LiveRange("y", 100, 1, 2))
    rule = (OverlapRule("x", "y", -24),)
    ArenaPlan({"x": 24, "y": 0}, 124, ranges, rule).check()
    with pytest.raises(AssertionError, match="overlap"):
        ArenaPlan({"x": 20, "y": 0}, 124, ranges, rule).check()
    with pytest.raises(AssertionError, match="overlap"):  # the rule is one-way: x may not sit below y
        ArenaPlan({"x": 0, "y": 24}, 124, ranges, rule).check()
    with pytest.raises(ValueError, match="not in the plan"):
        plan_arena(list(ranges), overlaps=[OverlapRule("x", "z", 0)])


def test_random_plans_with_rules_are_valid_and_never_worse() -> None:
    from myoedge.quantize.aot.planner import OverlapRule

    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(2, 10))
        ranges = [LiveRange(i, 4 * int(rng.integers(1, 60)), i, i + int(rng.integers(1, 3))) for i in range(n)]
        rules = [OverlapRule(i, i + 1, int(rng.integers(-200, 40))) for i in range(n - 1)
                 if rng.random() < 0.6 and ranges[i].last == i + 1]
        plain = plan_arena(ranges, alignment=4)
        packed = plan_arena(ranges, alignment=4, overlaps=rules)
        packed.check()
        assert packed.arena_bytes <= plain.arena_bytes


def test_memory_map_text_lists_every_buffer_and_marks_overlaps() -> None:
    from myoedge.quantize.aot.planner import OverlapRule, format_memory_map

    ranges = [LiveRange(("t", 1), 96, 0, 1), LiveRange(("t", 2), 40, 1, 2), LiveRange(("s", 1), 8, 1, 1)]
    plan = plan_arena(ranges, alignment=4, overlaps=[OverlapRule(("t", 1), ("t", 2), 0)])
    text = format_memory_map(plan, {("t", 1): "tensor 1 conv", ("t", 2): "tensor 2 pool"})
    lines = text.splitlines()
    assert lines[0] == f"arena: {plan.arena_bytes} bytes, 3 buffers"
    assert len(lines) == 5
    pool_line = next(line for line in lines if "tensor 2 pool" in line)
    assert "overlaps tensor 1 conv at shift 0 (allowed <= 0)" in pool_line
    assert "1..2" in pool_line


# ---- the overlap bounds of overlap.py, checked by simulating the kernels' access order ---------


class _Memory:
    """Arena bytes that remember which input bytes an output write has destroyed."""

    def __init__(self, in_size: int, out_size: int, shift: int) -> None:
        shift = min(shift, in_size)  # beyond the input's end nothing overlaps
        self.in_off = max(0, -shift)
        self.out_off = self.in_off + shift
        self.clobbered = np.zeros(max(self.in_off + in_size, self.out_off + out_size), dtype=bool)
        self.hazard = False

    def read(self, i: int) -> None:
        if self.clobbered[self.in_off + i]:
            self.hazard = True

    def write(self, o: int) -> None:
        self.clobbered[self.out_off + o] = True


def _pool_geometry(rng):
    from myoedge.quantize.aot.ops_conv import compute_padding
    from myoedge.quantize.aot.overlap import window_first_pixels

    n, h, w, c = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 6))
    fh, fw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    padding = str(rng.choice(["SAME", "VALID"]))
    (oh, ph), (ow, pw) = (compute_padding(h, fh, sh, 1, padding), compute_padding(w, fw, sw, 1, padding))
    if oh <= 0 or ow <= 0:
        return None
    first = window_first_pixels(n, (h, w), (oh, ow), (fh, fw), (sh, sw), (ph, pw))
    return dict(n=n, h=h, w=w, c=c, fh=fh, fw=fw, sh=sh, sw=sw, ph=ph, pw=pw, oh=oh, ow=ow, first=first)


def _taps(g, b, oy, ox):
    """Input pixel indices of one output pixel's window, clipped to the image."""
    taps = []
    for fy in range(g["fh"]):
        for fx in range(g["fw"]):
            iy, ix = oy * g["sh"] - g["ph"] + fy, ox * g["sw"] - g["pw"] + fx
            if 0 <= iy < g["h"] and 0 <= ix < g["w"]:
                taps.append((b * g["h"] + iy) * g["w"] + ix)
    return taps


def _simulate_pool(g, shift: int, group: int) -> bool:
    """pooling.c's order (pixel, then channels in groups of ``group``); True if an input byte is read after
    being overwritten."""
    c = g["c"]
    mem = _Memory(g["n"] * g["h"] * g["w"] * c, g["n"] * g["oh"] * g["ow"] * c, shift)
    u = 0
    for b in range(g["n"]):
        for oy in range(g["oh"]):
            for ox in range(g["ow"]):
                taps = _taps(g, b, oy, ox)
                for c0 in range(0, c, group):
                    channels = range(c0, min(c0 + group, c))
                    for ch in channels:
                        for t in taps:
                            mem.read(t * c + ch)
                    for ch in channels:
                        mem.write(u * c + ch)
                u += 1
    return mem.hazard


def test_pooling_bound_is_safe_for_both_paths_and_tight() -> None:
    from myoedge.quantize.aot.overlap import channelwise_max_shift

    rng = np.random.default_rng(6)
    checked = tight = 0
    while checked < 300:
        g = _pool_geometry(rng)
        if g is None:
            continue
        checked += 1
        shift = channelwise_max_shift(g["first"], g["c"])
        assert not _simulate_pool(g, shift, group=1), g   # portable path: one channel at a time
        assert not _simulate_pool(g, shift, group=4), g   # DSP path: four channels per word
        in_size, out_size = g["n"] * g["h"] * g["w"] * g["c"], g["n"] * g["oh"] * g["ow"] * g["c"]
        if -out_size < shift + 1 < in_size:
            assert _simulate_pool(g, shift + 1, group=1), g
            tight += 1
        if g["ph"] == 0 and g["pw"] == 0:  # VALID: always fully in place
            assert shift >= 0
    assert tight > 100


def _simulate_conv(g, out_depth: int, shift: int, pixels_together: int) -> bool:
    """A conv that handles ``pixels_together`` pixels at once and, per output channel, re-reads their
    windows (the most pessimistic order the bound allows)."""
    c = g["c"]
    units = g["n"] * g["oh"] * g["ow"]
    mem = _Memory(g["n"] * g["h"] * g["w"] * c, units * out_depth, shift)
    windows = [_taps(g, b, oy, ox) for b in range(g["n"]) for oy in range(g["oh"]) for ox in range(g["ow"])]
    for u0 in range(0, units, pixels_together):
        group = range(u0, min(u0 + pixels_together, units))
        for oc in range(out_depth):
            for u in group:
                for t in windows[u]:
                    for ch in range(c):
                        mem.read(t * c + ch)
            for u in group:
                mem.write(u * out_depth + oc)
    return mem.hazard


def test_conv_bound_is_safe_for_one_or_two_pixels_at_a_time() -> None:
    from myoedge.quantize.aot.overlap import CONV_PIXELS_IN_FLIGHT, windowed_max_shift

    rng = np.random.default_rng(7)
    checked = 0
    while checked < 150:
        g = _pool_geometry(rng)
        if g is None:
            continue
        checked += 1
        out_depth = int(rng.integers(1, 7))
        shift = windowed_max_shift(g["first"], g["c"], out_depth, CONV_PIXELS_IN_FLIGHT)
        for together in (1, 2):
            assert not _simulate_conv(g, out_depth, shift, together), (g, out_depth, together)


def test_lstm_bound_is_safe_and_tight() -> None:
    from myoedge.quantize.aot.overlap import rowwise_max_shift

    for rows, in_row, out_row in [(1, 3, 5), (2, 1, 16), (60, 1, 16), (7, 9, 4), (5, 6, 6), (12, 3, 20)]:
        shift = rowwise_max_shift(rows, in_row, out_row)
        for trial, expect_hazard in ((shift, False), (shift + 1, True)):
            mem = _Memory(rows * in_row, rows * out_row, trial)
            for r in range(rows):
                for i in range(in_row):
                    mem.read(r * in_row + i)
                for o in range(out_row):
                    mem.write(r * out_row + o)
            overlapping = -rows * out_row < trial < rows * in_row
            assert mem.hazard == (expect_hazard and overlapping and rows > 1), (rows, in_row, out_row, trial)


# ---- overlapping placements through the host build, against TFLM ----------------------------------


OVERLAP_CASES = 30


def _sandwich(rng, kind: str):
    """input -> QUANTIZE -> ``kind`` -> 1x1 MAX_POOL_2D -> output: the middle op reads and writes the arena,
    so the planner may overlap its output with its input. Returns (model, input shape) or None."""
    from myoedge.quantize.aot.ops_conv import compute_padding
    from myoedge.quantize.aot.single_op import Op, Tensor, build_model

    n = int(rng.integers(1, 3))
    h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    c = int(rng.integers(1, 12))
    fh, fw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    padding = str(rng.choice(["SAME", "VALID"]))
    (oh, _), (ow, _) = compute_padding(h, fh, sh, 1, padding), compute_padding(w, fw, sw, 1, padding)
    if oh <= 0 or ow <= 0:
        return None
    s_in, zp_in = float(rng.uniform(0.01, 0.2)), int(rng.integers(-100, 100))
    s_mid, zp_mid = float(rng.uniform(0.01, 0.2)), int(rng.integers(-100, 100))
    options = {"padding": padding, "strideH": sh, "strideW": sw,
               "fusedActivationFunction": str(rng.choice(["NONE", "RELU"]))}
    extra: list = []
    if kind == "CONV_2D":
        oc = int(rng.integers(1, 12))
        s_out, zp_out = float(rng.uniform(0.05, 1.0)), int(rng.integers(-100, 100))
        w_s = rng.uniform(0.001, 0.05, size=oc)
        extra = [Tensor((oc, fh, fw, c), "INT8", list(w_s), [0] * oc, rng.integers(-127, 128, size=(oc, fh, fw, c))),
                 Tensor((oc,), "INT32", list(s_mid * w_s), [0] * oc, rng.integers(-4000, 4000, size=oc))]
    else:
        oc, s_out, zp_out = c, s_mid, zp_mid
        options.update(filterHeight=fh, filterWidth=fw)
    tensors = [Tensor((n, h, w, c), "INT8", [s_in], [zp_in]), Tensor((n, h, w, c), "INT8", [s_mid], [zp_mid]),
               Tensor((n, oh, ow, oc), "INT8", [s_out], [zp_out]), Tensor((n, oh, ow, oc), "INT8", [s_out], [zp_out]),
               *extra]
    middle_inputs = [1] + list(range(4, 4 + len(extra)))
    ops = [Op("QUANTIZE", [0], [1]), Op(kind, middle_inputs, [2], options),
           Op("MAX_POOL_2D", [2], [3], {"padding": "VALID", "strideH": 1, "strideW": 1, "filterHeight": 1,
                                        "filterWidth": 1, "fusedActivationFunction": "NONE"})]
    return build_model(tensors, ops, [0], [3]), (n, h, w, c)


def _buffers_share_bytes(meta: dict) -> bool:
    tensors = [b for b in meta["arena_buffers"] if b["buffer"][0] == "t"]
    return any(a["offset"] < b["offset"] + b["bytes"] and b["offset"] < a["offset"] + a["bytes"]
               for i, a in enumerate(tensors) for b in tensors[i + 1:])


@pytest.mark.parametrize("kind", ["CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("emulate_dsp", [False, True])
def test_overlapped_input_and_output_match_tflm(kind: str, emulate_dsp: bool) -> None:
    """Random shapes: the op writing over its own dying input (as planned) still equals TFLM on every element."""
    pytest.importorskip("tflite_micro")
    from tflite_micro.python.tflite_micro import runtime

    from myoedge.quantize.aot.host_build import AotModel

    rng = np.random.default_rng(["CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"].index(kind) * 10 + int(emulate_dsp))
    done = shared = 0
    failures = []
    while done < OVERLAP_CASES:
        case = _sandwich(rng, kind)
        if case is None:
            continue
        model, x_shape = case
        done += 1
        aot = AotModel(model, name="overlap", emulate_dsp=emulate_dsp)
        shared += _buffers_share_bytes(aot.meta)
        interpreter = runtime.Interpreter.from_bytes(model)
        for _ in range(3):
            x = rng.integers(-128, 128, size=x_shape, dtype=np.int8)
            interpreter.set_input(x, 0)
            interpreter.invoke()
            want = interpreter.get_output(0)
            got = aot.invoke(x)
            if not np.array_equal(got, want):
                failures.append(f"{kind} case {done}, input {x_shape}: {int((got != want).sum())} elements differ")
                break
    assert not failures, "\n".join(failures[:5])
    # Small random convs often gain nothing from overlapping (output larger than input); pools mostly do.
    minimum = OVERLAP_CASES // 6 if kind == "CONV_2D" else OVERLAP_CASES // 2
    assert shared >= minimum, f"only {shared} of {OVERLAP_CASES} plans overlapped the op's buffers"
