"""Generate C99 for one int8 .tflite model: no interpreter, no malloc.

``generate_c(model_bytes, out_dir, name)`` writes

* ``<name>_aot.h`` - ``int mye_<name>_invoke(const int8_t *input, int8_t *output)``
  (0 = ok), ``void mye_<name>_reset(void)`` (sets variable tensors, e.g.
  LSTM state, to their zero points as TFLM's ``Reset`` does; the first invoke
  calls it by itself), the debug hook setter (compiled in
  when ``MYE_AOT_DEBUG`` is defined) and macros: ``MYE_<NAME>_ARENA_BYTES``,
  ``..._STATE_BYTES``, ``..._INPUT_SIZE`` / ``..._OUTPUT_SIZE`` (elements =
  bytes, int8), ``..._INPUT_SCALE`` / ``..._INPUT_ZERO_POINT`` and the same
  for the output;
* ``<name>_aot.c`` - weights and requantisation constants as const arrays,
  one static arena laid out by :mod:`.planner`, and the op sequence calling
  the kernel library in ``firmware/kernels``;
* ``<name>_aot.json`` - what the host harness needs to drive the library
  (shapes, dtypes, op list, kernels used).

The graph input and output are not copied into the arena: the first op
reads the caller's input buffer and the last op writes the caller's output
buffer directly.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from myoedge.quantize.tflite_graph import Graph, OpInfo, TensorInfo, load_graph

from .emit import EMITTERS, KernelCall, UnsupportedOpError
from .overlap import overlap_rules
from .planner import ArenaPlan, LiveRange, format_memory_map, plan_arena, save_memory_map_png

ARENA_ALIGNMENT = 4

_CTYPES = {
    "INT8": "int8_t",
    "UINT8": "uint8_t",
    "INT16": "int16_t",
    "INT32": "int32_t",
    "INT64": "int64_t",
    "FLOAT32": "float",
    "BOOL": "uint8_t",
}

_TOKEN = re.compile(r"@([TS])(-?\d+)@")


@dataclass
class AotOp:
    """One op of the generated sequence."""

    index: int
    opcode: str
    kernel: str
    aliased: bool  # True when the op became a no-op view of its input


@dataclass
class AotResult:
    """What ``generate_c`` wrote and what the model costs."""

    name: str
    c_path: Path
    h_path: Path
    json_path: Path
    arena_bytes: int
    state_bytes: int
    const_bytes: int
    kernels_used: list[str]
    ops: list[AotOp] = field(default_factory=list)
    input_shape: tuple[int, ...] = ()
    output_shape: tuple[int, ...] = ()
    fused_chains: list[dict] = field(default_factory=list)  # element-wise chains replaced by tables


def _load_emitters() -> None:
    """Import every ``ops_*`` module of this package so their emitters register."""
    package = importlib.import_module(__package__ or "myoedge.quantize.aot")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("ops_"):
            importlib.import_module(f"{package.__name__}.{module.name}")


def c_identifier(name: str) -> str:
    """A lower-case C identifier from a model name (``"S-ConvNet"`` -> ``"s_convnet"``)."""
    ident = re.sub(r"[^0-9a-zA-Z_]", "_", name).lower().strip("_") or "model"
    return ident if not ident[0].isdigit() else f"m_{ident}"


def _ctype(tensor: TensorInfo) -> str:
    if tensor.type_name not in _CTYPES:
        raise UnsupportedOpError(f"tensor {tensor.index} ({tensor.name!r}) has type {tensor.type_name}")
    return _CTYPES[tensor.type_name]


def _format_values(values: np.ndarray, ctype: str) -> str:
    """C initialiser body for ``values``, 16 per line."""
    flat = np.asarray(values).reshape(-1)
    if ctype == "float":
        items = [repr(float(np.float32(v))) + "f" for v in flat]
        items = [s.replace("inf", "INFINITY").replace("nan", "NAN") for s in items]
    elif ctype == "double":
        items = [repr(float(v)) for v in flat]
    else:
        items = [str(int(v)) for v in flat]
        if ctype in ("int32_t", "int64_t"):
            low = -(2**31) if ctype == "int32_t" else -(2**63)
            items = [f"({low + 1} - 1)" if int(v) == low else s for v, s in zip(flat, items)]
    lines = [", ".join(items[i:i + 16]) for i in range(0, len(items), 16)]
    return "\n    " + ",\n    ".join(lines) + "\n" if items else "0"


class _UnionFind:
    """Groups of tensors that share one buffer."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, keep: int, other: int) -> None:
        self.parent[self.find(other)] = self.find(keep)

    def members(self, root: int, universe: list[int]) -> list[int]:
        return [t for t in universe if self.find(t) == root]


