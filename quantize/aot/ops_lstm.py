"""Emitter for UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16 cell state).

TFLM's integer LSTM (``lstm_eval``) runs each gate as two fully-connected
layers into Q3.12 int16 (input with the gate bias, recurrent without), a
saturating add, and an int16 sigmoid / tanh; the cell and hidden updates are
int16 element-wise MULs with one quantised multiplier each. This module
computes those multipliers as TFLM's ``PrepareGateParametersInteger`` does
and emits one call to ``mye_lstm_s8`` (``firmware/kernels/src/lstm.c``).

State: TFLM keeps the hidden and cell state in the op's variable tensors
(inputs 18 and 19), which persist across ``invoke`` calls until the
interpreter is reset. The kernel reads and updates those same tensors (the
generator places them in its state area), so the generated C carries state
between calls exactly like TFLM; resetting both sides before each window
gives the usual independent-window behaviour.
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from .emit import EmitContext, KernelCall, OpInfo, register
from .lut_tables import sigmoid_interpolation_table
from .ops_elementwise import c_struct, fail, require_int8, scale_f32
from .quant_math import quantize_multiplier

GATE_PRE_ACTIVATION_SCALE = np.float32(2.0**-12)  # Q3.12
GATE_OUTPUT_SCALE = np.float32(2.0**-15)  # Q0.15

# Input tensor positions of the op (TFLite's LSTM input order).
INPUT = 0
INPUT_WEIGHTS = {"input": 1, "forget": 2, "cell": 3, "output": 4}
RECURRENT_WEIGHTS = {"input": 5, "forget": 6, "cell": 7, "output": 8}
BIASES = {"input": 12, "forget": 13, "cell": 14, "output": 15}
HIDDEN_STATE = 18
CELL_STATE = 19
ABSENT_INPUTS = (9, 10, 11, 16, 17, 20, 21, 22, 23)  # peephole, projection, layer norm
GATE_ORDER = ("input", "forget", "cell", "output")  # MYE_LSTM_GATE_* order


_SIGMOID_TABLES: "weakref.WeakKeyDictionary[object, str]" = weakref.WeakKeyDictionary()


def sigmoid_table_array(ctx: EmitContext) -> str:
    """The const array of the int16 sigmoid/tanh interpolation table, emitted once per generated file."""
    if ctx not in _SIGMOID_TABLES:
        _SIGMOID_TABLES[ctx] = ctx.const_array("sigmoid_q16", sigmoid_interpolation_table(), "uint16_t")
    return _SIGMOID_TABLES[ctx]


def fc_multiplier(input_scale: np.float32, weight_scale: np.float32, output_scale: np.float32) -> tuple[int, int]:
    """Multiplier of a gate's fully-connected layer into Q3.12, as the pinned TFLM computes it.

    The scales are float32 (as TFLM stores them) but their product is taken
    in double: ``double(input) * double(weight) / double(output)``. A float32
    product (what the public ``GetQuantizedConvolutionMultipler`` source
    reads) differs by up to half a float32 ulp, which moves the multiplier by
    a few dozen units and flips the rounding of accumulators that land within
    ~3e-8 of a half: seen as a 1-LSB gate pre-activation, a cell state off by
    2 and a hidden state off by 1 on a DB5 LSTM-FIN model, and pinned by
    ``tests/test_aot_lstm.py::test_lstm_gate_multiplier_uses_a_double_product``.
    """
    product = float(np.float32(input_scale)) * float(np.float32(weight_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


def inter_gate_multiplier(scale1: np.float32, scale2: np.float32, output_scale: np.float32) -> tuple[int, int]:
    """TFLM ``CreateInterGateMulParams``: double(s1) * double(s2) / double(out)."""
    return quantize_multiplier(float(scale1) * float(scale2) / float(output_scale))


def cell_tanh_scaling(cell_scale: np.float32) -> tuple[int, int]:
    """(multiplier, left_shift) of the int16 tanh applied to the cell state.

    TFLM takes log2 of the (power-of-two) cell scale in float32, shifts by
    (15 + log2) - 3 and folds the table's factor 3 into the multiplier.
    """
    log2 = float(np.float32(math.log(float(cell_scale))) * np.float32(1.0 / math.log(2.0)))
    power = int(round(log2))
    if abs(log2 - power) >= 1e-3:
        raise ValueError(f"cell state scale {float(cell_scale)} is not a power of two")
    shift = (15 + power) - 3
    if shift < 0:
        return 3, -shift
    return 3 << shift, 0


def quantized_cell_clip(cell_clip: float, cell_scale: np.float32) -> int:
    """TFLM ``CreateLstmCellStateInfo``: clip / scale, clamped to int16, truncated."""
    if cell_clip <= 0:
        return 0
    value = min(max(float(np.float32(cell_clip)) / float(cell_scale), -32768.0), 32767.0)
    return int(value)


def _tensor_or_fail(ctx: EmitContext, op: OpInfo, position: int, what: str):
    if len(op.inputs) <= position or op.inputs[position] < 0:
        raise fail(ctx, op, f"{what} (input {position}) is missing")
    return ctx.graph.tensors[op.inputs[position]]


@register("UNIDIRECTIONAL_SEQUENCE_LSTM")
def emit_lstm(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """UNIDIRECTIONAL_SEQUENCE_LSTM, int8 x int8 -> int16 cell, no peephole/projection/layer norm."""
    graph = ctx.graph
    if len(op.inputs) != 24:
        raise fail(ctx, op, f"expected 24 inputs, got {len(op.inputs)}")
    for position in ABSENT_INPUTS:
        if op.inputs[position] >= 0:
            raise fail(ctx, op, f"input {position} (peephole / projection / layer norm) is not supported")
    x = _tensor_or_fail(ctx, op, INPUT, "the input")
    hidden = _tensor_or_fail(ctx, op, HIDDEN_STATE, "the hidden state")
    cell = _tensor_or_fail(ctx, op, CELL_STATE, "the cell state")
    if not (hidden.is_variable and cell.is_variable):
        raise fail(ctx, op, "hidden and cell state must be variable tensors")
    if hidden.num_elements != cell.num_elements:
        raise fail(ctx, op, "hidden and cell state differ in size")
    out = graph.tensors[op.outputs[0]]
    require_int8(ctx, op, op.inputs[INPUT], op.inputs[HIDDEN_STATE], op.outputs[0])
    if cell.type_name != "INT16":
        raise fail(ctx, op, f"cell state is {cell.type_name}; only the int16 cell state is supported")
    if op.options.get("fused_activation_function", "TANH") != "TANH":
        raise fail(ctx, op, f"cell activation {op.options.get('fused_activation_function')} is not supported")
    if len(x.shape) != 3:
        raise fail(ctx, op, f"input shape {x.shape} is not 3-D")
    time_major = bool(op.options.get("time_major", False))
    if time_major:
        time_steps, batches, input_dim = (int(v) for v in x.shape)
    else:
        batches, time_steps, input_dim = (int(v) for v in x.shape)
    state_dim = int(hidden.num_elements // max(batches, 1))
    if out.num_elements != batches * time_steps * state_dim:
        raise fail(ctx, op, f"output shape {out.shape} does not hold every step's hidden state")
    # The output may be quantised unlike the hidden state (the converter gives the forward half of a
    # Bidirectional layer the CONCATENATION's quantisation): TFLM copies the raw int8 hidden state
    # into the output, and so does mye_lstm_s8, so the output's own scale never enters the arithmetic
    # (tests/test_aot_shape_ops.py compares a converted Bidirectional LSTM with TFLM tensor by tensor).

    gates = []
    for gate in GATE_ORDER:
        w = _tensor_or_fail(ctx, op, INPUT_WEIGHTS[gate], f"{gate} input weights")
        r = _tensor_or_fail(ctx, op, RECURRENT_WEIGHTS[gate], f"{gate} recurrent weights")
        b = _tensor_or_fail(ctx, op, BIASES[gate], f"{gate} bias")
        for tensor, what in ((w, "input weights"), (r, "recurrent weights")):
            if tensor.type_name != "INT8" or tensor.data is None:
                raise fail(ctx, op, f"{gate} {what} must be constant INT8")
            if tensor.scales.size != 1 or int(tensor.zero_points[0]) != 0:
                raise fail(ctx, op, f"{gate} {what} must be per-tensor symmetric (TFLM's LSTM path)")
        if b.type_name != "INT32" or b.data is None:
            raise fail(ctx, op, f"{gate} bias must be constant INT32")
        if tuple(w.shape) != (state_dim, input_dim) or tuple(r.shape) != (state_dim, state_dim):
            raise fail(ctx, op, f"{gate} weight shapes {w.shape} / {r.shape} do not match")
        in_m, in_s = fc_multiplier(scale_f32(ctx, op.inputs[INPUT]), np.float32(w.scale), GATE_PRE_ACTIVATION_SCALE)
        rec_m, rec_s = fc_multiplier(
            scale_f32(ctx, op.inputs[HIDDEN_STATE]), np.float32(r.scale), GATE_PRE_ACTIVATION_SCALE
        )
        gates.append({
            "input_weights": ctx.tensor(op.inputs[INPUT_WEIGHTS[gate]]),
            "recurrent_weights": ctx.tensor(op.inputs[RECURRENT_WEIGHTS[gate]]),
            "bias": ctx.tensor(op.inputs[BIASES[gate]]),
            "input_multiplier": in_m,
            "input_shift": in_s,
            "recurrent_multiplier": rec_m,
            "recurrent_shift": rec_s,
        })

    cell_scale = np.float32(cell.scale)
    hidden_scale = np.float32(hidden.scale)
    forget_m, forget_s = inter_gate_multiplier(GATE_OUTPUT_SCALE, cell_scale, cell_scale)
    input_m, input_s = inter_gate_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cell_scale)
    output_m, output_s = inter_gate_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, hidden_scale)
    try:
        tanh_m, tanh_shift = cell_tanh_scaling(cell_scale)
    except ValueError as error:
        raise fail(ctx, op, str(error)) from error
    fields = {
        "batches": batches,
        "time_steps": time_steps,
        "input_dim": input_dim,
        "state_dim": state_dim,
        "time_major": int(time_major),
        "input_offset": -x.zero_point,
        "hidden_offset": -hidden.zero_point,
        "hidden_zero_point": hidden.zero_point,
        "gates": gates,
        "forget_cell_multiplier": forget_m,
        "forget_cell_shift": forget_s,
        "input_cell_multiplier": input_m,
        "input_cell_shift": input_s,
        "output_multiplier": output_m,
        "output_shift": output_s,
        "cell_tanh_multiplier": tanh_m,
        "cell_tanh_left_shift": tanh_shift,
        "cell_clip": quantized_cell_clip(float(op.options.get("cell_clip", 0.0) or 0.0), cell_scale),
        "sigmoid_table": sigmoid_table_array(ctx),
    }
    name = ctx.unique("lstm_params")
    code = c_struct("mye_lstm_params_t", name, fields)
    code += (
        f"\n    mye_lstm_s8(&{name}, {ctx.tensor(op.inputs[INPUT])}, {ctx.tensor(op.inputs[HIDDEN_STATE])}, "
        f"{ctx.tensor(op.inputs[CELL_STATE])}, {ctx.tensor(op.outputs[0])}, (int16_t *)(void *){ctx.scratch()});"
    )
    return KernelCall(code=code, kernel="mye_lstm_s8", scratch_bytes=8 * state_dim)
