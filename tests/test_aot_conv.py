"""Bit-exact parity of the AOT kernels with TFLM on randomised single-op models.

Each case is one freshly built .tflite holding a single op with random shapes,
scales, zero points, weights, strides, padding and fused activation
(``myoedge.quantize.aot.single_op`` writes the flatbuffer directly, so a case
costs milliseconds instead of a converter run). The generated C, compiled for
the host, must give TFLM's int8 output on every element for several random
inputs. The default run checks 200 cases per kernel; ``-m slow`` checks 1000.
CONV_2D and DEPTHWISE_CONV_2D also run 200 cases through the kernels' DSP
path (intrinsics emulated on the host), FULLY_CONNECTED a subset, to show
both paths agree; the conv cases mix input depths 1, odd, and multiples of 4,
output depths that are not multiples of the kernels' channel block, SAME and
VALID padding, strides and dilations.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from myoedge.quantize.aot.host_build import AotModel  # noqa: E402
from myoedge.quantize.aot.ops_conv import (  # noqa: E402
    compute_padding,
    conv_byte_position,
    pack_conv_filter,
    pack_depthwise_filter,
    resolve_strided_slice,
)
from myoedge.quantize.aot.single_op import Tensor, single_op_model  # noqa: E402

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
INPUTS_PER_CASE = 3


def _quant(rng: np.random.Generator, low: float = 0.003, high: float = 0.3) -> tuple[float, int]:
    """A random (scale, zero point) for an int8 tensor."""
    return float(rng.uniform(low, high)), int(rng.integers(-128, 128))


# Input depths that exercise every path of the conv kernels: 1 (first layers), depths
# that are not a multiple of 4 (generic im2col), multiples of 4 (word-wise im2col).
CONV_DEPTHS = (1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 32)


def _conv_like(rng: np.random.Generator, kind: str) -> tuple[dict, bytes, tuple[int, ...]] | None:
    """A random CONV_2D / DEPTHWISE_CONV_2D / pooling case, or None if the shape is empty."""
    n = int(rng.integers(1, 3)) if kind != "DEPTHWISE_CONV_2D" else 1
    h, w, c = (int(v) for v in rng.integers(1, 9, size=3))
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        c = int(rng.choice(CONV_DEPTHS))
    fh, fw = (int(v) for v in rng.integers(1, 4, size=2))
    if kind == "DEPTHWISE_CONV_2D" and rng.integers(0, 3) == 0:
        fh, fw = int(rng.integers(1, 8)), 1  # temporal filters on (T, 1, C) maps, as the edge model uses
    sh, sw = (int(v) for v in rng.integers(1, 3, size=2))
    windowed = kind in ("CONV_2D", "DEPTHWISE_CONV_2D")
    dh, dw = (int(v) for v in rng.integers(1, 3, size=2)) if windowed else (1, 1)
    padding = str(rng.choice(["SAME", "VALID"]))
    oh, _ = compute_padding(h, fh, sh, dh, padding)
    ow, _ = compute_padding(w, fw, sw, dw, padding)
    if oh <= 0 or ow <= 0:
        return None
    in_s, in_zp = _quant(rng)
    out_s, out_zp = _quant(rng, 0.01, 1.0)
    act = str(rng.choice(ACTIVATIONS))
    params = dict(kind=kind, input=(n, h, w, c), filter=(fh, fw), stride=(sh, sw), dilation=(dh, dw),
                  padding=padding, activation=act, in_q=(in_s, in_zp), out_q=(out_s, out_zp))
    options = {"padding": padding, "strideH": sh, "strideW": sw, "fusedActivationFunction": act}
    if kind == "CONV_2D":
        oc = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 13, 16]))
        w_s = rng.uniform(0.001, 0.05, size=oc)
        extra = [
            Tensor((oc, fh, fw, c), "INT8", list(w_s), [0] * oc, rng.integers(-127, 128, size=(oc, fh, fw, c))),
            Tensor((oc,), "INT32", list(in_s * w_s), [0] * oc, rng.integers(-4000, 4000, size=oc)),
        ]
        options.update(dilationHFactor=dh, dilationWFactor=dw)
    elif kind == "DEPTHWISE_CONV_2D":
        mult = int(rng.choice([1, 2, 3, 4, 5, 8]))
        oc = c * mult
        w_s = rng.uniform(0.001, 0.05, size=oc)
        extra = [
            Tensor((1, fh, fw, oc), "INT8", list(w_s), [0] * oc, rng.integers(-127, 128, size=(1, fh, fw, oc)),
                   quantized_dimension=3),
            Tensor((oc,), "INT32", list(in_s * w_s), [0] * oc, rng.integers(-4000, 4000, size=oc)),
        ]
        options.update(dilationHFactor=dh, dilationWFactor=dw, depthMultiplier=mult)
        params["depth_multiplier"] = mult
    else:
        oc, out_s, out_zp = c, in_s, in_zp  # pooling keeps the quantisation
        extra = []
        options.update(filterHeight=fh, filterWidth=fw)
    params["output_depth"] = oc
    model = single_op_model(kind, Tensor((n, h, w, c), "INT8", [in_s], [in_zp]),
                            Tensor((n, oh, ow, oc), "INT8", [out_s], [out_zp]), extra, options)
    return params, model, (n, h, w, c)


def _fully_connected(rng: np.random.Generator) -> tuple[dict, bytes, tuple[int, ...]]:
    rows = int(rng.integers(1, 5))
    accum = int(rng.integers(1, 48))
    units = int(rng.integers(1, 24))
    per_channel = bool(rng.integers(0, 2))
    three_d = bool(rng.integers(0, 2))
    with_bias = bool(rng.integers(0, 4))  # mostly with bias
    in_s, in_zp = _quant(rng)
    out_s, out_zp = _quant(rng, 0.01, 1.0)
    act = str(rng.choice(ACTIVATIONS))
    w_s = rng.uniform(0.001, 0.05, size=units if per_channel else 1)
    x_shape = (1, rows, accum) if three_d else (rows, accum)
    y_shape = (1, rows, units) if three_d else (rows, units)
    extra = [
        Tensor((units, accum), "INT8", list(w_s), [0] * w_s.size, rng.integers(-127, 128, size=(units, accum))),
        Tensor((units,), "INT32", list(in_s * w_s), [0] * w_s.size, rng.integers(-20000, 20000, size=units))
        if with_bias else None,
    ]
    params = dict(kind="FULLY_CONNECTED", input=x_shape, units=units, per_channel=per_channel, bias=with_bias,
                  activation=act, in_q=(in_s, in_zp), out_q=(out_s, out_zp))
    model = single_op_model("FULLY_CONNECTED", Tensor(x_shape, "INT8", [in_s], [in_zp]),
                            Tensor(y_shape, "INT8", [out_s], [out_zp]), extra,
                            {"fusedActivationFunction": act, "keepNumDims": three_d})
    return params, model, x_shape


def _transpose(rng: np.random.Generator) -> tuple[dict, bytes, tuple[int, ...]]:
    dims = int(rng.integers(1, 6))  # TFLM's TRANSPOSE takes 1-D to 5-D
    shape = tuple(int(v) for v in rng.integers(1, 5, size=dims))
    perm = [int(v) for v in rng.permutation(dims)]
    s, zp = _quant(rng)
    out_shape = tuple(shape[p] for p in perm)
    model = single_op_model("TRANSPOSE", Tensor(shape, "INT8", [s], [zp]), Tensor(out_shape, "INT8", [s], [zp]),
                            [Tensor((dims,), "INT32", data=np.array(perm))])
    return dict(kind="TRANSPOSE", shape=shape, perm=perm), model, shape


def _strided_slice(rng: np.random.Generator) -> tuple[dict, bytes, tuple[int, ...]]:
    dims = int(rng.integers(1, 5))
    shape = tuple(int(v) for v in rng.integers(1, 7, size=dims))
    while True:
        begin = [int(rng.integers(-d, d + 1)) for d in shape]
        end = [int(rng.integers(-d - 1, d + 2)) for d in shape]
        strides = [int(rng.choice([-2, -1, 1, 1, 2, 3])) for _ in shape]
        options = {"beginMask": int(rng.integers(0, 1 << dims)), "endMask": int(rng.integers(0, 1 << dims)),
                   "shrinkAxisMask": int(rng.integers(0, 1 << dims)) if rng.integers(0, 3) == 0 else 0}
        for axis, d in enumerate(shape):  # shrunk axes index one element, as the converter writes them
            if options["shrinkAxisMask"] & (1 << axis):
                begin[axis] = int(rng.integers(-d, d))
                strides[axis] = 1
                options["beginMask"] &= ~(1 << axis)
        snake = {"begin_mask": options["beginMask"], "end_mask": options["endMask"],
                 "shrink_axis_mask": options["shrinkAxisMask"]}
        _, _, counts = resolve_strided_slice(shape, begin, end, strides, snake)
        if all(c > 0 for c in counts):
            break
    out_shape = tuple(c for axis, c in enumerate(counts) if not options["shrinkAxisMask"] & (1 << axis))
    s, zp = _quant(rng)
    consts = [Tensor((dims,), "INT32", data=np.array(v)) for v in (begin, end, strides)]
    model = single_op_model("STRIDED_SLICE", Tensor(shape, "INT8", [s], [zp]),
                            Tensor(out_shape, "INT8", [s], [zp]), consts, options)
    params = dict(kind="STRIDED_SLICE", shape=shape, begin=begin, end=end, strides=strides, **options)
    return params, model, shape


def _reshape(rng: np.random.Generator) -> tuple[dict, bytes, tuple[int, ...]]:
    shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 5))))
    total = int(np.prod(shape))
    out_shape = (1, total) if rng.integers(0, 2) else (total,)
    s, zp = _quant(rng)
    model = single_op_model("RESHAPE", Tensor(shape, "INT8", [s], [zp]), Tensor(out_shape, "INT8", [s], [zp]),
                            [Tensor((len(out_shape),), "INT32", data=np.array(out_shape))],
                            {"newShape": list(out_shape)})
    return dict(kind="RESHAPE", shape=shape, out_shape=out_shape), model, shape


def _quantize(rng: np.random.Generator) -> tuple[dict, bytes, tuple[int, ...]]:
    shape = tuple(int(v) for v in rng.integers(1, 8, size=int(rng.integers(1, 4))))
    in_s, in_zp = _quant(rng, 0.001, 1.0)
    out_s, out_zp = _quant(rng, 0.001, 1.0)
    model = single_op_model("QUANTIZE", Tensor(shape, "INT8", [in_s], [in_zp]),
                            Tensor(shape, "INT8", [out_s], [out_zp]))
    return dict(kind="QUANTIZE", shape=shape, in_q=(in_s, in_zp), out_q=(out_s, out_zp)), model, shape


CASE_BUILDERS: dict[str, Callable[[np.random.Generator], tuple[dict, bytes, tuple[int, ...]] | None]] = {
    "CONV_2D": lambda rng: _conv_like(rng, "CONV_2D"),
    "DEPTHWISE_CONV_2D": lambda rng: _conv_like(rng, "DEPTHWISE_CONV_2D"),
    "MAX_POOL_2D": lambda rng: _conv_like(rng, "MAX_POOL_2D"),
    "AVERAGE_POOL_2D": lambda rng: _conv_like(rng, "AVERAGE_POOL_2D"),
    "FULLY_CONNECTED": _fully_connected,
    "TRANSPOSE": _transpose,
    "STRIDED_SLICE": _strided_slice,
    "RESHAPE": _reshape,
    "QUANTIZE": _quantize,
}


def tflm_output(model: bytes, x: np.ndarray) -> np.ndarray:
    """TFLM's output for one input (a fresh interpreter per model)."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model)
    interpreter.set_input(x, 0)
    interpreter.invoke()
    return interpreter.get_output(0)