class _Generator:
    """Implements :class:`EmitContext` and assembles the C for one graph."""

    def __init__(self, graph: Graph, name: str) -> None:
        self.graph = graph
        self.name = name
        self.const_decls: list[str] = []
        self.const_bytes = 0
        self._const_names: set[str] = set()
        self._tensor_consts: dict[int, str] = {}
        self._used_ids: set[str] = set()
        self.current_op = -1

    # ---- EmitContext ---------------------------------------------------------------
    def tensor(self, index: int) -> str:
        """Placeholder for a tensor's pointer, resolved once the arena is planned."""
        return "0" if index < 0 else f"@T{index}@"

    def scratch(self) -> str:
        return f"@S{self.current_op}@"

    def unique(self, hint: str) -> str:
        base = c_identifier(hint)
        candidate = base
        n = 1
        while candidate in self._used_ids:
            n += 1
            candidate = f"{base}_{n}"
        self._used_ids.add(candidate)
        return candidate

    def const_array(self, hint: str, values: np.ndarray, ctype: str) -> str:
        name = self.unique(f"k_{hint}")
        values = np.asarray(values)
        count = max(int(values.size), 1)
        self.const_decls.append(
            f"static const {ctype} {name}[{count}] MYE_ALIGN(16) = {{{_format_values(values, ctype)}}};"
        )
        itemsize = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4,
                    "uint32_t": 4, "float": 4, "int64_t": 8, "double": 8}.get(ctype, 4)
        self.const_bytes += count * itemsize
        return name

    # ---- constants of graph tensors ------------------------------------------------------
    def tensor_const(self, index: int) -> str:
        """The const array holding constant tensor ``index`` (emitted once)."""
        if index not in self._tensor_consts:
            tensor = self.graph.tensors[index]
            hint = f"t{index}_{tensor.name.split('/')[-1][:24]}"
            self._tensor_consts[index] = self.const_array(hint, np.asarray(tensor.data), _ctype(tensor))
        return self._tensor_consts[index]


def _storage_kind(graph: Graph, t: int) -> str:
    """Where a tensor's bytes live on their own: const, state, input, output or arena."""
    tensor = graph.tensors[t]
    if tensor.data is not None:
        return "const"
    if tensor.is_variable:
        return "state"
    if t in graph.inputs:
        return "input"
    if t in graph.outputs:
        return "output"
    return "arena"


def _merged_kind(a: str, b: str) -> str | None:
    """Storage of a buffer holding tensors of kinds a and b, or None when they cannot share."""
    if a == b:
        return a if a in ("arena", "const") else None
    pair = {a, b}
    if pair == {"arena", "input"}:
        return "input"
    if pair == {"arena", "output"}:
        return "output"
    if pair == {"arena", "const"}:
        return "const"
    return None


