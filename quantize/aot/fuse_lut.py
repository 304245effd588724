"""Element-wise LUT fusion: a chain of int8 element-wise ops fed by one int8
tensor becomes one table lookup.

If every op of a connected group is element-wise (ADD, SUB, MUL, DIV,
LOGISTIC, TANH, HARD_SWISH, RSQRT, QUANTIZE, ...), every input of every op is
either the group's single varying tensor ``x``, a constant, or the output of
another op of the group, and only one tensor ``y`` of the group is used
outside it, then each element of ``y`` depends only on the same element of
``x``: ``y = f(x)`` with ``x`` taking 256 values. Exact Mish written as
``x*s*(2-s)/(s*s-2s+2)`` with ``s = sigmoid(x)`` is such a group, and so is
LayerNorm's tail ``*gamma + beta`` (constants varying along the last axis:
one table per channel).

The table is computed by running the group itself, on a graph whose ``x``
holds the 256 int8 values, through the host build of the same kernels the
unfused code would call, so the fused model is bit-exact with the unfused
one (and so with TFLM) by construction.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myoedge.quantize.tflite_graph import Graph, OpInfo, TensorInfo

from .emit import EMITTERS

LUT_OPCODE = "MYE_LUT"

# Largest per-channel table set one chain may become. 32 KB takes the
# LayerNorm tail (*gamma + beta) of a 128-wide layer: 128 x 256 bytes of
# flash replace two requantising element-wise ops per element (about 40
# instructions each) by one byte lookup.
DEFAULT_MAX_TABLE_BYTES = 32768

ELEMENTWISE_OPS = frozenset({
    "ADD", "SUB", "MUL", "DIV", "LOGISTIC", "TANH", "HARD_SWISH", "RSQRT", "QUANTIZE",
    "MAXIMUM", "MINIMUM", "RELU", "RELU6", "LEAKY_RELU", "ABS", "NEG", "SQUARED_DIFFERENCE",
})


@dataclass
class LutChain:
    """One fused group: ``output = table[channel][input + 128]``."""

    input: int
    output: int
    op_indices: list[int]
    opcodes: list[str]
    channels: int
    table: np.ndarray | None = None  # int8 [channels, 256]

    def summary(self) -> dict:
        """JSON-friendly description for the generator's report."""
        return {"input": self.input, "output": self.output, "ops": self.op_indices,
                "opcodes": self.opcodes, "channels": self.channels}


def _constant_kind(tensor: TensorInfo, channels: int) -> str | None:
    """'scalar' (one value), 'channel' (varies along the last axis only) or None."""
    if tensor.data is None:
        return None
    shape = tuple(tensor.shape)
    if all(d == 1 for d in shape):
        return "scalar"
    if channels > 1 and shape[-1] == channels and all(d == 1 for d in shape[:-1]):
        return "channel"
    return None


def _grow(graph: Graph, x: int, taken: set[int]) -> tuple[list[int], bool]:
    """Ops (in order) that form the largest element-wise group over ``x``; and whether
    any constant in it varies per channel."""
    x_t = graph.tensors[x]
    channels = int(x_t.shape[-1]) if x_t.shape else 1
    produced = {x}
    group: list[int] = []
    per_channel = False
    start = 0
    for op in graph.ops:
        if x in op.outputs:
            start = op.index + 1
    for op in graph.ops[start:]:
        if op.index in taken or op.opcode not in ELEMENTWISE_OPS or op.opcode not in EMITTERS:
            continue
        if len(op.outputs) != 1 or op.outputs[0] < 0:
            continue
        out = graph.tensors[op.outputs[0]]
        if out.type_name != "INT8" or tuple(out.shape) != tuple(x_t.shape):
            continue
        ok, varying, channel_const = True, False, False
        for t in op.inputs:
            if t < 0:
                continue
            tensor = graph.tensors[t]
            if t in produced:
                varying = True
                continue
            kind = _constant_kind(tensor, channels)
            if kind is None or tensor.type_name != "INT8":
                ok = False
                break
            channel_const = channel_const or kind == "channel"
        if ok and varying:
            group.append(op.index)
            produced.add(op.outputs[0])
            per_channel = per_channel or channel_const
    return group, per_channel


def _external_outputs(graph: Graph, group: list[int]) -> set[int]:
    """Tensors written by the group and read outside it (or graph outputs)."""
    members = set(group)
    written = {graph.ops[i].outputs[0] for i in group}
    external = {t for t in written if t in graph.outputs}
    for op in graph.ops:
        if op.index in members:
            continue
        external.update(t for t in op.inputs if t in written)
    return external


def find_chains(graph: Graph, max_table_bytes: int = DEFAULT_MAX_TABLE_BYTES) -> list[LutChain]:
    """Every fusable group, each with one varying input and one used output."""
    from .generate import _load_emitters

    _load_emitters()  # fusable ops are those with an emitter
    taken: set[int] = set()
    chains: list[LutChain] = []
    candidates = list(graph.inputs) + [t for op in graph.ops for t in op.outputs if t >= 0]
    for x in candidates:
        x_t = graph.tensors[x]
        if x_t.type_name != "INT8" or x_t.data is not None:
            continue
        group, per_channel = _grow(graph, x, taken)
        last_dim = int(x_t.shape[-1]) if x_t.shape else 1
        # Shorten the group from its end until one tensor leaves it and its table fits.
        while group:
            too_big = per_channel and last_dim * 256 > max_table_bytes
            if len(_external_outputs(graph, group)) == 1 and not too_big:
                break
            group.pop()
            per_channel = _grow_flags(graph, x, group)
        if not group:
            continue
        channels = last_dim if per_channel else 1
        (y,) = _external_outputs(graph, group)
        # Keep only the ops y depends on (dead branches stay out).
        needed = _ancestors(graph, group, y)
        group = [i for i in group if i in needed]
        chains.append(LutChain(input=x, output=y, op_indices=group,
                               opcodes=[graph.ops[i].opcode for i in group], channels=channels))
        taken.update(group)
    return chains


