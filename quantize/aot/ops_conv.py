"""Emitters for the MAC-heavy ops and the data-movement ops.

CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D,
RESHAPE (and its view-only relatives SQUEEZE / EXPAND_DIMS), TRANSPOSE,
STRIDED_SLICE, QUANTIZE (int8 -> int8) and DEQUANTIZE (int8 -> float32).

Every number that TFLM's ``Prepare`` would compute at run time (per-channel
multipliers and shifts, padding, the fused activation range) is computed here
with TFLM's formulas and written into the generated C as constants.
"""

from __future__ import annotations

import math

import numpy as np

from .emit import EmitContext, KernelCall, OpInfo, c_int_list, c_struct, fail, register
from .quant_math import quantize_multiplier, round_half_away

INT8_MIN = -128
INT8_MAX = 127

# Ops that only reinterpret the shape: the planner lets the output share the input's memory.
VIEW_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})


def _require_int8(ctx: EmitContext, op: OpInfo, *tensor_indices: int) -> None:
    """Refuse the op unless every listed tensor is int8."""
    for index in tensor_indices:
        tensor = ctx.graph.tensors[index]
        if tensor.type_name != "INT8":
            raise fail(ctx, op, f"tensor {index} ({tensor.name!r}) is {tensor.type_name}, the kernel needs INT8")


def activation_range(ctx: EmitContext, op: OpInfo, output_index: int) -> tuple[int, int]:
    """Quantised [min, max] of the fused activation (TFLM ``CalculateActivationRangeQuantized``).

    TFLM quantises 0, 6, -1 and 1 as ``zero_point + round(f / scale)`` with
    the division done in float32.
    """
    activation = op.options.get("fused_activation_function", "NONE")
    out = ctx.graph.tensors[output_index]
    scale = np.float32(out.scale)
    zero_point = out.zero_point

    def quantize(value: float) -> int:
        return zero_point + round_half_away(float(np.float32(value) / scale))

    if activation == "NONE":
        return INT8_MIN, INT8_MAX
    if activation == "RELU":
        return max(INT8_MIN, quantize(0.0)), INT8_MAX
    if activation == "RELU6":
        return max(INT8_MIN, quantize(0.0)), min(INT8_MAX, quantize(6.0))
    if activation == "RELU_N1_TO_1":
        return max(INT8_MIN, quantize(-1.0)), min(INT8_MAX, quantize(1.0))
    raise fail(ctx, op, f"fused activation {activation} is not supported")


def per_channel_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float,
                            channels: int) -> tuple[list[int], list[int]]:
    """Per-output-channel (multiplier, shift) as TFLM's conv/FC per-channel Prepare computes them.

    effective = double(input_scale) * double(filter_scale[c]) / double(output_scale),
    with every scale first rounded to float32 as TFLM stores it.
    """
    in_s = float(np.float32(input_scale))
    out_s = float(np.float32(output_scale))
    multipliers: list[int] = []
    shifts: list[int] = []
    for c in range(channels):
        f_s = float(np.float32(filter_scales[c if filter_scales.size > 1 else 0]))
        m, s = quantize_multiplier(in_s * f_s / out_s)
        multipliers.append(m)
        shifts.append(s)
    return multipliers, shifts