def run_cases(kind: str, n_cases: int, seed: int, emulate_dsp: bool = False) -> tuple[int, list[str]]:
    """Build ``n_cases`` random models of ``kind``; return (cases run, failure descriptions)."""
    from tflite_micro.python.tflite_micro import runtime

    rng = np.random.default_rng(seed)
    failures: list[str] = []
    done = 0
    while done < n_cases:
        case = CASE_BUILDERS[kind](rng)
        if case is None:
            continue
        params, model, x_shape = case
        done += 1
        interpreter = runtime.Interpreter.from_bytes(model)
        aot = AotModel(model, name="single_op", emulate_dsp=emulate_dsp)
        for _ in range(INPUTS_PER_CASE):
            x = rng.integers(-128, 128, size=x_shape, dtype=np.int8)
            interpreter.set_input(x, 0)
            interpreter.invoke()
            expected = interpreter.get_output(0).reshape(-1)
            got = aot.invoke(x).reshape(-1)
            if not np.array_equal(expected, got):
                first = int(np.flatnonzero(expected != got)[0])
                failures.append(
                    f"{kind} case {done} {params}: {int((expected != got).sum())} of {expected.size} elements "
                    f"differ, first at flat index {first}: aot={got[first]} tflm={expected[first]}"
                )
                break
    return done, failures


