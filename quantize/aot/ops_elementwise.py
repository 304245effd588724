"""Emitters for the int8 binary element-wise ops: ADD, SUB, MUL, DIV.

Each emitter computes the requantisation constants as the op's TFLM
``Prepare`` does, from the float32 scales TFLM stores, with the ratios in
double precision (what the TFLM interpreter build evaluates, even where the
source writes float32 divisions), works out how the two inputs broadcast
onto the output, and emits one call into ``firmware/kernels/src/elementwise.c``.

The small helpers here (:func:`c_struct`, :func:`broadcast_fields`,
:func:`require_int8`) are shared by the other ``ops_*`` modules of this
family (reduce, activations, LSTM).
"""

from __future__ import annotations

import numpy as np

from .emit import EmitContext, KernelCall, OpInfo, c_struct, fail, register
from .ops_conv import activation_range
from .quant_math import quantize_multiplier, quantize_multiplier_smaller_than_one

MAX_DIMS = 6
ADD_LEFT_SHIFT = 20  # TFLM's headroom shift for int8 ADD / SUB


def require_int8(ctx: EmitContext, op: OpInfo, *tensor_indices: int) -> None:
    """Refuse the op unless every listed tensor is a per-tensor quantised int8 tensor."""
    for index in tensor_indices:
        tensor = ctx.graph.tensors[index]
        if tensor.type_name != "INT8":
            raise fail(ctx, op, f"tensor {index} ({tensor.name!r}) is {tensor.type_name}, the kernel needs INT8")
        if tensor.scales.size != 1:
            raise fail(ctx, op, f"tensor {index} ({tensor.name!r}) needs one scale, has {tensor.scales.size}")


def scale_f32(ctx: EmitContext, index: int) -> np.float32:
    """A tensor's scale as TFLM holds it (float32)."""
    return np.float32(ctx.graph.tensors[index].scale)


def padded_shape(shape: tuple[int, ...], what: str, ctx: EmitContext, op: OpInfo) -> list[int]:
    """``shape`` padded on the left with ones to MAX_DIMS entries."""
    if len(shape) > MAX_DIMS:
        raise fail(ctx, op, f"{what} has rank {len(shape)}, the kernels handle up to {MAX_DIMS}")
    return [1] * (MAX_DIMS - len(shape)) + [int(v) for v in shape]


def broadcast_strides(in_shape: list[int], out_shape: list[int]) -> list[int]:
    """Element strides of a (padded) input along each output axis; 0 where it broadcasts."""
    strides = [0] * MAX_DIMS
    step = 1
    for axis in range(MAX_DIMS - 1, -1, -1):
        strides[axis] = 0 if in_shape[axis] == 1 else step
        step *= in_shape[axis]
    return strides


def broadcast_fields(ctx: EmitContext, op: OpInfo) -> dict[str, object]:
    """The ``mye_broadcast_t`` initialiser for a binary op (inputs 0, 1 onto output 0)."""
    in1 = padded_shape(ctx.graph.tensors[op.inputs[0]].shape, "input 1", ctx, op)
    in2 = padded_shape(ctx.graph.tensors[op.inputs[1]].shape, "input 2", ctx, op)
    out = padded_shape(ctx.graph.tensors[op.outputs[0]].shape, "the output", ctx, op)
    for axis in range(MAX_DIMS):
        for shape, what in ((in1, "input 1"), (in2, "input 2")):
            if shape[axis] not in (1, out[axis]):
                raise fail(ctx, op, f"{what} does not broadcast to the output shape {tuple(out)}")
    flat = in1 == out and in2 == out
    return {
        "broadcast": 0 if flat else 1,
        "flat_size": int(np.prod(out, dtype=np.int64)),
        "out_shape": out,
        "in1_strides": broadcast_strides(in1, out),
        "in2_strides": broadcast_strides(in2, out),
    }


def same_shape_as_output(ctx: EmitContext, op: OpInfo) -> bool:
    """True when input 0 has as many elements as the output (element i is read before written)."""
    graph = ctx.graph
    return graph.tensors[op.inputs[0]].num_elements == graph.tensors[op.outputs[0]].num_elements