def generate_c(model_bytes: bytes, out_dir: Path, name: str = "model", fuse_lut: bool = False,
               lut_max_table_bytes: int = 32768, memory_map_png: bool = False,
               block_fc: bool = True) -> AotResult:
    """Write ``<name>_aot.c/.h/.json`` for ``model_bytes`` into ``out_dir``.

    ``fuse_lut`` replaces every chain of int8 element-wise ops that depends on
    a single int8 tensor by a 256-entry lookup table (per-channel tables when
    constants vary along the last axis, up to ``lut_max_table_bytes`` per
    chain); the tables are computed by running the chain through the host
    build of the same kernels, so results stay bit-exact. It needs the host
    gcc at generation time.

    ``block_fc`` stores the weights of single-row FULLY_CONNECTED ops in blocks
    of four units for ``mye_fully_connected_blocked_s8`` (see
    ``ops_fc_blocked.py``; same results, fewer instructions).

    ``memory_map_png`` also writes ``<name>_aot_memory.png``, the arena plan
    drawn as buffers over op index and offset.

    Raises :class:`UnsupportedOpError` naming the first op (index and opcode)
    the engine cannot generate, and listing every unsupported opcode.
    """
    _load_emitters()
    graph = load_graph(model_bytes)
    chains: list[dict] = []
    if fuse_lut:
        from .fuse_lut import fuse_lut_chains

        graph, fused = fuse_lut_chains(graph, max_table_bytes=lut_max_table_bytes)
        chains = [chain.summary() for chain in fused]
    if block_fc:
        from .ops_fc_blocked import block_fully_connected

        graph, _ = block_fully_connected(graph)
    result = generate_from_graph(graph, out_dir, name, memory_map_png=memory_map_png)
    result.fused_chains = chains
    meta = json.loads(result.json_path.read_text())
    meta["fused_chains"] = chains
    result.json_path.write_text(json.dumps(meta, indent=1))
    return result


def generate_from_graph(graph: Graph, out_dir: Path, name: str = "model", memory_map_png: bool = False) -> AotResult:
    """Like :func:`generate_c`, for an already loaded (possibly rewritten) graph."""
    _load_emitters()
    ident = c_identifier(name)
    upper = ident.upper()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UnsupportedOpError(
            f"model has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; the AOT engine needs one of each"
        )
    in_t, out_t = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    for role, tensor in (("input", in_t), ("output", out_t)):
        if tensor.type_name != "INT8":
            raise UnsupportedOpError(f"graph {role} {tensor.name!r} is {tensor.type_name}, the engine needs INT8")

    unsupported = [op for op in graph.ops if op.opcode not in EMITTERS]
    if unsupported:
        first = unsupported[0]
        names = sorted({op.opcode for op in unsupported})
        raise UnsupportedOpError(
            f"{graph.op_label(first)}: op {first.opcode} (index {first.index}) is not supported by the AOT engine "
            f"(unsupported in this model: {', '.join(names)})"
        )

    gen = _Generator(graph, ident)
    calls: list[KernelCall] = []
    for op in graph.ops:
        gen.current_op = op.index
        try:
            calls.append(EMITTERS[op.opcode](op, gen))
        except UnsupportedOpError:
            raise
        except Exception as exc:  # an emitter's own check failed: name the op
            raise UnsupportedOpError(f"{graph.op_label(op)}: cannot generate {op.opcode}: {exc}") from exc

    layout = _plan_storage(graph, calls)
    code_blocks = _op_blocks(graph, gen, layout, calls)

    c_text = _c_file(gen, ident, upper, layout, code_blocks)
    h_text = _h_file(ident, upper, layout, in_t, out_t)
    c_path = out_dir / f"{ident}_aot.c"
    h_path = out_dir / f"{ident}_aot.h"
    json_path = out_dir / f"{ident}_aot.json"
    c_path.write_text(c_text)
    h_path.write_text(h_text)
    if memory_map_png:
        save_memory_map_png(layout.plan, out_dir / f"{ident}_aot_memory.png", title=f"{ident} arena")
        labels = {key: (f"tensor {key[1]} {graph.tensors[key[1]].name.split(';')[0][:60]}" if key[0] == "t"
                        else f"scratch of op {key[1]}") for key in layout.plan.offsets}
        (out_dir / f"{ident}_aot_memory.txt").write_text(format_memory_map(layout.plan, labels) + "\n")

    ops = [
        AotOp(index=op.index, opcode=op.opcode, kernel=call.kernel, aliased=op.index in layout.aliased_ops)
        for op, call in zip(graph.ops, calls)
    ]
    kernels_used = sorted({o.kernel for o in ops if not o.aliased})
    meta = {
        "format": "myoedge-aot/1",
        "name": ident,
        "arena_bytes": layout.arena_bytes,
        "state_bytes": layout.state_bytes,
        "const_bytes": gen.const_bytes,
        "kernels_used": kernels_used,
        "arena_buffers": [
            {"buffer": list(r.key), "bytes": r.size, "first_op": r.first, "last_op": r.last,
             "offset": layout.plan.offsets[r.key]}
            for r in layout.plan.ranges
        ],
        "input": {"index": in_t.index, "shape": list(in_t.shape), "scale": in_t.scale, "zero_point": in_t.zero_point},
        "output": {"index": out_t.index, "shape": list(out_t.shape), "scale": out_t.scale,
                   "zero_point": out_t.zero_point},
        "tensors": {
            str(t): {"shape": list(graph.tensors[t].shape), "type": graph.tensors[t].type_name,
                     "name": graph.tensors[t].name}
            for op in graph.ops for t in op.outputs if t >= 0
        },
        "ops": [asdict(o) for o in ops],
    }
    json_path.write_text(json.dumps(meta, indent=1))
    return AotResult(
        name=ident, c_path=c_path, h_path=h_path, json_path=json_path,
        arena_bytes=layout.arena_bytes, state_bytes=layout.state_bytes, const_bytes=gen.const_bytes,
        kernels_used=kernels_used, ops=ops, input_shape=tuple(in_t.shape), output_shape=tuple(out_t.shape),
    )


