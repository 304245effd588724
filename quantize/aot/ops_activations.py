"""Emitters for the int8 activation ops: LOGISTIC, TANH, HARD_SWISH, RSQRT, SOFTMAX.

The constants are TFLM's ``Prepare`` results: LOGISTIC and TANH rescale the
input into Q4 with a ``frexp`` multiplier and saturate outside an input
radius; HARD_SWISH keeps two 16-bit multipliers; RSQRT one output multiplier;
SOFTMAX an input multiplier for beta * scale in Q5 and the smallest
difference that still contributes. The kernels are in
``firmware/kernels/src/activations.c``.
"""

from __future__ import annotations

import math

import numpy as np

from .emit import EmitContext, KernelCall, OpInfo, register
from .ops_elementwise import c_struct, fail, require_int8, scale_f32
from .quant_math import (
    calculate_input_radius,
    frexp_multiplier,
    preprocess_softmax_scaling,
    quantize_multiplier,
    softmax_exp_table,
)

SIGMOID_INPUT_INTEGER_BITS = 4
SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5
SOFTMAX_EXP_TABLE = True
"""Give SOFTMAX a 256-entry int32 exp table (1 KB of flash per op, one read per element instead
of a fixed-point exp); False keeps the kernel's own exp (tests compare both with TFLM)."""


def sigmoid_fields(ctx: EmitContext, op: OpInfo) -> dict[str, int]:
    """``mye_sigmoid_params_t`` for LOGISTIC / TANH (TFLM int8 Prepare)."""
    src = ctx.graph.tensors[op.inputs[0]]
    real = float(scale_f32(ctx, op.inputs[0])) * float(1 << (31 - SIGMOID_INPUT_INTEGER_BITS))
    multiplier, left_shift = frexp_multiplier(real)
    return {
        "size": src.num_elements,
        "input_zero_point": src.zero_point,
        "input_range_radius": calculate_input_radius(SIGMOID_INPUT_INTEGER_BITS, left_shift, 31),
        "input_multiplier": multiplier,
        "input_left_shift": left_shift,
    }


def _check_output(ctx: EmitContext, op: OpInfo, zero_point: int, scale: float) -> None:
    """The kernels hard-code the output quantisation TFLM requires for these ops."""
    out = ctx.graph.tensors[op.outputs[0]]
    if out.zero_point != zero_point or not math.isclose(out.scale, scale, rel_tol=1e-6):
        raise fail(
            ctx, op, f"output quantisation scale={out.scale} zero_point={out.zero_point}; "
            f"the int8 kernel needs scale={scale} zero_point={zero_point}"
        )


def _unary_call(ctx: EmitContext, op: OpInfo, ctype: str, kernel: str, fields: dict[str, object]) -> KernelCall:
    name = ctx.unique(f"{op.opcode.lower()}_params")
    code = c_struct(ctype, name, fields)
    code += f"\n    {kernel}(&{name}, {ctx.tensor(op.inputs[0])}, {ctx.tensor(op.outputs[0])});"
    return KernelCall(code=code, kernel=kernel, in_place=True)