def add_sub_multipliers(s1: np.float32, s2: np.float32, so: np.float32) -> dict[str, int]:
    """Input and output rescaling of int8 ADD and SUB, as TFLM's Prepare computes them.

    TFLM's SUB writes its ratios as float32 divisions, ADD as double ones; the
    TFLM interpreter build used as the oracle evaluates float32 scale ratios
    in double precision (seen on HARD_SWISH, where it changes results), so
    both use double here.
    """
    twice_max = 2.0 * float(max(s1, s2))
    real1 = float(s1) / twice_max
    real2 = float(s2) / twice_max
    real_out = twice_max / (float(1 << ADD_LEFT_SHIFT) * float(so))
    m1, sh1 = quantize_multiplier_smaller_than_one(real1)  # s / (2 max(s1, s2)) <= 1/2
    m2, sh2 = quantize_multiplier_smaller_than_one(real2)
    mo, sho = quantize_multiplier_smaller_than_one(real_out)
    return {
        "input1_multiplier": m1,
        "input1_shift": sh1,
        "input2_multiplier": m2,
        "input2_shift": sh2,
        "output_multiplier": mo,
        "output_shift": sho,
    }


def _emit_add_sub(op: OpInfo, ctx: EmitContext, kernel: str) -> KernelCall:
    in1, in2 = op.inputs[0], op.inputs[1]
    out = op.outputs[0]
    require_int8(ctx, op, in1, in2, out)
    try:
        multipliers = add_sub_multipliers(scale_f32(ctx, in1), scale_f32(ctx, in2), scale_f32(ctx, out))
    except ValueError as error:  # TFLM's Prepare aborts on these scales too
        raise fail(ctx, op, f"scales out of the kernel's range: {error}") from error
    return _binary_call(op, ctx, kernel, "mye_add_params_t", {"left_shift": ADD_LEFT_SHIFT, **multipliers})


def _binary_call(op: OpInfo, ctx: EmitContext, kernel: str, struct: str,
                 requantisation: dict[str, object]) -> KernelCall:
    """The parameter struct and call shared by ADD, SUB, MUL and DIV.

    Field order follows the C structs: broadcast shape, the three offsets,
    the op's own requantisation fields, then the fused activation range.
    """
    graph = ctx.graph
    in1, in2 = op.inputs[0], op.inputs[1]
    out = op.outputs[0]
    act_min, act_max = activation_range(ctx, op, out)
    fields: dict[str, object] = {
        "shape": broadcast_fields(ctx, op),
        "input1_offset": -graph.tensors[in1].zero_point,
        "input2_offset": -graph.tensors[in2].zero_point,
        "output_offset": graph.tensors[out].zero_point,
        **requantisation,
        "activation_min": act_min,
        "activation_max": act_max,
    }
    name = ctx.unique(f"{op.opcode.lower()}_params")
    code = c_struct(struct, name, fields)
    code += f"\n    {kernel}(&{name}, {ctx.tensor(in1)}, {ctx.tensor(in2)}, {ctx.tensor(out)});"
    return KernelCall(code=code, kernel=kernel, in_place=same_shape_as_output(ctx, op))


@register("ADD")
def emit_add(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """ADD int8 with broadcasting and a fused activation."""
    return _emit_add_sub(op, ctx, "mye_add_s8")


@register("SUB")
def emit_sub(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """SUB int8 with broadcasting and a fused activation."""
    return _emit_add_sub(op, ctx, "mye_sub_s8")


def mul_multiplier(s1: np.float32, s2: np.float32, so: np.float32) -> tuple[int, int]:
    """int8 MUL output multiplier: double(s1) * double(s2) / double(so)."""
    return quantize_multiplier(float(s1) * float(s2) / float(so))


def div_multiplier(s1: np.float32, s2: np.float32, so: np.float32) -> tuple[int, int]:
    """int8 DIV output multiplier s1 / (s2 * so) (float32 in TFLM's source, double in its build)."""
    return quantize_multiplier(float(s1) / (float(s2) * float(so)))


def _emit_mul_div(op: OpInfo, ctx: EmitContext, kernel: str) -> KernelCall:
    in1, in2 = op.inputs[0], op.inputs[1]
    out = op.outputs[0]
    require_int8(ctx, op, in1, in2, out)
    scales = (scale_f32(ctx, in1), scale_f32(ctx, in2), scale_f32(ctx, out))
    multiplier, shift = mul_multiplier(*scales) if kernel == "mye_mul_s8" else div_multiplier(*scales)
    return _binary_call(op, ctx, kernel, "mye_mul_params_t",
                        {"output_multiplier": multiplier, "output_shift": shift})


@register("MUL")
def emit_mul(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """MUL int8 with broadcasting and a fused activation."""
    return _emit_mul_div(op, ctx, "mye_mul_s8")


@register("DIV")
def emit_div(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """DIV int8 with broadcasting and a fused activation."""
    return _emit_mul_div(op, ctx, "mye_div_s8")