@dataclass
class _Layout:
    """Where every non-constant tensor lives after planning."""

    root_of: dict[int, int]
    kind_of_root: dict[int, str]
    offsets: dict[int, int]          # root -> arena or state offset
    scratch_offsets: dict[int, int]  # op index -> arena offset
    arena_bytes: int
    state_bytes: int
    state_fill: list[tuple[int, int, int]]  # (offset, bytes, reset value) per variable tensor
    aliased_ops: set[int]
    plan: ArenaPlan


def _plan_storage(graph: Graph, calls: list[KernelCall]) -> _Layout:
    """Group tensors into buffers (views, in-place ops), then plan the arena."""
    used = sorted({t for op in graph.ops for t in (*op.inputs, *op.outputs) if t >= 0}
                  | set(graph.inputs) | set(graph.outputs))
    uf = _UnionFind()
    kind = {t: _storage_kind(graph, t) for t in used}
    size = {t: graph.tensors[t].nbytes for t in used}
    producer: dict[int, int] = {}
    last_use: dict[int, int] = {}
    for op in graph.ops:
        for t in op.outputs:
            if t >= 0:
                producer.setdefault(t, op.index)
        for t in op.inputs:
            if t >= 0:
                last_use[t] = max(last_use.get(t, -1), op.index)
    root_kind = dict(kind)
    root_size = dict(size)
    aliased: set[int] = set()

    def try_merge(keep: int, other: int) -> bool:
        rk, ro = uf.find(keep), uf.find(other)
        if rk == ro:
            return True
        merged = _merged_kind(root_kind[rk], root_kind[ro])
        if merged is None:
            return False
        if merged in ("input", "output") and root_size[rk] != root_size[ro]:
            return False
        uf.union(rk, ro)
        root_kind[rk] = merged
        root_size[rk] = max(root_size[rk], root_size[ro])
        return True

    from .ops_conv import VIEW_OPS

    for op, call in zip(graph.ops, calls):
        if not op.inputs or not op.outputs or op.inputs[0] < 0 or op.outputs[0] < 0:
            continue
        x, y = op.inputs[0], op.outputs[0]
        if op.opcode in VIEW_OPS:
            if try_merge(x, y):
                aliased.add(op.index)
            continue
        if not call.in_place:
            continue
        rx = uf.find(x)
        if root_kind[rx] != "arena" or kind[y] not in ("arena", "output"):
            continue
        members = uf.members(rx, used)
        if any(last_use.get(m, -1) > op.index for m in members):
            continue
        if size[y] > root_size[rx] or (kind[y] == "output" and size[y] != root_size[rx]):
            continue
        try_merge(x, y)

    roots: dict[int, list[int]] = {}
    for t in used:
        roots.setdefault(uf.find(t), []).append(t)
    ranges: list[LiveRange] = []
    state_offsets: dict[int, int] = {}
    state_fill: list[tuple[int, int, int]] = []
    state_bytes = 0
    for root, members in roots.items():
        k = root_kind[root]
        if k == "state":
            state_offsets[root] = state_bytes
            tensor = graph.tensors[root]
            # TFLM resets int8 variable tensors to their zero point, others to 0.
            fill = tensor.zero_point if tensor.type_name == "INT8" and tensor.zero_points.size == 1 else 0
            state_fill.append((state_bytes, root_size[root], fill))
            state_bytes += (root_size[root] + 3) // 4 * 4
        if k != "arena":
            continue
        starts = [producer[m] for m in members if m in producer]
        if not starts:
            raise UnsupportedOpError(
                f"tensor {members[0]} ({graph.tensors[members[0]].name!r}) is read but never written"
            )
        first = min(starts)
        last = max([last_use.get(m, -1) for m in members] + starts)
        ranges.append(LiveRange(key=("t", root), size=root_size[root], first=first, last=last))
    for op, call in zip(graph.ops, calls):
        if call.scratch_bytes > 0:
            ranges.append(LiveRange(key=("s", op.index), size=call.scratch_bytes, first=op.index, last=op.index))
    # Ops whose output may start inside their dying input (pooling, conv, LSTM): see overlap.py.
    plan = plan_arena(ranges, alignment=ARENA_ALIGNMENT, overlaps=overlap_rules(graph, uf.find, ranges))
    plan.check()
    offsets = {key[1]: off for key, off in plan.offsets.items() if key[0] == "t"}
    offsets.update(state_offsets)
    return _Layout(
        root_of={t: uf.find(t) for t in used},
        kind_of_root=root_kind,
        offsets=offsets,
        scratch_offsets={key[1]: off for key, off in plan.offsets.items() if key[0] == "s"},
        arena_bytes=plan.arena_bytes,
        state_bytes=state_bytes,
        state_fill=state_fill,
        aliased_ops=aliased,
        plan=plan,
    )


