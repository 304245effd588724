"""Emitters for int8 MEAN and SUM over constant axes (with or without keep_dims).

TFLM sums raw int8 values in int32, subtracts zero_point * count and
requantises once with input_scale / output_scale; for MEAN it first folds
1 / count into the multiplier with an integer division (after shifting the
multiplier left by floor(log2(count)), capped). That integer division is
what makes TFLM's MEAN differ from LiteRT's by up to a few LSB, so it is
reproduced here exactly. Kernel: ``firmware/kernels/src/reduce.c``.
"""

from __future__ import annotations

import numpy as np

from .emit import EmitContext, KernelCall, OpInfo, register
from .ops_elementwise import MAX_DIMS, c_struct, fail, padded_shape, require_int8, scale_f32
from .quant_math import quantize_multiplier


def resolve_axes(ctx: EmitContext, op: OpInfo, rank: int) -> list[int]:
    """The reduced axes as non-negative, de-duplicated indices (TFLM ``ResolveAxis``)."""
    axis_tensor = ctx.graph.tensors[op.inputs[1]]
    if axis_tensor.data is None:
        raise fail(ctx, op, "the axis input is not a constant")
    resolved: list[int] = []
    for value in np.asarray(axis_tensor.data).reshape(-1):
        axis = int(value) + rank if int(value) < 0 else int(value)
        if not 0 <= axis < rank:
            raise fail(ctx, op, f"axis {int(value)} out of range for rank {rank}")
        if axis not in resolved:
            resolved.append(axis)
    return resolved


def mean_multiplier(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """Fold 1 / count into (multiplier, shift) with TFLM's integer arithmetic."""
    if count <= 0:
        return multiplier, shift
    extra = count.bit_length() - 1  # 63 - clz(count)
    extra = min(extra, 32)
    extra = min(extra, 31 + shift)
    return int((multiplier << extra) // count), shift - extra


def reduce_fields(ctx: EmitContext, op: OpInfo, is_mean: bool) -> dict[str, object]:
    """``mye_reduce_params_t`` for one MEAN / SUM op."""
    src = ctx.graph.tensors[op.inputs[0]]
    dst = ctx.graph.tensors[op.outputs[0]]
    rank = len(src.shape)
    axes = resolve_axes(ctx, op, rank)
    in_shape = padded_shape(src.shape, "the input", ctx, op)
    pad = MAX_DIMS - rank
    reduced = {a + pad for a in axes}
    out_strides = [0] * MAX_DIMS
    step = 1
    for axis in range(MAX_DIMS - 1, -1, -1):
        if axis in reduced:
            out_strides[axis] = 0
        else:
            out_strides[axis] = step
            step *= in_shape[axis]
    num_outputs = step
    count = int(np.prod([in_shape[a] for a in reduced], dtype=np.int64)) if reduced else 1
    if num_outputs != dst.num_elements:
        raise fail(ctx, op, f"output has {dst.num_elements} elements, reducing axes {axes} gives {num_outputs}")
    multiplier, shift = quantize_multiplier(float(scale_f32(ctx, op.inputs[0])) / float(scale_f32(ctx, op.outputs[0])))
    if is_mean:
        multiplier, shift = mean_multiplier(multiplier, shift, count)
    return {
        "in_shape": in_shape,
        "out_strides": out_strides,
        "num_outputs": num_outputs,
        "count": count,
        "input_zero_point": src.zero_point,
        "output_zero_point": dst.zero_point,
        "multiplier": multiplier,
        "shift": shift,
    }


def _emit_reduce(op: OpInfo, ctx: EmitContext, is_mean: bool) -> KernelCall:
    require_int8(ctx, op, op.inputs[0], op.outputs[0])
    fields = reduce_fields(ctx, op, is_mean)
    name = ctx.unique(f"{op.opcode.lower()}_params")
    code = c_struct("mye_reduce_params_t", name, fields)
    code += (
        f"\n    mye_reduce_sum_s8(&{name}, {ctx.tensor(op.inputs[0])}, "
        f"(int32_t *)(void *){ctx.scratch()}, {ctx.tensor(op.outputs[0])});"
    )
    # Every input element is read before the first output element is written.
    return KernelCall(code=code, kernel="mye_reduce_sum_s8", in_place=True,
                      scratch_bytes=4 * int(fields["num_outputs"]))


@register("MEAN")
def emit_mean(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """MEAN int8 over constant axes."""
    return _emit_reduce(op, ctx, is_mean=True)


@register("SUM")
def emit_sum(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """SUM int8 over constant axes."""
    return _emit_reduce(op, ctx, is_mean=False)