def _grow_flags(graph: Graph, x: int, group: list[int]) -> bool:
    """Whether the (pruned) group uses a per-channel constant."""
    x_t = graph.tensors[x]
    channels = int(x_t.shape[-1]) if x_t.shape else 1
    return any(
        _constant_kind(graph.tensors[t], channels) == "channel"
        for i in group for t in graph.ops[i].inputs if t >= 0 and graph.tensors[t].data is not None
    )


def _ancestors(graph: Graph, group: list[int], y: int) -> set[int]:
    """Ops of ``group`` that ``y`` depends on."""
    producer = {graph.ops[i].outputs[0]: i for i in group}
    needed: set[int] = set()
    stack = [y]
    while stack:
        t = stack.pop()
        i = producer.get(t)
        if i is None or i in needed:
            continue
        needed.add(i)
        stack.extend(t2 for t2 in graph.ops[i].inputs if t2 >= 0)
    return needed


def _evaluation_graph(graph: Graph, chain: LutChain) -> Graph:
    """The chain alone, with ``x`` holding the 256 int8 values (one column per channel)."""
    x_t = graph.tensors[chain.input]
    channels = int(x_t.shape[-1]) if x_t.shape else 1
    new_shape = (256, chain.channels) if chain.channels > 1 else (256,)
    varying = {chain.input} | {graph.ops[i].outputs[0] for i in chain.op_indices}
    tensors = list(graph.tensors)
    for t in varying:
        tensors[t] = dataclasses.replace(tensors[t], shape=new_shape, shape_signature=new_shape)
    for i in chain.op_indices:
        for t in graph.ops[i].inputs:
            if t < 0 or t in varying:
                continue
            tensor = graph.tensors[t]
            kind = _constant_kind(tensor, channels)
            shape = (chain.channels,) if kind == "channel" else (1,)
            data = np.asarray(tensor.data).reshape(shape)
            tensors[t] = dataclasses.replace(tensor, shape=shape, shape_signature=shape, data=data)
    ops = [dataclasses.replace(graph.ops[i], index=k) for k, i in enumerate(chain.op_indices)]
    return Graph(tensors=tensors, ops=ops, inputs=(chain.input,), outputs=(chain.output,), name="lut_eval")


def evaluate_chain(graph: Graph, chain: LutChain) -> np.ndarray:
    """The chain's table, int8 [channels, 256], from the host build of the kernels."""
    from .generate import generate_from_graph
    from .host_build import AotModel

    sub = _evaluation_graph(graph, chain)
    values = np.arange(-128, 128, dtype=np.int8)
    x = values if chain.channels == 1 else np.repeat(values[:, None], chain.channels, axis=1)
    with tempfile.TemporaryDirectory(prefix="mye_lut_") as tmp:
        generate_from_graph(sub, Path(tmp), "lut_eval")
        out = AotModel(Path(tmp)).invoke(x)
    return np.asarray(out, dtype=np.int8).reshape(256, chain.channels).T.copy()


def fuse_lut_chains(graph: Graph, max_table_bytes: int = DEFAULT_MAX_TABLE_BYTES) -> tuple[Graph, list[LutChain]]:
    """A copy of ``graph`` with every fusable chain replaced by one ``MYE_LUT`` op.

    The ``MYE_LUT`` op reads (x, table) and writes y; the table is a new
    constant int8 tensor [channels, 256] (or [256]). Ops are renumbered.
    """
    chains = find_chains(graph, max_table_bytes)
    if not chains:
        return graph, []
    tensors = list(graph.tensors)
    replacement: dict[int, OpInfo] = {}
    removed: set[int] = set()
    for chain in chains:
        chain.table = evaluate_chain(graph, chain)
        table_shape = (chain.channels, 256) if chain.channels > 1 else (256,)
        data = chain.table.reshape(table_shape)
        data.setflags(write=False)
        empty = np.zeros(0)
        table = TensorInfo(
            index=len(tensors), name=f"lut_{graph.tensors[chain.output].name}"[:60], shape=table_shape,
            shape_signature=table_shape, type_name="INT8", dtype=np.dtype(np.int8), scales=empty,
            zero_points=np.zeros(0, dtype=np.int64), quantized_dimension=0, buffer=0, data=data,
        )
        tensors.append(table)
        last = chain.op_indices[-1]
        replacement[last] = OpInfo(index=last, opcode=LUT_OPCODE, version=1, inputs=(chain.input, table.index),
                                   outputs=(chain.output,), options={"channels": chain.channels,
                                                                     "fused": chain.opcodes})
        removed.update(chain.op_indices)
    ops: list[OpInfo] = []
    for op in graph.ops:
        if op.index in replacement:
            ops.append(replacement[op.index])
        elif op.index not in removed:
            ops.append(op)
    ops = [dataclasses.replace(op, index=k) for k, op in enumerate(ops)]
    fused = Graph(tensors=tensors, ops=ops, inputs=graph.inputs, outputs=graph.outputs, name=graph.name,
                  description=graph.description, schema_version=graph.schema_version)
    return fused, chains