def _pointer(graph: Graph, gen: _Generator, layout: _Layout, t: int) -> str:
    """C expression for the data pointer of tensor ``t``."""
    tensor = graph.tensors[t]
    ctype = _ctype(tensor)
    root = layout.root_of[t]
    kind = layout.kind_of_root[root]
    if kind == "const":
        source = root if graph.tensors[root].data is not None else t
        return f"((const {ctype} *){gen.tensor_const(source)})"
    if kind == "input":
        return f"(({ctype} *)input)"
    if kind == "output":
        return f"(({ctype} *)output)"
    if kind == "state":
        return f"(({ctype} *)(state + {layout.offsets[root]}))"
    return f"(({ctype} *)(arena + {layout.offsets[root]}))"


def _op_blocks(graph: Graph, gen: _Generator, layout: _Layout, calls: list[KernelCall]) -> list[str]:
    """The C block of every op, placeholders resolved, with its debug trace lines."""
    blocks = []
    for op, call in zip(graph.ops, calls):

        def resolve(match: re.Match[str]) -> str:
            kind, number = match.group(1), int(match.group(2))
            if kind == "S":
                return f"(arena + {layout.scratch_offsets[number]})"
            return _pointer(graph, gen, layout, number)

        body = "" if op.index in layout.aliased_ops else _TOKEN.sub(resolve, call.code)
        traces = [
            f"    MYE_TRACE({op.index}, {t}, {_pointer(graph, gen, layout, t)}, {graph.tensors[t].nbytes});"
            for t in op.outputs if t >= 0
        ]
        header = f"    /* op {op.index}: {op.opcode} -> {graph.tensors[op.outputs[0]].name if op.outputs else ''} */"
        header = header.replace("*/ */", "*/")
        if body:
            lines = body.splitlines()
            inner = "\n".join(["        " + lines[0].strip()] + ["    " + line if line.strip() else "" for line in lines[1:]])
            block = f"{header}\n    {{\n{inner}\n    }}\n" + "\n".join(traces)
        else:
            block = f"{header}\n    /* view of its input: no code */\n" + "\n".join(traces)
        blocks.append(block)
    return blocks


