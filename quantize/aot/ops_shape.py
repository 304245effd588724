"""Emitters for REVERSE_V2, CONCATENATION and PRELU (int8), as a bidirectional tf_keras LSTM needs them.

A ``tf_keras`` ``Bidirectional(LSTM)`` converts to two UNIDIRECTIONAL_SEQUENCE_LSTM
ops with REVERSE_V2 around the backward one and a CONCATENATION of both
directions; the LSTM-FIN's downstream CNN adds PRELU. Kernels:
``firmware/kernels/src/shape_ops.c``.

Quantisation follows TFLM, the oracle: REVERSE_V2 copies the raw int8 values
even when its output tensor has another scale than its input (the converter
does emit such pairs); CONCATENATION copies raw values and, like TFLM's
Prepare, refuses inputs quantised differently from the output; PRELU rescales
``x - zp`` by ``s_in / s_out`` where it is >= 0 and ``(x - zp) * (a - zp_a)``
by ``s_in * s_a / s_out`` elsewhere (ratios taken in double, as TFLM does).
"""

from __future__ import annotations

import numpy as np

from .emit import EmitContext, KernelCall, OpInfo, c_struct, fail, register
from .ops_elementwise import MAX_DIMS, broadcast_strides, padded_shape, require_int8, scale_f32
from .quant_math import quantize_multiplier

CONCAT_MAX_INPUTS = 16  # MYE_CONCAT_MAX_INPUTS in mye_kernels.h


def _const_axes(ctx: EmitContext, op: OpInfo, position: int) -> list[int]:
    """A constant integer input of ``op`` (the reversed axes) as a list."""
    if len(op.inputs) <= position or op.inputs[position] < 0:
        raise fail(ctx, op, "missing axis input")
    tensor = ctx.graph.tensors[op.inputs[position]]
    if tensor.data is None:
        raise fail(ctx, op, "the axis input is not a constant")
    return [int(v) for v in np.asarray(tensor.data).reshape(-1)]


def _normalised_axis(ctx: EmitContext, op: OpInfo, axis: int, rank: int) -> int:
    """``axis`` as a non-negative index into a shape of ``rank`` dims."""
    resolved = axis + rank if axis < 0 else axis
    if not 0 <= resolved < rank:
        raise fail(ctx, op, f"axis {axis} out of range for rank {rank}")
    return resolved


def reverse_fields(ctx: EmitContext, op: OpInfo) -> dict[str, int]:
    """``mye_reverse_params_t``: the one reversed axis (size-1 axes are no-ops) as outer / axis / inner."""
    x = ctx.graph.tensors[op.inputs[0]]
    shape = [int(v) for v in x.shape]
    rank = len(shape)
    axes = sorted({_normalised_axis(ctx, op, a, rank) for a in _const_axes(ctx, op, 1)})
    moving = [a for a in axes if shape[a] > 1]
    if len(moving) > 1:
        raise fail(ctx, op, f"reversing several axes {axes} of shape {tuple(shape)} is not supported")
    axis = moving[0] if moving else (axes[0] if axes else 0)
    if rank == 0:
        return {"outer": 1, "axis_size": 1, "inner": 1}
    return {
        "outer": int(np.prod(shape[:axis], dtype=np.int64)),
        "axis_size": shape[axis],
        "inner": int(np.prod(shape[axis + 1:], dtype=np.int64)),
    }


