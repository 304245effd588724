"""Bit-exact parity of the AOT kernels with TFLM on randomised single-op models.

Each case is one freshly built .tflite holding a single op with random shapes,
scales, zero points, weights, strides, padding and fused activation
(``myoedge.quantize.aot.single_op`` writes the flatbuffer directly, so a case
costs milliseconds instead of a converter run). The generated C, compiled for
the host, must give TFLM's int8 output on every element for several random
inputs. The default run checks 200 cases per kernel; ``-m slow`` checks 1000.
A subset is also run through the kernels' DSP path (intrinsics emulated on
the host) to show both paths agree.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from myoedge.quantize.aot.host_build import AotModel  # noqa: E402
from myoedge.quantize.aot.ops_conv import compute_padding, resolve_strided_slice  # noqa: E402
from myoedge.quantize.aot.single_op import Tensor, single_op_model  # noqa: E402

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
INPUTS_PER_CASE = 3


def _quant(rng: np.random.Generator, low: float = 0.003, high: float = 0.3) -> tuple[float, int]:
    """A random (scale, zero point) for an int8 tensor."""
    return float(rng.uniform(low, high)), int(rng.integers(-128, 128))


def _conv_like(rng: np.random.Generator, kind: str) -> tuple[dict, bytes, tuple[int, ...]] | None:
    """A random CONV_2D / DEPTHWISE_CONV_2D / pooling case, or None if the shape is empty."""
    n = int(rng.integers(1, 3)) if kind != "DEPTHWISE_CONV_2D" else 1
    h, w, c = (int(v) for v in rng.integers(1, 9, size=3))
    fh, fw = (int(v) for v in rng.integers(1, 4, size=2))
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
        oc = int(rng.integers(1, 9))
        w_s = rng.uniform(0.001, 0.05, size=oc)
        extra = [
            Tensor((oc, fh, fw, c), "INT8", list(w_s), [0] * oc, rng.integers(-127, 128, size=(oc, fh, fw, c))),
            Tensor((oc,), "INT32", list(in_s * w_s), [0] * oc, rng.integers(-4000, 4000, size=oc)),
        ]
        options.update(dilationHFactor=dh, dilationWFactor=dw)
    elif kind == "DEPTHWISE_CONV_2D":
        mult = int(rng.integers(1, 3))
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


@pytest.mark.parametrize("kind", ["CONV_2D", "FULLY_CONNECTED"])
def test_dsp_path_matches_tflm(kind: str) -> None:
    """The SMLAD/SXTB16 inner loops (intrinsics emulated on the host) give the same bits."""
    done, failures = run_cases(kind, 60, seed=97, emulate_dsp=True)
    assert done == 60
    assert not failures, "\n".join(failures[:5])


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