def _c_file(gen: _Generator, ident: str, upper: str, layout: _Layout, blocks: list[str]) -> str:
    consts = "\n".join(gen.const_decls)
    arena_len = max(layout.arena_bytes, 1)
    ops = "\n\n".join(blocks)
    if layout.state_bytes > 0:
        state_decl = (f"static int8_t state[{layout.state_bytes}] MYE_ALIGN(16);\n"
                      "static int state_ready = 0; /* set by the first reset */")
        reset_body = "    int32_t i;\n"
        for offset, nbytes, fill in layout.state_fill:
            reset_body += (f"    for (i = 0; i < {nbytes}; ++i) {{\n"
                           f"        state[{offset} + i] = (int8_t){fill};\n    }}\n")
        reset_body += "    state_ready = 1;\n"
        first_reset = "    if (!state_ready) {\n        mye_%s_reset();\n    }\n" % ident
    else:
        state_decl = "/* no variable tensors: no state */"
        reset_body = "    /* nothing to reset */\n"
        first_reset = ""
    return f"""/* Generated by myoedge.quantize.aot from a .tflite model: do not edit. */
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include "mye_kernels.h"
#include "{ident}_aot.h"

#if defined(__GNUC__)
#define MYE_ALIGN(n) __attribute__((aligned(n)))
#else
#define MYE_ALIGN(n)
#endif

/* ---- constants: weights, biases, requantisation multipliers and shifts ---- */
{consts}

/* ---- activation arena ({layout.arena_bytes} bytes, planned offline) and variable state ---- */
static int8_t arena[{arena_len}] MYE_ALIGN(16);
{state_decl}

#if defined(MYE_AOT_DEBUG)
static void (*mye_{ident}_hook)(int op_index, int tensor_index, const int8_t *data, int bytes) = NULL;

void mye_{ident}_set_tensor_hook(void (*hook)(int op_index, int tensor_index, const int8_t *data, int bytes))
{{
    mye_{ident}_hook = hook;
}}
#define MYE_TRACE(op, t, ptr, n) \\
    do {{ if (mye_{ident}_hook != NULL) {{ mye_{ident}_hook((op), (t), (const int8_t *)(ptr), (n)); }} }} while (0)
#else
#define MYE_TRACE(op, t, ptr, n) do {{ }} while (0)
#endif

void mye_{ident}_reset(void)
{{
{reset_body}}}

int mye_{ident}_invoke(const int8_t *input, int8_t *output)
{{
    if (input == NULL || output == NULL) {{
        return 1;
    }}
    (void)arena;
{first_reset}
{ops}

    return 0;
}}
"""


def _h_file(ident: str, upper: str, layout: _Layout, in_t: TensorInfo, out_t: TensorInfo) -> str:
    return f"""/* Generated by myoedge.quantize.aot: do not edit. */
#ifndef MYE_{upper}_AOT_H
#define MYE_{upper}_AOT_H

#include <stdint.h>

#define MYE_{upper}_ARENA_BYTES {layout.arena_bytes}
#define MYE_{upper}_STATE_BYTES {layout.state_bytes}
#define MYE_{upper}_INPUT_SIZE {in_t.num_elements}
#define MYE_{upper}_OUTPUT_SIZE {out_t.num_elements}
#define MYE_{upper}_INPUT_SCALE {float(np.float32(in_t.scale))!r}f
#define MYE_{upper}_INPUT_ZERO_POINT {in_t.zero_point}
#define MYE_{upper}_OUTPUT_SCALE {float(np.float32(out_t.scale))!r}f
#define MYE_{upper}_OUTPUT_ZERO_POINT {out_t.zero_point}

#ifdef __cplusplus
extern "C" {{
#endif

/* Run the model on MYE_{upper}_INPUT_SIZE int8 values; writes MYE_{upper}_OUTPUT_SIZE. 0 = ok. */
int mye_{ident}_invoke(const int8_t *input, int8_t *output);

/* Reset the variable tensors (recurrent state) to their zero points, like TFLM's
   MicroInterpreter::Reset; the first invoke does it by itself. */
void mye_{ident}_reset(void);

#if defined(MYE_AOT_DEBUG)
/* Called after every op with each output tensor's bytes. */
void mye_{ident}_set_tensor_hook(void (*hook)(int op_index, int tensor_index, const int8_t *data, int bytes));
#endif

#ifdef __cplusplus
}}
#endif

#endif /* MYE_{upper}_AOT_H */
"""