@register("REVERSE_V2")
def emit_reverse(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """REVERSE_V2 of int8 data along one constant axis (raw byte copy, in place allowed)."""
    x_i, y_i = op.inputs[0], op.outputs[0]
    require_int8(ctx, op, x_i, y_i)
    x, y = ctx.graph.tensors[x_i], ctx.graph.tensors[y_i]
    if tuple(x.shape) != tuple(y.shape):
        raise fail(ctx, op, f"input shape {x.shape} differs from output shape {y.shape}")
    fields = reverse_fields(ctx, op)
    name = ctx.unique("reverse")
    code = (
        c_struct("mye_reverse_params_t", name, fields)
        + f"\n    mye_reverse_s8(&{name}, {ctx.tensor(x_i)}, {ctx.tensor(y_i)});"
    )
    # The kernel swaps mirrored rows when input and output share the buffer.
    return KernelCall(code=code, kernel="mye_reverse_s8", in_place=True)


def concatenation_fields(ctx: EmitContext, op: OpInfo) -> dict[str, object]:
    """``mye_concatenation_params_t`` for one CONCATENATION op."""
    graph = ctx.graph
    y = graph.tensors[op.outputs[0]]
    rank = len(y.shape)
    axis = _normalised_axis(ctx, op, int(op.options.get("axis", 0)), max(rank, 1))
    inputs = [graph.tensors[i] for i in op.inputs]
    if not 1 <= len(inputs) <= CONCAT_MAX_INPUTS:
        raise fail(ctx, op, f"{len(inputs)} inputs; the kernel takes 1..{CONCAT_MAX_INPUTS}")
    inner = int(np.prod(y.shape[axis + 1:], dtype=np.int64))
    copy_bytes: list[int] = []
    total_axis = 0
    for k, t in enumerate(inputs):
        if len(t.shape) != rank:
            raise fail(ctx, op, f"input {k} has rank {len(t.shape)}, the output {rank}")
        for d in range(rank):
            if d != axis and int(t.shape[d]) != int(y.shape[d]):
                raise fail(ctx, op, f"input {k} shape {t.shape} does not match output {y.shape} off axis {axis}")
        total_axis += int(t.shape[axis])
        copy_bytes.append(int(t.shape[axis]) * inner)
    if total_axis != int(y.shape[axis]):
        raise fail(ctx, op, f"inputs give {total_axis} along axis {axis}, the output has {y.shape[axis]}")
    return {
        "n_inputs": len(inputs),
        "outer": int(np.prod(y.shape[:axis], dtype=np.int64)),
        "copy_bytes": copy_bytes + [0] * (CONCAT_MAX_INPUTS - len(copy_bytes)),
    }


@register("CONCATENATION")
def emit_concatenation(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """CONCATENATION of int8 tensors quantised alike (a byte copy per input and outer block)."""
    y_i = op.outputs[0]
    require_int8(ctx, op, y_i, *op.inputs)
    if op.options.get("fused_activation_function", "NONE") not in ("NONE", 0):
        raise fail(ctx, op, f"fused activation {op.options.get('fused_activation_function')} is not supported")
    y = ctx.graph.tensors[y_i]
    for k, index in enumerate(op.inputs):
        t = ctx.graph.tensors[index]
        if scale_f32(ctx, index) != scale_f32(ctx, y_i) or t.zero_point != y.zero_point:
            raise fail(ctx, op, f"input {k} is quantised differently from the output (TFLM refuses this too)")
    fields = concatenation_fields(ctx, op)
    name = ctx.unique("concat")
    pointers = ", ".join(f"(const int8_t *){ctx.tensor(i)}" for i in op.inputs)
    code = (
        c_struct("mye_concatenation_params_t", name, fields)
        + f"\n    const int8_t *const {name}_inputs[{len(op.inputs)}] = {{{pointers}}};"
        + f"\n    mye_concatenation_s8(&{name}, {name}_inputs, {ctx.tensor(y_i)});"
    )
    return KernelCall(code=code, kernel="mye_concatenation_s8")


def prelu_multipliers(input_scale: np.float32, alpha_scale: np.float32,
                      output_scale: np.float32) -> dict[str, int]:
    """The two rescales of int8 PRELU (TFLM: double ratios of the float32 scales)."""
    positive, positive_shift = quantize_multiplier(float(input_scale) / float(output_scale))
    negative, negative_shift = quantize_multiplier(float(input_scale) * float(alpha_scale) / float(output_scale))
    return {
        "positive_multiplier": positive,
        "positive_shift": positive_shift,
        "negative_multiplier": negative,
        "negative_shift": negative_shift,
    }


@register("PRELU")
def emit_prelu(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """PRELU int8 with a (broadcast) int8 slope tensor."""
    graph = ctx.graph
    x_i, a_i, y_i = op.inputs[0], op.inputs[1], op.outputs[0]
    require_int8(ctx, op, x_i, a_i, y_i)
    in_shape = padded_shape(graph.tensors[x_i].shape, "the input", ctx, op)
    alpha_shape = padded_shape(graph.tensors[a_i].shape, "alpha", ctx, op)
    out_shape = padded_shape(graph.tensors[y_i].shape, "the output", ctx, op)
    for axis in range(MAX_DIMS):
        for shape, what in ((in_shape, "the input"), (alpha_shape, "alpha")):
            if shape[axis] not in (1, out_shape[axis]):
                raise fail(ctx, op, f"{what} does not broadcast to the output shape {tuple(out_shape)}")
    flat = in_shape == out_shape and alpha_shape == out_shape
    fields: dict[str, object] = {
        "shape": {
            "broadcast": 0 if flat else 1,
            "flat_size": int(np.prod(out_shape, dtype=np.int64)),
            "out_shape": out_shape,
            "in1_strides": broadcast_strides(in_shape, out_shape),
            "in2_strides": broadcast_strides(alpha_shape, out_shape),
        },
        "input_offset": -graph.tensors[x_i].zero_point,
        "alpha_offset": -graph.tensors[a_i].zero_point,
        "output_offset": graph.tensors[y_i].zero_point,
        **prelu_multipliers(scale_f32(ctx, x_i), scale_f32(ctx, a_i), scale_f32(ctx, y_i)),
    }
    name = ctx.unique("prelu")
    code = (
        c_struct("mye_prelu_params_t", name, fields)
        + f"\n    mye_prelu_s8(&{name}, {ctx.tensor(x_i)}, {ctx.tensor(a_i)}, {ctx.tensor(y_i)});"
    )
    # Element i of the input is read before output i is written (same shape only).
    same = graph.tensors[x_i].num_elements == graph.tensors[y_i].num_elements
    return KernelCall(code=code, kernel="mye_prelu_s8", in_place=same)