@pytest.mark.parametrize("kind", sorted(CASE_BUILDERS))
def test_single_op_parity(kind: str) -> None:
    """200 random cases per kernel, 3 random inputs each, equal to TFLM on every element."""
    done, failures = run_cases(kind, 200, seed=sorted(CASE_BUILDERS).index(kind) + 11)
    assert done == 200
    assert not failures, "\n".join(failures[:5])


@pytest.mark.parametrize(("kind", "cases"), [("CONV_2D", 200), ("DEPTHWISE_CONV_2D", 200), ("FULLY_CONNECTED", 60)])
def test_dsp_path_matches_tflm(kind: str, cases: int) -> None:
    """The SMLAD/SXTB16 inner loops (intrinsics emulated on the host) give the same bits."""
    done, failures = run_cases(kind, cases, seed=97, emulate_dsp=True)
    assert done == cases
    assert not failures, "\n".join(failures[:5])


def test_conv_filter_packing_places_every_weight_once() -> None:
    """pack_conv_filter puts weight (o, k) where the kernel reads it, zeros in the padding."""
    rng = np.random.default_rng(3)
    for channels, taps in [(1, 1), (3, 9), (5, 10), (8, 288), (13, 7)]:
        weights = rng.integers(-127, 128, size=(channels, taps), dtype=np.int8)
        packed = pack_conv_filter(weights.reshape(channels, 1, 1, taps))
        taps4 = -(-taps // 4) * 4
        channels4 = -(-channels // 4) * 4
        assert packed.size == channels4 * taps4
        for o in range(channels4):
            for k in range(taps4):
                position = (o // 4) * 4 * taps4 + (k // 4) * 16 + conv_byte_position(o % 4, k % 4)
                expected = weights[o, k] if o < channels and k < taps else 0
                assert packed[position] == expected, (channels, taps, o, k)


def test_depthwise_filter_packing_pairs_taps() -> None:
    """pack_depthwise_filter: int16 [in_c][tap_pairs][multiplier][2], the missing odd tap 0."""
    rng = np.random.default_rng(4)
    fh, fw, in_c, mult = 5, 1, 3, 2
    weights = rng.integers(-127, 128, size=(1, fh, fw, in_c * mult), dtype=np.int8)
    packed = pack_depthwise_filter(weights, mult).reshape(in_c, 3, mult, 2)
    taps = weights.reshape(fh * fw, in_c * mult)
    for ic in range(in_c):
        for m in range(mult):
            for t in range(6):
                expected = taps[t, ic * mult + m] if t < fh * fw else 0
                assert packed[ic, t // 2, m, t % 2] == expected


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(CASE_BUILDERS))
def test_single_op_parity_sweep(kind: str) -> None:
    """The long sweep: 1000 more random cases per kernel."""
    done, failures = run_cases(kind, 1000, seed=1000 + sorted(CASE_BUILDERS).index(kind))
    assert not failures, "\n".join(failures[:5])


def test_strided_slice_resolution_matches_numpy() -> None:
    """The begin/end/stride resolution picks the elements numpy's slicing picks."""
    rng = np.random.default_rng(5)
    for _ in range(300):
        dim = int(rng.integers(1, 9))
        b, e = int(rng.integers(-dim - 2, dim + 3)), int(rng.integers(-dim - 2, dim + 3))
        step = int(rng.choice([-3, -2, -1, 1, 2, 3]))
        starts, steps, counts = resolve_strided_slice((dim,), [b], [e], [step], {})
        expected = np.arange(dim)[b:e:step]
        got = starts[0] + steps[0] * np.arange(counts[0])
        assert np.array_equal(expected, got), (dim, b, e, step)