def per_tensor_conv_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """TFLM ``GetQuantizedConvolutionMultipler``: the product of the two float32 scales is taken in
    double (measured against the pinned TFLM: a float32 product rounds some accumulators the other way,
    ``tests/test_aot_multiplier.py``)."""
    product = float(np.float32(input_scale)) * float(np.float32(filter_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


def compute_padding(in_size: int, filter_size: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """(output size, leading pad) as TFLM ``ComputePaddingHeightWidth`` computes them."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    elif padding == "VALID":
        out = (in_size + stride - effective) // stride
    else:
        raise ValueError(f"padding {padding!r}")
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


def _bias(ctx: EmitContext, op: OpInfo, position: int) -> str:
    """C expression for the optional int32 bias input (``0`` when absent)."""
    if len(op.inputs) <= position or op.inputs[position] < 0:
        return "0"
    bias = ctx.graph.tensors[op.inputs[position]]
    if bias.type_name != "INT32":
        raise fail(ctx, op, f"bias is {bias.type_name}, the int8 kernel needs INT32")
    return ctx.tensor(op.inputs[position])


def _folded_bias(ctx: EmitContext, op: OpInfo, name: str, w, input_offset: int, channels: int,
                 pad_to: int = 1, always: bool = False) -> str:
    """Const array bias[c] + input_offset * sum(filter[c]) wrapped to int32, or ``0`` when all zero.

    sum((x + off) * w) + bias == sum(x * w) + (bias + off * sum(w)) in int32 (mod 2^32)
    arithmetic, so the kernel's inner loop becomes a plain dot product.
    ``pad_to`` zero-pads the array to a multiple of that many channels;
    ``always`` emits it even when every entry is zero.
    """
    bias = np.zeros(channels, dtype=np.int64)
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        bias_tensor = ctx.graph.tensors[op.inputs[2]]
        if bias_tensor.type_name != "INT32" or bias_tensor.data is None:
            raise fail(ctx, op, f"bias is {bias_tensor.type_name} (constant: {bias_tensor.data is not None}), "
                        "the int8 kernel needs a constant INT32 bias")
        bias = np.asarray(bias_tensor.data, dtype=np.int64).reshape(-1)
    if w.data is None:
        raise fail(ctx, op, "filter is not constant")
    sums = np.asarray(w.data, dtype=np.int64).reshape(channels, -1).sum(axis=1)
    folded = (bias + input_offset * sums + 2**31) % 2**32 - 2**31
    if not folded.any() and not always:
        return "0"
    padded = np.zeros(_round_up(channels, pad_to), dtype=np.int64)
    padded[:channels] = folded
    return ctx.const_array(f"{name}_folded_bias", padded, "int32_t")


def _nhwc(ctx: EmitContext, op: OpInfo, index: int, what: str) -> tuple[int, int, int, int]:
    shape = ctx.graph.tensors[index].shape
    if len(shape) != 4:
        raise fail(ctx, op, f"{what} has shape {shape}, expected 4-D NHWC")
    return tuple(int(v) for v in shape)  # type: ignore[return-value]


def _spatial(ctx: EmitContext, op: OpInfo, in_hw: tuple[int, int], filter_hw: tuple[int, int],
             out_hw: tuple[int, int], dilation: tuple[int, int]) -> dict[str, int]:
    """Strides, dilations and pads of a windowed op, checked against the output shape."""
    padding = op.options.get("padding", "VALID")
    strides = (int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1)))
    pads = []
    for axis in range(2):
        out, pad = compute_padding(in_hw[axis], filter_hw[axis], strides[axis], dilation[axis], padding)
        if out != out_hw[axis]:
            raise fail(ctx, op, f"output size {out_hw} does not match padding {padding} (expected {out})")
        pads.append(pad)
    return {
        "stride_height": strides[0],
        "stride_width": strides[1],
        "dilation_height": dilation[0],
        "dilation_width": dilation[1],
        "pad_height": pads[0],
        "pad_width": pads[1],
    }


# ---- filter layouts the conv kernels read (see firmware/kernels/include/mye_kernels.h) ----

CONV_BLOCK_CHANNELS = 4  # output channels per filter block
CONV_GROUP_TAPS = 4      # taps per group: each filter word gives one tap pair for each of two channels


def _round_up(value: int, multiple: int) -> int:
    return (value + multiple - 1) // multiple * multiple


def conv_byte_position(channel: int, tap: int) -> int:
    """Byte of block channel ``channel`` (0..3) and tap ``tap`` (0..3) inside a 16-byte group.

    The group's four words are [o0k0 o1k0 o0k2 o1k2] [o2k0 o3k0 o2k2 o3k2]
    [o0k1 o1k1 o0k3 o1k3] [o2k1 o3k1 o2k3 o3k3]: SXTB16 of a word gives taps
    (k0, k2) or (k1, k3) of its even channel, SXTB16 with ROR #8 those of its
    odd channel, the pair order in which the kernel's im2col scratch holds
    the input taps.
    """
    return 8 * (tap & 1) + 4 * (channel >> 1) + (channel & 1) + 2 * (tap >> 1)


def pack_conv_filter(weights: np.ndarray) -> np.ndarray:
    """CONV_2D filter (OHWI int8) in the kernel's block order, zero-padded.

    Taps per channel (fh * fw * in_c, in (fy, fx, c) order) are padded with
    zeros to a multiple of 4 and output channels to a multiple of 4; then
    for each block of 4 channels and each group of 4 taps come 16 bytes
    ordered by :func:`conv_byte_position`.
    """
    channels = int(weights.shape[0])
    taps = int(np.prod(weights.shape[1:]))
    taps4 = _round_up(taps, CONV_GROUP_TAPS)
    channels4 = _round_up(channels, CONV_BLOCK_CHANNELS)
    padded = np.zeros((channels4, taps4), dtype=np.int8)
    padded[:channels, :taps] = weights.reshape(channels, taps)
    blocks = padded.reshape(channels4 // 4, 4, taps4 // 4, 4)  # [block, channel, group, tap]
    packed = np.zeros((channels4 // 4, taps4 // 4, 16), dtype=np.int8)
    for channel in range(4):
        for tap in range(4):
            packed[:, :, conv_byte_position(channel, tap)] = blocks[:, channel, :, tap]
    return packed.reshape(-1)


def conv_scratch_bytes(filter_height: int, filter_width: int, input_depth: int) -> int:
    """im2col scratch of mye_conv2d_s8: two pixels of taps (rounded up to 4) as int16."""
    return 2 * 2 * _round_up(filter_height * filter_width * input_depth, CONV_GROUP_TAPS)


def pack_depthwise_filter(weights: np.ndarray, depth_multiplier: int) -> np.ndarray:
    """DEPTHWISE_CONV_2D filter [1, fh, fw, out_c] as int16 [in_c][tap_pairs][multiplier][2].

    Pair t holds the weights of taps 2t and 2t + 1 (in (fy, fx) order), the
    second one 0 when fh * fw is odd; output channel ic * multiplier + m
    reads input channel ic. One pair is one SMLAD operand.
    """
    taps = int(weights.shape[1] * weights.shape[2])
    channels = int(weights.shape[3])
    in_c = channels // depth_multiplier
    pairs = (taps + 1) // 2
    by_tap = np.zeros((2 * pairs, channels), dtype=np.int16)
    by_tap[:taps] = weights.reshape(taps, channels)
    # [pair, half, ic, m] -> [ic, pair, m, half]
    grouped = by_tap.reshape(pairs, 2, in_c, depth_multiplier)
    return np.ascontiguousarray(grouped.transpose(2, 0, 3, 1)).reshape(-1)


def depthwise_scratch_bytes(filter_height: int, filter_width: int, input_depth: int) -> int:
    """Scratch of mye_depthwise_conv2d_s8: one pixel's inputs as int16 tap pairs per input channel."""
    return 4 * input_depth * ((filter_height * filter_width + 1) // 2)


@register("CONV_2D")
def emit_conv2d(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """CONV_2D, int8 per-channel (OHWI filter)."""
    x_i, w_i = op.inputs[0], op.inputs[1]
    y_i = op.outputs[0]
    _require_int8(ctx, op, x_i, w_i, y_i)
    x, w, y = (ctx.graph.tensors[i] for i in (x_i, w_i, y_i))
    n, h, wd, c = _nhwc(ctx, op, x_i, "input")
    oc, fh, fw, fc = _nhwc(ctx, op, w_i, "filter")
    _, oh, ow, yc = _nhwc(ctx, op, y_i, "output")
    if fc != c:
        raise fail(ctx, op, f"grouped convolution (filter depth {fc}, input depth {c}) is not supported")
    if yc != oc:
        raise fail(ctx, op, f"output depth {yc} differs from filter count {oc}")
    if np.any(w.zero_points != 0):
        raise fail(ctx, op, "filter zero points must be 0 (symmetric int8 weights)")
    dilation = (int(op.options.get("dilation_h_factor", 1)), int(op.options.get("dilation_w_factor", 1)))
    spatial = _spatial(ctx, op, (h, wd), (fh, fw), (oh, ow), dilation)
    mult, shift = per_channel_multipliers(x.scale, w.scales, y.scale, oc)
    act_min, act_max = activation_range(ctx, op, y_i)
    name = ctx.unique("conv")
    fields = {
        "batches": n, "input_height": h, "input_width": wd, "input_depth": c,
        "filter_height": fh, "filter_width": fw,
        "output_height": oh, "output_width": ow, "output_depth": oc,
        **spatial,
        "input_offset": -x.zero_point, "output_offset": y.zero_point,
        "output_multiplier": ctx.const_array(f"{name}_mult", np.array(mult), "int32_t"),
        "output_shift": ctx.const_array(f"{name}_shift", np.array(shift), "int32_t"),
        "activation_min": act_min, "activation_max": act_max,
    }
    bias_expr = _folded_bias(ctx, op, name, w, -x.zero_point, oc, pad_to=CONV_BLOCK_CHANNELS, always=True)
    packed = ctx.const_array(f"{name}_filter", pack_conv_filter(np.asarray(w.data, dtype=np.int8)), "int8_t")
    code = (
        c_struct("mye_conv2d_params_t", name, fields)
        + f"\n    mye_conv2d_s8(&{name}, {ctx.tensor(x_i)}, {packed}, {bias_expr}, "
        f"(int8_t *){ctx.scratch()}, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel="mye_conv2d_s8", scratch_bytes=conv_scratch_bytes(fh, fw, c))


@register("DEPTHWISE_CONV_2D")
def emit_depthwise_conv2d(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """DEPTHWISE_CONV_2D, int8 per-channel (filter [1, fh, fw, out_depth])."""
    x_i, w_i = op.inputs[0], op.inputs[1]
    y_i = op.outputs[0]
    _require_int8(ctx, op, x_i, w_i, y_i)
    x, w, y = (ctx.graph.tensors[i] for i in (x_i, w_i, y_i))
    n, h, wd, c = _nhwc(ctx, op, x_i, "input")
    _, fh, fw, oc = _nhwc(ctx, op, w_i, "filter")
    _, oh, ow, yc = _nhwc(ctx, op, y_i, "output")
    if oc % c != 0 or yc != oc:
        raise fail(ctx, op, f"output depth {oc} is not a multiple of input depth {c}")
    multiplier = int(op.options.get("depth_multiplier", oc // c) or oc // c)
    if multiplier != oc // c:
        multiplier = oc // c  # TFLM derives it from the shapes as well
    if np.any(w.zero_points != 0):
        raise fail(ctx, op, "filter zero points must be 0 (symmetric int8 weights)")
    dilation = (int(op.options.get("dilation_h_factor", 1)), int(op.options.get("dilation_w_factor", 1)))
    spatial = _spatial(ctx, op, (h, wd), (fh, fw), (oh, ow), dilation)
    mult, shift = per_channel_multipliers(x.scale, w.scales, y.scale, oc)
    act_min, act_max = activation_range(ctx, op, y_i)
    name = ctx.unique("dwconv")
    fields = {
        "batches": n, "input_height": h, "input_width": wd, "input_depth": c,
        "depth_multiplier": multiplier, "filter_height": fh, "filter_width": fw,
        "output_height": oh, "output_width": ow,
        **spatial,
        "input_offset": -x.zero_point, "output_offset": y.zero_point,
        "output_multiplier": ctx.const_array(f"{name}_mult", np.array(mult), "int32_t"),
        "output_shift": ctx.const_array(f"{name}_shift", np.array(shift), "int32_t"),
        "activation_min": act_min, "activation_max": act_max,
    }
    if w.data is None:
        raise fail(ctx, op, "filter is not constant")
    packed = ctx.const_array(f"{name}_filter", pack_depthwise_filter(np.asarray(w.data, dtype=np.int8), multiplier),
                             "int16_t")
    code = (
        c_struct("mye_depthwise_conv2d_params_t", name, fields)
        + f"\n    mye_depthwise_conv2d_s8(&{name}, {ctx.tensor(x_i)}, {packed}, "
        f"{_bias(ctx, op, 2)}, (int16_t *){ctx.scratch()}, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel="mye_depthwise_conv2d_s8",
                      scratch_bytes=depthwise_scratch_bytes(fh, fw, c))


@register("FULLY_CONNECTED")
def emit_fully_connected(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """FULLY_CONNECTED, int8 with per-tensor or per-channel weights, any number of input rows."""
    x_i, w_i = op.inputs[0], op.inputs[1]
    y_i = op.outputs[0]
    _require_int8(ctx, op, x_i, w_i, y_i)
    x, w, y = (ctx.graph.tensors[i] for i in (x_i, w_i, y_i))
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        raise fail(ctx, op, f"weights format {op.options['weights_format']} is not supported")
    if w.data is None:
        raise fail(ctx, op, "weights are not constant")
    if len(w.shape) != 2:
        raise fail(ctx, op, f"weights have shape {w.shape}, expected 2-D")
    output_depth, accum_depth = int(w.shape[0]), int(w.shape[1])
    if y.shape[-1] != output_depth:
        raise fail(ctx, op, f"output shape {y.shape} does not end in {output_depth}")
    batches = y.num_elements // output_depth
    if x.num_elements != batches * accum_depth:
        raise fail(ctx, op, f"input shape {x.shape} is not {batches} rows of {accum_depth}")
    return fully_connected_call(op, ctx, "fc", "mye_fully_connected_s8", batches, accum_depth, output_depth)


def fully_connected_call(op: OpInfo, ctx: EmitContext, prefix: str, kernel: str, batches: int,
                         accum_depth: int, output_depth: int,
                         packed_weights: np.ndarray | None = None) -> KernelCall:
    """The params struct and call of a FULLY_CONNECTED kernel (plain or blocked), shapes already checked.

    Per-tensor or per-channel requantisation, the fused activation's range, and
    the input offset folded into the bias when the weights are symmetric.
    ``packed_weights`` (int8) replaces the weight tensor with a re-laid-out copy.
    """
    x_i, w_i, y_i = op.inputs[0], op.inputs[1], op.outputs[0]
    x, w, y = (ctx.graph.tensors[i] for i in (x_i, w_i, y_i))
    filter_offset = -int(w.zero_points[0]) if w.zero_points.size else 0
    per_channel = w.scales.size > 1
    if per_channel:
        mult, shift = per_channel_multipliers(x.scale, w.scales, y.scale, output_depth)
    else:
        m, s = per_tensor_conv_multiplier(x.scale, w.scale, y.scale)
        mult, shift = [m], [s]
    act_min, act_max = activation_range(ctx, op, y_i)
    name = ctx.unique(prefix)
    input_offset = -x.zero_point
    bias_expr = _bias(ctx, op, 2)
    if filter_offset == 0 and input_offset != 0:
        # Fold the input offset into the bias so the inner loop is a plain dot product.
        bias_expr = _folded_bias(ctx, op, name, w, input_offset, output_depth)
        input_offset = 0
    weights = None if packed_weights is None else ctx.const_array(f"{name}_weights", packed_weights, "int8_t")
    fields = {
        "batches": batches, "accum_depth": accum_depth, "output_depth": output_depth,
        "input_offset": input_offset, "filter_offset": filter_offset,
        "output_offset": y.zero_point, "per_channel": int(per_channel),
        "output_multiplier": ctx.const_array(f"{name}_mult", np.array(mult), "int32_t"),
        "output_shift": ctx.const_array(f"{name}_shift", np.array(shift), "int32_t"),
        "activation_min": act_min, "activation_max": act_max,
    }
    code = (
        c_struct("mye_fully_connected_params_t", name, fields)
        + f"\n    {kernel}(&{name}, {ctx.tensor(x_i)}, {weights or ctx.tensor(w_i)}, "
        f"{bias_expr}, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel=kernel)


@register("MAX_POOL_2D", "AVERAGE_POOL_2D")
def emit_pool(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """MAX_POOL_2D / AVERAGE_POOL_2D on int8 NHWC (same quantisation in and out)."""
    x_i, y_i = op.inputs[0], op.outputs[0]
    _require_int8(ctx, op, x_i, y_i)
    x, y = ctx.graph.tensors[x_i], ctx.graph.tensors[y_i]
    if x.scale != y.scale or x.zero_point != y.zero_point:
        raise fail(ctx, op, "input and output quantisation differ (TFLM requires them equal)")
    n, h, wd, c = _nhwc(ctx, op, x_i, "input")
    _, oh, ow, yc = _nhwc(ctx, op, y_i, "output")
    if yc != c:
        raise fail(ctx, op, f"output depth {yc} differs from input depth {c}")
    fh, fw = int(op.options["filter_height"]), int(op.options["filter_width"])
    spatial = _spatial(ctx, op, (h, wd), (fh, fw), (oh, ow), (1, 1))
    del spatial["dilation_height"], spatial["dilation_width"]
    act_min, act_max = activation_range(ctx, op, y_i)
    name = ctx.unique("pool")
    fields = {
        "batches": n, "input_height": h, "input_width": wd, "depth": c,
        "output_height": oh, "output_width": ow, "filter_height": fh, "filter_width": fw,
        **spatial, "activation_min": act_min, "activation_max": act_max,
    }
    kernel = "mye_max_pool_s8" if op.opcode == "MAX_POOL_2D" else "mye_average_pool_s8"
    code = (
        c_struct("mye_pool_params_t", name, fields)
        + f"\n    {kernel}(&{name}, {ctx.tensor(x_i)}, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel=kernel)


@register(*sorted(VIEW_OPS))
def emit_view(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """RESHAPE / SQUEEZE / EXPAND_DIMS: a byte copy, dropped when the planner aliases the tensors."""
    x_i, y_i = op.inputs[0], op.outputs[0]
    x, y = ctx.graph.tensors[x_i], ctx.graph.tensors[y_i]
    if x.nbytes != y.nbytes or x.type_name != y.type_name:
        raise fail(ctx, op, f"input {x.shape} {x.type_name} and output {y.shape} {y.type_name} differ in size")
    code = f"mye_copy_bytes((const int8_t *){ctx.tensor(x_i)}, (int8_t *){ctx.tensor(y_i)}, {y.nbytes});"
    return KernelCall(code=code, kernel="mye_copy_bytes", in_place=True)


def _const_ints(ctx: EmitContext, op: OpInfo, position: int, what: str) -> list[int]:
    """A constant integer input of ``op`` (perm, begin, end, strides) as a list."""
    if len(op.inputs) <= position or op.inputs[position] < 0:
        raise fail(ctx, op, f"missing {what} input")
    tensor = ctx.graph.tensors[op.inputs[position]]
    if tensor.data is None:
        raise fail(ctx, op, f"{what} is not constant (dynamic shapes are not supported)")
    return [int(v) for v in np.asarray(tensor.data).reshape(-1)]


def _pad_list(values: list[int], fill: int = 0) -> str:
    """A MYE_MAX_DIMS-long C initialiser list."""
    padded = list(values) + [fill] * (6 - len(values))
    return "{" + c_int_list(padded) + "}"


@register("TRANSPOSE")
def emit_transpose(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """TRANSPOSE of int8 data with a constant permutation (up to 6-D)."""
    x_i, y_i = op.inputs[0], op.outputs[0]
    _require_int8(ctx, op, x_i, y_i)
    x = ctx.graph.tensors[x_i]
    perm = _const_ints(ctx, op, 1, "perm")
    dims = len(x.shape)
    if not 1 <= dims <= 6 or len(perm) != dims:
        raise fail(ctx, op, f"rank {dims} with perm {perm} is not supported (1..6 dims)")
    perm = [p + dims if p < 0 else p for p in perm]
    if sorted(perm) != list(range(dims)):
        raise fail(ctx, op, f"perm {perm} is not a permutation")
    name = ctx.unique("transpose")
    fields = {"dims": dims, "input_shape": _pad_list(list(x.shape), 1), "perm": _pad_list(perm)}
    code = (
        c_struct("mye_transpose_params_t", name, fields)
        + f"\n    mye_transpose_s8(&{name}, {ctx.tensor(x_i)}, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel="mye_transpose_s8")


def resolve_strided_slice(shape: tuple[int, ...], begin: list[int], end: list[int], strides: list[int],
                          options: dict) -> tuple[list[int], list[int], list[int]]:
    """Start index, stride and element count per axis (TFLM's StridedSlice semantics).

    Supports begin/end/shrink-axis masks and the ``offset`` flag; ellipsis and
    new-axis masks raise ``ValueError``.
    """
    if int(options.get("ellipsis_mask", 0)) or int(options.get("new_axis_mask", 0)):
        raise ValueError("ellipsis_mask / new_axis_mask are not supported")
    begin_mask = int(options.get("begin_mask", 0))
    end_mask = int(options.get("end_mask", 0))
    shrink_mask = int(options.get("shrink_axis_mask", 0))
    use_offset = bool(options.get("offset", False))
    starts: list[int] = []
    steps: list[int] = []
    counts: list[int] = []
    for axis, dim in enumerate(shape):
        if axis >= len(begin):
            starts.append(0)
            steps.append(1)
            counts.append(dim)
            continue
        step = strides[axis]
        if step == 0:
            raise ValueError(f"stride 0 on axis {axis}")
        b = begin[axis]
        e = end[axis] + (b if use_offset else 0)
        if begin_mask & (1 << axis):
            b = 0 if step > 0 else dim - 1
        else:
            b = b + dim if b < 0 else b
            b = min(max(b, 0), dim) if step > 0 else min(max(b, -1), dim - 1)
        if shrink_mask & (1 << axis):
            # TFLM takes one element at the resolved start (begin_mask still applies).
            if step <= 0 or not 0 <= b < dim:
                raise ValueError(f"shrink axis {axis}: start {b} / stride {step} selects no element")
            starts.append(b)
            steps.append(1)
            counts.append(1)
            continue
        if end_mask & (1 << axis):
            e = dim if step > 0 else -1
        else:
            e = e + dim if e < 0 else e
            e = min(max(e, 0), dim) if step > 0 else min(max(e, -1), dim - 1)
        count = max(0, math.ceil((e - b) / step))
        starts.append(b)
        steps.append(step)
        counts.append(count)
    return starts, steps, counts


@register("STRIDED_SLICE")
def emit_strided_slice(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """STRIDED_SLICE of int8 data with constant begin/end/strides."""
    x_i, y_i = op.inputs[0], op.outputs[0]
    _require_int8(ctx, op, x_i, y_i)
    x, y = ctx.graph.tensors[x_i], ctx.graph.tensors[y_i]
    begin = _const_ints(ctx, op, 1, "begin")
    end = _const_ints(ctx, op, 2, "end")
    strides = _const_ints(ctx, op, 3, "strides")
    if x.scale != y.scale or x.zero_point != y.zero_point:
        raise fail(ctx, op, "input and output quantisation differ")
    dims = len(x.shape)
    if not 1 <= dims <= 6:
        raise fail(ctx, op, f"rank {dims} is not supported (1..6 dims)")
    try:
        starts, steps, counts = resolve_strided_slice(x.shape, begin, end, strides, op.options)
    except ValueError as exc:
        raise fail(ctx, op, str(exc)) from exc
    if int(np.prod(counts)) != y.num_elements:
        raise fail(ctx, op, f"slice gives {counts}, output tensor has shape {y.shape}")
    name = ctx.unique("slice")
    fields = {
        "dims": dims, "input_shape": _pad_list(list(x.shape), 1), "start": _pad_list(starts),
        "stride": _pad_list(steps, 1), "output_shape": _pad_list(counts, 1),
    }
    code = (
        c_struct("mye_strided_slice_params_t", name, fields)
        + f"\n    mye_strided_slice_s8(&{name}, {ctx.tensor(x_i)}, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel="mye_strided_slice_s8")


@register("QUANTIZE")
def emit_quantize(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """QUANTIZE int8 -> int8 (requantise); float inputs are not supported on the board."""
    x_i, y_i = op.inputs[0], op.outputs[0]
    _require_int8(ctx, op, x_i, y_i)
    x, y = ctx.graph.tensors[x_i], ctx.graph.tensors[y_i]
    effective = float(np.float32(x.scale)) / float(np.float32(y.scale))
    mult, shift = quantize_multiplier(effective)
    name = ctx.unique("requant")
    fields = {
        "size": y.num_elements, "input_offset": -x.zero_point, "output_offset": y.zero_point,
        "multiplier": mult, "shift": shift,
    }
    code = (
        c_struct("mye_requantize_params_t", name, fields)
        + f"\n    mye_requantize_s8(&{name}, {ctx.tensor(x_i)}, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel="mye_requantize_s8", in_place=True)


@register("DEQUANTIZE")
def emit_dequantize(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """DEQUANTIZE int8 -> float32: scale * (x - zero_point) in double, stored as float."""
    x_i, y_i = op.inputs[0], op.outputs[0]
    _require_int8(ctx, op, x_i)
    x, y = ctx.graph.tensors[x_i], ctx.graph.tensors[y_i]
    if y.type_name != "FLOAT32":
        raise fail(ctx, op, f"output is {y.type_name}, expected FLOAT32")
    name = ctx.unique("dequant")
    fields = {"size": y.num_elements, "zero_point": x.zero_point, "scale": repr(float(np.float32(x.scale)))}
    code = (
        c_struct("mye_dequantize_params_t", name, fields)
        + f"\n    mye_dequantize_s8_f32(&{name}, {ctx.tensor(x_i)}, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel="mye_dequantize_s8_f32")


@register("MYE_LUT")
def emit_lut(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """A fused element-wise chain (see ``fuse_lut.py``): one or per-channel 256-entry tables."""
    x_i, table_i = op.inputs[0], op.inputs[1]
    y_i = op.outputs[0]
    x = ctx.graph.tensors[x_i]
    channels = int(op.options.get("channels", 1))
    if channels == 1:
        code = f"mye_lut_s8({ctx.tensor(table_i)}, {ctx.tensor(x_i)}, {ctx.tensor(y_i)}, {x.num_elements});"
        return KernelCall(code=code, kernel="mye_lut_s8", in_place=True)
    rows = x.num_elements // channels
    code = (f"mye_lut_channels_s8({ctx.tensor(table_i)}, {ctx.tensor(x_i)}, {ctx.tensor(y_i)}, "
            f"{rows}, {channels});")
    return KernelCall(code=code, kernel="mye_lut_channels_s8", in_place=True)
