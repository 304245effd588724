"""FULLY_CONNECTED on one input row with its weights re-laid out in blocks of four units.

The row-major kernel (``mye_fully_connected_s8``) walks four weight rows
through four pointers; on a Cortex-M4 those pointers, four accumulators and
the sign-extended input crowd the registers. Stored so that the four units'
bytes for the same four inputs sit next to each other, one pointer walks a
block and one 16-byte load brings all four weight words in: the kernel
``mye_fully_connected_blocked_s8`` runs about 1.5 instructions per MAC
instead of about 1.9 (QEMU -icount on mps2-an386).

:func:`block_fully_connected` renames the eligible FULLY_CONNECTED ops of a
graph to :data:`BLOCKED_OPCODE`; :func:`emit_fully_connected_blocked` emits
them with the same parameters TFLM's Prepare computes (the helpers of
``ops_conv``), the input offset folded into the bias, and the weights written
in the blocked order (:func:`block_weights`). The arithmetic is unchanged,
so results stay bit-exact with TFLM.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from myoedge.quantize.tflite_graph import Graph, OpInfo

from .emit import EmitContext, KernelCall, fail, register
from .ops_conv import _require_int8, fully_connected_call

BLOCKED_OPCODE = "MYE_FULLY_CONNECTED_BLOCKED"
BLOCK_UNITS = 4


def block_weights(weights: np.ndarray) -> np.ndarray:
    """``weights`` [units, depth] in the kernel's blocked order (flat, same bytes).

    Per block of four units: for every 4-byte chunk of the depth the four
    units' chunks one after another, then the four units' tails (depth % 4
    bytes each); the last units % 4 units follow row-major.
    """
    w = np.asarray(weights)
    units, depth = w.shape
    blocks = units // BLOCK_UNITS
    depth4 = depth - depth % 4
    parts = []
    for j in range(blocks):
        block = w[BLOCK_UNITS * j:BLOCK_UNITS * (j + 1)]
        chunks = block[:, :depth4].reshape(BLOCK_UNITS, depth4 // 4, 4).transpose(1, 0, 2)
        parts.append(chunks.reshape(-1))
        parts.append(block[:, depth4:].reshape(-1))
    parts.append(w[BLOCK_UNITS * blocks:].reshape(-1))
    out = np.concatenate(parts) if parts else np.zeros(0, dtype=w.dtype)
    assert out.size == w.size
    return out.astype(w.dtype, copy=False)


def _fc_shapes(graph: Graph, op: OpInfo) -> tuple[int, int, int] | None:
    """(batches, accum_depth, output_depth) of a FULLY_CONNECTED op, or None when its shapes are odd."""
    w, x, y = (graph.tensors[i] for i in (op.inputs[1], op.inputs[0], op.outputs[0]))
    if len(w.shape) != 2 or not y.shape:
        return None
    units, depth = int(w.shape[0]), int(w.shape[1])
    if y.shape[-1] != units or units == 0:
        return None
    batches = y.num_elements // units
    if x.num_elements != batches * depth:
        return None
    return batches, depth, units


def is_blockable(graph: Graph, op: OpInfo) -> bool:
    """A FULLY_CONNECTED op the blocked kernel takes: one input row, constant symmetric
    int8 weights (zero point 0, so the input offset folds into the bias), >= 4 units."""
    if op.opcode != "FULLY_CONNECTED" or len(op.inputs) < 2 or op.inputs[1] < 0:
        return False
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        return False
    x, w, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if any(t.type_name != "INT8" for t in (x, w, y)) or w.data is None:
        return False
    if w.zero_points.size and int(w.zero_points[0]) != 0:
        return False
    shapes = _fc_shapes(graph, op)
    # Several rows go through mye_fully_connected_s8's 2 x 2 blocks (each unit's
    # requantisation set up once for all rows), which measured faster.
    return shapes is not None and shapes[0] == 1 and shapes[2] >= BLOCK_UNITS


def block_fully_connected(graph: Graph) -> tuple[Graph, list[int]]:
    """A copy of ``graph`` whose eligible FULLY_CONNECTED ops are :data:`BLOCKED_OPCODE`;
    also the indices of the ops renamed."""
    renamed = [op.index for op in graph.ops if is_blockable(graph, op)]
    if not renamed:
        return graph, []
    ops = [dataclasses.replace(op, opcode=BLOCKED_OPCODE) if op.index in renamed else op for op in graph.ops]
    return dataclasses.replace(graph, ops=ops), renamed


@register(BLOCKED_OPCODE)
def emit_fully_connected_blocked(op: OpInfo, ctx: EmitContext) -> KernelCall:
    """FULLY_CONNECTED (one row, symmetric weights) through ``mye_fully_connected_blocked_s8``."""
    x_i, w_i = op.inputs[0], op.inputs[1]
    y_i = op.outputs[0]
    _require_int8(ctx, op, x_i, w_i, y_i)
    x, w, y = (ctx.graph.tensors[i] for i in (x_i, w_i, y_i))
    if w.data is None:
        raise fail(ctx, op, "weights are not constant")
    shapes = _fc_shapes(ctx.graph, op)
    if shapes is None:
        raise fail(ctx, op, f"input {x.shape}, weights {w.shape} and output {y.shape} do not match")
    batches, accum_depth, output_depth = shapes
    packed = block_weights(np.asarray(w.data).reshape(output_depth, -1))
    return fully_connected_call(op, ctx, "fc_blocked", "mye_fully_connected_blocked_s8", batches, accum_depth,
                                output_depth, packed_weights=packed)