@register("LOGISTIC")
def emit_logistic(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """LOGISTIC int8 (output scale 1/256, zero point -128)."""
    require_int8(ctx, op, op.inputs[0], op.outputs[0])
    _check_output(ctx, op, -128, 1.0 / 256.0)
    return _unary_call(ctx, op, "mye_sigmoid_params_t", "mye_logistic_s8", sigmoid_fields(ctx, op))


@register("TANH")
def emit_tanh(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """TANH int8 (output scale 1/128, zero point 0)."""
    require_int8(ctx, op, op.inputs[0], op.outputs[0])
    _check_output(ctx, op, 0, 1.0 / 128.0)
    return _unary_call(ctx, op, "mye_sigmoid_params_t", "mye_tanh_s8", sigmoid_fields(ctx, op))


def downscale_to_q15(multiplier: int) -> int:
    """TFLM ``DownScaleInt32ToInt16Multiplier``: Q0.31 -> Q0.15 with rounding, saturated."""
    if multiplier >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (multiplier + (1 << 15)) >> 16


def hard_swish_fields(ctx: EmitContext, op: OpInfo) -> dict[str, int]:
    """``mye_hard_swish_params_t`` (TFLM HardSwishPrepare; scales float32, ratios in double)."""
    src = ctx.graph.tensors[op.inputs[0]]
    dst = ctx.graph.tensors[op.outputs[0]]
    hires_input_scale = np.float32(1.0 / 128.0) * scale_f32(ctx, op.inputs[0])
    reluish_scale = np.float32(3.0 / 32768.0)
    # TFLM's source divides in float32, but the interpreter build evaluates the quotients in
    # double: 18 of 40 scale pairs where the two disagree after the Q0.15 rounding matched
    # TFLM only with double.
    output_multiplier, output_exponent = quantize_multiplier(float(hires_input_scale) / float(scale_f32(ctx, op.outputs[0])))
    if output_exponent > 0:
        raise fail(ctx, op, f"output multiplier exponent {output_exponent} > 0 (TFLM refuses it too)")
    reluish_multiplier, reluish_exponent = quantize_multiplier(float(hires_input_scale) / float(reluish_scale))
    return {
        "size": src.num_elements,
        "input_zero_point": src.zero_point,
        "output_zero_point": dst.zero_point,
        "reluish_multiplier": downscale_to_q15(reluish_multiplier),
        "reluish_exponent": reluish_exponent,
        "output_multiplier": downscale_to_q15(output_multiplier),
        "output_exponent": output_exponent,
    }


@register("HARD_SWISH")
def emit_hard_swish(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """HARD_SWISH int8."""
    require_int8(ctx, op, op.inputs[0], op.outputs[0])
    return _unary_call(ctx, op, "mye_hard_swish_params_t", "mye_hard_swish_s8", hard_swish_fields(ctx, op))


def rsqrt_multiplier(input_scale: np.float32, output_scale: np.float32) -> tuple[int, int]:
    """TFLM: 1 / (sqrt(input_scale) * output_scale); float32 in its source, evaluated in double
    by the interpreter build (see ``hard_swish_fields``)."""
    return quantize_multiplier(1.0 / (math.sqrt(float(input_scale)) * float(output_scale)))


@register("RSQRT")
def emit_rsqrt(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """RSQRT int8 (inputs below the zero point are invalid, as in TFLM)."""
    require_int8(ctx, op, op.inputs[0], op.outputs[0])
    src = ctx.graph.tensors[op.inputs[0]]
    dst = ctx.graph.tensors[op.outputs[0]]
    multiplier, shift = rsqrt_multiplier(scale_f32(ctx, op.inputs[0]), scale_f32(ctx, op.outputs[0]))
    fields = {
        "size": src.num_elements,
        "input_zero_point": src.zero_point,
        "output_zero_point": dst.zero_point,
        "multiplier": multiplier,
        "shift": shift,
    }
    return _unary_call(ctx, op, "mye_rsqrt_params_t", "mye_rsqrt_s8", fields)


def softmax_fields(ctx: EmitContext, op: OpInfo) -> dict[str, object]:
    """``mye_softmax_params_t`` without the exp table (TFLM CalculateSoftmaxParams, int8)."""
    src = ctx.graph.tensors[op.inputs[0]]
    if not src.shape:
        raise fail(ctx, op, "input is a scalar")
    depth = int(src.shape[-1])
    beta = float(np.float32(op.options.get("beta", 1.0)))
    multiplier, left_shift = preprocess_softmax_scaling(
        beta, float(scale_f32(ctx, op.inputs[0])), SOFTMAX_SCALED_DIFF_INTEGER_BITS
    )
    diff_min = -calculate_input_radius(SOFTMAX_SCALED_DIFF_INTEGER_BITS, left_shift, 31)
    return {
        "outer_size": src.num_elements // max(depth, 1),
        "depth": depth,
        "input_multiplier": multiplier,
        "input_left_shift": left_shift,
        "diff_min": int(diff_min),
    }


@register("SOFTMAX")
def emit_softmax(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """SOFTMAX int8 -> int8 over the last axis."""
    require_int8(ctx, op, op.inputs[0], op.outputs[0])
    out = ctx.graph.tensors[op.outputs[0]]
    if out.zero_point != -128 or np.float32(out.scale) != np.float32(1.0 / 256.0):
        raise fail(ctx, op, f"output scale {out.scale} / zero point {out.zero_point}: TFLM needs 1/256 and -128")
    fields = softmax_fields(ctx, op)
    fields["exp_table"] = 0
    if SOFTMAX_EXP_TABLE:
        table = softmax_exp_table(int(fields["input_multiplier"]), int(fields["input_left_shift"]),
                                  int(fields["diff_min"]), SOFTMAX_SCALED_DIFF_INTEGER_BITS)
        fields["exp_table"] = ctx.const_array("softmax_exp", table, "int32_t")
    return _unary_call(ctx, op, "mye_softmax_params_t", "mye_softmax_s8", fields)
