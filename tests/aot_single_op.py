"""Test harness for single-op parity of the AOT kernels against TFLite Micro.

Builds small int8 models (many independent copies of one op per model, each
with its own random shapes and ranges, so one conversion yields many cases),
emits C for every op through the registered emitters, compiles all models of
a test module into one shared library with the host gcc, and compares each
output tensor with the TFLM Python interpreter element for element.

This is the direct path used by the element-wise / reduce / activation /
LSTM tests; it needs only the emitters and the kernel sources, not the full
generator.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
KERNELS = REPO / "firmware" / "kernels"
CACHE = Path(tempfile.gettempdir()) / "myoedge-aot-b-harness"

C_TYPES = {"INT8": "int8_t", "INT16": "int16_t", "INT32": "int32_t", "FLOAT32": "float", "INT64": "int64_t"}


def convert_int8(module, concrete_fn, representative: Callable) -> bytes:
    """Full-integer int8 conversion of a concrete function (int8 inputs and outputs)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete_fn], module)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


class HarnessContext:
    """EmitContext for the harness: one static buffer per tensor, const arrays for weights."""

    def __init__(self, graph, prefix: str) -> None:
        self.graph = graph
        self.prefix = prefix
        self.decls: list[str] = []
        self.buffers: dict[int, str] = {}
        self.scratch_bytes = 0
        self._names: set[str] = set()

    def unique(self, hint: str) -> str:
        base = f"{self.prefix}_{hint}"
        name = base
        k = 0
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def const_array(self, hint: str, values: np.ndarray, ctype: str) -> str:
        name = self.unique(hint)
        flat = np.asarray(values).reshape(-1)
        body = ", ".join(str(int(v)) if ctype != "float" else repr(float(v)) + "f" for v in flat)
        self.decls.append(f"static const {ctype} {name}[{max(1, flat.size)}] = {{{body or '0'}}};")
        return name

    def tensor(self, index: int) -> str:
        if index in self.buffers:
            return self.buffers[index]
        info = self.graph.tensors[index]
        ctype = C_TYPES[info.type_name]
        if info.data is not None:
            name = self.const_array(f"t{index}", info.data, ctype)
            expr = f"({ctype} *){name}"
        else:
            name = self.unique(f"t{index}")
            self.decls.append(f"static {ctype} {name}[{max(1, info.num_elements)}];")
            expr = name
        self.buffers[index] = expr
        return expr

    def scratch(self) -> str:
        return f"(int8_t *){self.prefix}_scratch"


@dataclass
class CaseModel:
    """One converted model and the C entry point generated for it."""

    name: str
    model_bytes: bytes
    graph: object = None
    function: str = ""
    c_source: str = ""
    kernels: set[str] = field(default_factory=set)


def emit_model(case: CaseModel) -> None:
    """Emit C for every op of the model into ``case.c_source`` (entry ``<name>_run``)."""
    from myoedge.quantize.aot.emit import EMITTERS
    from myoedge.quantize.tflite_graph import load_graph

    graph = load_graph(case.model_bytes)
    case.graph = graph
    ctx = HarnessContext(graph, case.name)
    calls = []
    scratch = 0
    for op in graph.ops:
        if op.opcode not in EMITTERS:
            raise AssertionError(f"{case.name}: no emitter for {graph.op_label(op)}")
        call = EMITTERS[op.opcode](op, ctx)
        calls.append(f"    /* {graph.op_label(op)} */\n    {{\n    {call.code}\n    }}")
        scratch = max(scratch, call.scratch_bytes)
        case.kernels.add(call.kernel)
    copies_in = []
    for index in sorted(ctx.buffers):
        info = graph.tensors[index]
        if info.is_variable:  # a fresh TFLM interpreter starts from the reset state
            fill = info.zero_point if info.type_name == "INT8" else 0
            copies_in.append(f"    memset({ctx.tensor(index)}, {fill}, {info.nbytes});")
    for k, index in enumerate(graph.inputs):
        info = graph.tensors[index]
        copies_in.append(f"    memcpy({ctx.tensor(index)}, inputs[{k}], {info.nbytes});")
    copies_out = []
    for k, index in enumerate(graph.outputs):
        info = graph.tensors[index]
        copies_out.append(f"    memcpy(outputs[{k}], {ctx.tensor(index)}, {info.nbytes});")
    scratch_words = max(1, (scratch + 3) // 4)
    case.function = f"{case.name}_run"
    case.c_source = "\n".join(
        [f"static int32_t {case.name}_scratch[{scratch_words}];", *ctx.decls,
         f"int {case.function}(const int8_t *const *inputs, int8_t *const *outputs)", "{",
         *copies_in, *calls, *copies_out, "    return 0;", "}", ""]
    )


def build_library(cases: Sequence[CaseModel], kernel_files: Sequence[str], defines: Sequence[str] = ()) -> ctypes.CDLL:
    """Compile the generated C of all cases plus the kernel sources into one shared library."""
    source = "#include <string.h>\n#include <stdint.h>\n#include \"mye_kernels.h\"\n\n" + "\n".join(
        c.c_source for c in cases
    )
    kernel_paths = [KERNELS / "src" / f for f in kernel_files]
    digest = hashlib.sha256(source.encode())
    for path in kernel_paths + sorted((KERNELS / "include").glob("*.h")):
        digest.update(path.read_bytes())
    digest.update(" ".join(defines).encode())
    key = digest.hexdigest()[:20]
    out_dir = CACHE / key
    lib_path = out_dir / "libcases.so"
    if not lib_path.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "cases.c").write_text(source)
        cmd = ["gcc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-Wno-unused-variable",
               "-shared", "-fPIC", f"-I{KERNELS / 'include'}", *defines,
               str(out_dir / "cases.c"), *map(str, kernel_paths), "-o", str(out_dir / "tmp.so")]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise AssertionError(f"gcc failed:\n{result.stderr[:4000]}")
        os.replace(out_dir / "tmp.so", lib_path)
    return ctypes.CDLL(str(lib_path))


def run_aot(lib: ctypes.CDLL, case: CaseModel, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run one case's generated function on int8 inputs; return its outputs."""
    graph = case.graph
    in_arrays = [np.ascontiguousarray(x, dtype=np.int8) for x in inputs]
    out_arrays = [np.zeros(graph.tensors[i].shape, dtype=np.int8) for i in graph.outputs]
    in_ptrs = (ctypes.c_void_p * len(in_arrays))(*[a.ctypes.data for a in in_arrays])
    out_ptrs = (ctypes.c_void_p * len(out_arrays))(*[a.ctypes.data for a in out_arrays])
    rc = getattr(lib, case.function)(in_ptrs, out_ptrs)
    assert rc == 0
    return out_arrays


def run_tflm(model_bytes: bytes, inputs: Sequence[np.ndarray], n_outputs: int) -> list[np.ndarray]:
    """Run the TFLM Python interpreter (the bit-exact oracle)."""
    from tflite_micro.python.tflite_micro import runtime

    arena = max(10 * len(model_bytes), 512 * 1024)
    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=arena)
    for k, x in enumerate(inputs):
        interpreter.set_input(np.ascontiguousarray(x, dtype=np.int8), k)
    interpreter.invoke()
    outputs = []
    for k in range(n_outputs):
        outputs.append(np.array(interpreter.get_output(k)))
    return outputs


def random_inputs(graph, rng: np.random.Generator) -> list[np.ndarray]:
    """Uniform random int8 values for every graph input."""
    return [rng.integers(-128, 128, size=graph.tensors[i].shape, dtype=np.int64).astype(np.int8) for i in graph.inputs]


def describe_op(graph, output_index: int) -> str:
    """The op producing ``output_index`` with its tensors' shapes, scales and zero points."""
    op = graph.producer(output_index)
    if op is None:
        return f"tensor {output_index}"
    parts = [graph.op_label(op), f"options={op.options}"]
    for role, indices in (("in", op.inputs), ("out", op.outputs)):
        for i in indices:
            if i < 0:
                continue
            t = graph.tensors[i]
            q = f"scale={t.scales.tolist()[:4]} zp={t.zero_points.tolist()[:4]}" if t.is_quantized else ""
            parts.append(f"{role} t{i} {t.type_name}{list(t.shape)} {q}{' const' if t.data is not None else ''}")
    return "\n  ".join(parts)


def compare_outputs(case: CaseModel, inputs, aot_outputs, tflm_outputs) -> list[str]:
    """Mismatch descriptions (empty when every element is equal)."""
    problems = []
    graph = case.graph
    for k, index in enumerate(graph.outputs):
        got = np.asarray(aot_outputs[k]).reshape(-1)
        want = np.asarray(tflm_outputs[k]).reshape(-1)
        if got.shape != want.shape:
            problems.append(f"{case.name} output {k}: size {got.size} vs TFLM {want.size}")
            continue
        diff = np.nonzero(got != want)[0]
        if diff.size:
            first = int(diff[0])
            problems.append(
                f"{case.name} output {k}: {diff.size}/{got.size} elements differ; first at flat index "
                f"{first}: AOT {int(got[first])} vs TFLM {int(want[first])}\n  {describe_op(graph, index)}"
            )
    return problems


def check_parity(cases: Sequence[CaseModel], lib: ctypes.CDLL, runs: int, seed: int,
                 draw_inputs=random_inputs) -> dict[str, int]:
    """Run every case ``runs`` times on inputs from ``draw_inputs(graph, rng)``.

    Asserts that the generated C equals TFLM on every output element and
    returns how many ops of each opcode were covered.
    """
    rng = np.random.default_rng(seed)
    problems: list[str] = []
    counts: dict[str, int] = {}
    for case in cases:
        for op in case.graph.ops:
            counts[op.opcode] = counts.get(op.opcode, 0) + 1
        for _ in range(runs):
            inputs = draw_inputs(case.graph, rng)
            n_out = len(case.graph.outputs)
            problems += compare_outputs(case, inputs, run_aot(lib, case, inputs),
                                        run_tflm(case.model_bytes, inputs, n_out))
    assert not problems, "\n".join(problems[:10])
    return counts


def convert_multi_input(shapes: Sequence[Sequence[int]], ranges: Sequence[tuple[float, float]],
                        body: Callable, rng: np.random.Generator, samples: int = 32) -> bytes:
    """Convert ``body(inputs) -> outputs`` over float inputs ``x0, x1, ...`` to an int8 model.

    Input k is calibrated with values uniform in ``ranges[k]``, so every input
    (and so every op fed by it) gets its own scale and zero point.
    """
    import tensorflow as tf

    signature = [tf.TensorSpec(list(s), tf.float32, name=f"x{k}") for k, s in enumerate(shapes)]

    class Module(tf.Module):
        @tf.function(input_signature=signature)
        def run(self, *args):
            return body(list(args))

    module = Module()
    cal_rng = np.random.default_rng(int(rng.integers(1 << 30)))

    def representative():
        for _ in range(samples):
            yield {f"x{k}": cal_rng.uniform(*ranges[k], size=list(s)).astype(np.float32) for k, s in enumerate(shapes)}

    return convert_int8(module, module.run.get_concrete_function(), representative)


class ModelWriter:
    """Writes a one-subgraph .tflite with the schema's object API (milliseconds per model).

    Lets a test choose every shape, scale, zero point and weight, which the
    converter would pick itself (and slowly). TFLM runs these like converted
    models, so they are valid oracles.
    """

    def __init__(self) -> None:
        from ai_edge_litert import schema_py_generated as schema

        self.schema = schema
        self.tensors: list = []
        self.buffers: list = [schema.BufferT()]
        self.operators: list = []
        self.opcodes: list[str] = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    def tensor(self, name: str, shape, ttype: int | str, scale: float | None = None, zero_point: int = 0,
               data: np.ndarray | None = None, variable: bool = False) -> int:
        """Add a tensor (a constant when ``data`` is given); returns its index."""
        schema = self.schema
        t = schema.TensorT()
        t.name = name
        t.shape = [int(v) for v in shape]
        t.type = getattr(schema.TensorType, ttype) if isinstance(ttype, str) else ttype
        if scale is not None:
            q = schema.QuantizationParametersT()
            q.scale = [float(scale)]
            q.zeroPoint = [int(zero_point)]
            t.quantization = q
        t.isVariable = variable
        buffer = schema.BufferT()
        if data is not None:
            buffer.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
        self.buffers.append(buffer)
        t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, opcode: str, inputs, outputs, options_table: str | None = None, options=None) -> None:
        """Add an operator; ``options`` is the schema ``<options_table>T`` object (or a dict of its fields)."""
        schema = self.schema
        if opcode not in self.opcodes:
            self.opcodes.append(opcode)
        o = schema.OperatorT()
        o.opcodeIndex = self.opcodes.index(opcode)
        o.inputs = list(inputs)
        o.outputs = list(outputs)
        if options_table is not None:
            if isinstance(options, dict) or options is None:
                table = getattr(schema, f"{options_table}T")()
                for key, value in (options or {}).items():
                    setattr(table, key, value)
                options = table
            o.builtinOptionsType = getattr(schema.BuiltinOptions, options_table)
            o.builtinOptions = options
        self.operators.append(o)

    def finish(self, pad_bytes: int = 0) -> bytes:
        """The .tflite bytes. ``pad_bytes`` adds an unused buffer: the TFLM Python interpreter
        sizes its default arena as 10x the model size, too small for tiny weightless models."""
        import flatbuffers

        schema = self.schema
        if pad_bytes > 0:
            padding = schema.BufferT()
            padding.data = np.zeros(pad_bytes, dtype=np.uint8)
            self.buffers.append(padding)
        codes = []
        for name in self.opcodes:
            code = schema.OperatorCodeT()
            value = getattr(schema.BuiltinOperator, name)
            code.builtinCode = value
            code.deprecatedBuiltinCode = min(value, 127)
            code.version = 1
            codes.append(code)
        sub = schema.SubGraphT()
        sub.tensors = self.tensors
        sub.inputs = self.inputs
        sub.outputs = self.outputs
        sub.operators = self.operators
        model = schema.ModelT()
        model.version = 3
        model.operatorCodes = codes
        model.subgraphs = [sub]
        model.buffers = self.buffers
        model.description = "myoedge kernel parity case"
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


# ---- random single-input chains of element-wise / activation / reduction ops ----------------

CALIBRATION_SAMPLES = 64


@dataclass
class ChainTensor:
    """A tensor of a chain model and float "calibration" samples of its values."""

    index: int
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    samples: np.ndarray  # [CALIBRATION_SAMPLES, *shape] (constants: [1, *shape])
    producer: str = "INPUT"

    def dequantized(self) -> np.ndarray:
        """The samples as the int8 tensor represents them (rounded and saturated)."""
        q = np.clip(np.round(self.samples / self.scale) + self.zero_point, -128, 127)
        return (q - self.zero_point) * self.scale


def quantization_for(values: np.ndarray, rng: np.random.Generator) -> tuple[float, int]:
    """(scale, zero point) covering the values' range (widened to hold 0), give or take 20 %."""
    low, high = min(float(np.min(values)), 0.0), max(float(np.max(values)), 0.0)
    span = max(high - low, 1e-4)
    scale = span / 255.0 * float(rng.uniform(0.85, 1.2))
    zero_point = int(np.clip(round(-128 - low / scale), -128, 127))
    return scale, zero_point


FIXED_OUTPUT = {"LOGISTIC": (1 / 256, -128), "SOFTMAX": (1 / 256, -128), "TANH": (1 / 128, 0)}
OPTIONS_TABLE = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions",
                 "SOFTMAX": "SoftmaxOptions", "MEAN": "ReducerOptions", "SUM": "ReducerOptions"}


def _float_op(opcode: str, a: np.ndarray, b: np.ndarray | None, beta: float = 1.0) -> np.ndarray:
    """What the op computes in float (for choosing output scales like calibration would)."""
    if opcode == "ADD":
        return a + b
    if opcode == "SUB":
        return a - b
    if opcode == "MUL":
        return a * b
    if opcode == "DIV":
        return a / b
    if opcode == "HARD_SWISH":
        return a * np.clip(a + 3, 0, 6) / 6
    if opcode == "RSQRT":
        return 1 / np.sqrt(np.maximum(a, 1e-3))
    raise ValueError(opcode)


class RandomOpBuilder:
    """Adds random int8 ops to a ModelWriter, choosing output quantisation like calibration.

    Float samples are pushed through every op and each output scale / zero
    point is chosen from them, so the int8 values stay informative. Binary
    ops take a constant (broadcast or full) or another tensor of ``pool`` as
    second operand. RSQRT is fed by a LOGISTIC (never below its zero point),
    DIV by positive constants (never 0).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.w = ModelWriter()
        self.count = 0

    def _name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}{self.count}"

    def _tensor(self, values: np.ndarray, producer: str, fixed=None) -> ChainTensor:
        sc, zp = fixed if fixed is not None else quantization_for(values, self.rng)
        shp = tuple(values.shape[1:])
        index = self.w.tensor(self._name(producer.lower()), shp, "INT8", sc, zp)
        return ChainTensor(index, shp, sc, zp, values, producer)

    def input(self, shape: tuple[int, ...]) -> ChainTensor:
        """A new graph input with a random range."""
        rng = self.rng
        half = float(10 ** rng.uniform(-1, 1))
        samples = rng.uniform(-half * rng.uniform(0.2, 1), half, size=(CALIBRATION_SAMPLES, *shape))
        x = self._tensor(samples, "INPUT")
        self.w.inputs.append(x.index)
        return x

    def output(self, t: ChainTensor) -> None:
        self.w.outputs.append(t.index)

    def finish(self) -> bytes:
        return self.w.finish(pad_bytes=32 * 1024)

    def _constant(self, shp, low: float, high: float) -> ChainTensor:
        rng = self.rng
        values = rng.uniform(low, high, size=shp)
        sc, zp = quantization_for(values, rng)
        q = np.clip(np.round(values / sc) + zp, -128, 127)
        if low > 0:  # a divisor: keep every quantised value above its zero point
            q = np.maximum(q, zp + 1)
        index = self.w.tensor(self._name("const"), shp, "INT8", sc, zp, data=q.astype(np.int8))
        return ChainTensor(index, tuple(shp), sc, zp, ((q - zp) * sc)[None, ...], "CONST")

    def step(self, opcode: str, cur: ChainTensor, pool: Sequence[ChainTensor]) -> list[ChainTensor]:
        """Apply ``opcode`` to ``cur``; returns the new tensors (the last one is the result)."""
        rng, w = self.rng, self.w
        a = cur.dequantized()
        made: list[ChainTensor] = []
        if opcode in ("ADD", "SUB", "MUL", "DIV"):
            if opcode == "DIV":
                other = self._constant(_broadcast_shape(cur.shape, rng), float(rng.uniform(0.5, 1.5)),
                                       float(rng.uniform(2, 6)))
            else:
                # x - x would be constant zero: SUB takes a different tensor
                earlier = [t for t in pool if _broadcasts_to(t.shape, cur.shape) and not (opcode == "SUB" and t is cur)]
                if earlier and rng.random() < 0.6:
                    other = earlier[int(rng.integers(len(earlier)))]
                else:
                    c_half = float(10 ** rng.uniform(-1, 0.7))
                    other = self._constant(_broadcast_shape(cur.shape, rng), -c_half * rng.uniform(0.2, 1), c_half)
            swap = opcode != "DIV" and rng.random() < 0.2
            first, second = (other, cur) if swap else (cur, other)
            rank = len(cur.shape)
            values = _float_op(opcode, _aligned(first, rank), _aligned(second, rank))
            relu = rng.random() < 0.2
            if relu:
                values = np.maximum(values, 0)
            out = self._tensor(np.broadcast_to(values, (CALIBRATION_SAMPLES, *cur.shape)), opcode)
            w.op(opcode, [first.index, second.index], [out.index], OPTIONS_TABLE[opcode],
                 {"fusedActivationFunction": 1 if relu else 0})
        elif opcode in ("LOGISTIC", "TANH", "SOFTMAX"):
            if opcode == "SOFTMAX":
                beta = float(rng.uniform(0.3, 2.0))
                e = np.exp(beta * (a - a.max(-1, keepdims=True)))
                out = self._tensor(e / e.sum(-1, keepdims=True), opcode, FIXED_OUTPUT[opcode])
                w.op(opcode, [cur.index], [out.index], "SoftmaxOptions", {"beta": beta})
            else:
                values = 1 / (1 + np.exp(-a)) if opcode == "LOGISTIC" else np.tanh(a)
                out = self._tensor(values, opcode, FIXED_OUTPUT[opcode])
                w.op(opcode, [cur.index], [out.index])
        elif opcode == "HARD_SWISH":
            out = self._tensor(_float_op(opcode, a, None), opcode)
            w.op(opcode, [cur.index], [out.index])
        elif opcode == "RSQRT":
            if cur.zero_point != -128 or cur.producer not in ("LOGISTIC", "SOFTMAX"):
                sig = self._tensor(1 / (1 + np.exp(-a)), "LOGISTIC", FIXED_OUTPUT["LOGISTIC"])
                w.op("LOGISTIC", [cur.index], [sig.index])
                made.append(sig)
                cur = sig
            values = _float_op(opcode, cur.dequantized(), None)
            values = np.minimum(values, np.percentile(values, 98))  # 1/sqrt(0) reads as the maximum
            out = self._tensor(values, opcode)
            w.op(opcode, [cur.index], [out.index])
        elif opcode in ("MEAN", "SUM"):
            r = len(cur.shape)
            axes = sorted(int(v) for v in rng.choice(r, size=int(rng.integers(1, r + 1)), replace=False))
            if all(cur.shape[v] == 1 for v in axes):
                axes = [int(np.argmax(cur.shape))]
            axes_c = [v - r if rng.random() < 0.3 else v for v in axes]  # negative axes too
            keep = bool(rng.random() < 0.5) or len(axes) == r  # no scalar (rank-0) outputs
            reduce = np.mean if opcode == "MEAN" else np.sum
            values = reduce(a, axis=tuple(v + 1 for v in axes), keepdims=keep)
            axis_t = w.tensor(self._name("axes"), (len(axes),), "INT32", data=np.array(axes_c, dtype=np.int32))
            out = self._tensor(values, opcode)
            w.op(opcode, [cur.index, axis_t], [out.index], "ReducerOptions", {"keepDims": keep})
        else:
            raise ValueError(f"no random builder for {opcode}")
        made.append(out)
        return made


def _aligned(t: ChainTensor, rank: int) -> np.ndarray:
    """A tensor's dequantised samples with its shape left-padded to ``rank`` (for broadcasting)."""
    values = t.dequantized()
    return values.reshape(values.shape[0], *([1] * (rank - len(t.shape))), *t.shape)


def random_shape(rng: np.random.Generator, max_rank: int = 4) -> tuple[int, ...]:
    """A small random shape (rank 1 gets a longer axis)."""
    rank = int(rng.integers(1, max_rank + 1))
    if rank == 1:
        return (int(rng.integers(4, 40)),)
    return tuple(int(v) for v in rng.integers(2, 7, size=rank))


def random_chain_model(rng: np.random.Generator, opcodes: Sequence[str], length: int,
                       max_reductions: int = 1) -> bytes:
    """One int8 input -> ``length`` random ops drawn from ``opcodes`` -> one int8 output
    (reductions only near the end, so most ops see the full tensor)."""
    builder = RandomOpBuilder(rng)
    cur = builder.input(random_shape(rng))
    chain = [cur]
    reductions = 0
    for k in range(length):
        opcode = str(rng.choice(list(opcodes)))
        if opcode in ("MEAN", "SUM") and (reductions >= max_reductions or k < length - 2):
            others = [o for o in opcodes if o not in ("MEAN", "SUM")] or ["ADD"]
            opcode = str(rng.choice(others))
        reductions += opcode in ("MEAN", "SUM")
        made = builder.step(opcode, cur, chain)
        chain += made
        cur = made[-1]
    builder.output(cur)
    return builder.finish()


def random_op_model(rng: np.random.Generator, opcode: str, count: int) -> bytes:
    """``count`` independent random ``opcode`` ops, each on its own graph input(s)
    (binary ops: a second graph input that broadcasts, the input itself, or a constant)."""
    builder = RandomOpBuilder(rng)
    for _ in range(count):
        x = builder.input(random_shape(rng))
        pool = [x]
        if opcode in ("ADD", "SUB", "MUL") and rng.random() < 0.7:
            pool.append(builder.input(_broadcast_shape(x.shape, rng)))  # step() may swap the operands
        builder.output(builder.step(opcode, x, pool)[-1])
    return builder.finish()


def _broadcasts_to(small: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """True when ``small`` broadcasts to ``shape`` without changing it."""
    if len(small) > len(shape):
        return False
    return all(a in (1, b) for a, b in zip(small[::-1], shape[::-1]))


def _broadcast_shape(shape: tuple[int, ...], rng: np.random.Generator) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape``: full, last axis only, scalar-like, or random ones."""
    kind = rng.random()
    if kind < 0.3:
        return shape
    if kind < 0.55:
        return (shape[-1],)
    if kind < 0.7:
        return (1,)
    return tuple(d if rng.random() < 0.5 else 1 for d in shape)


def check_generated_chains(models: Sequence[bytes], draws: int, seed: int, fuse_lut: bool = False,
                           emulate_dsp: bool = False) -> int:
    """Generate + compile each model with the AOT generator and compare every op output with
    TFLM (debug mode) on random inputs; returns the number of ops checked."""
    from myoedge.quantize.aot.debug import find_divergence
    from myoedge.quantize.aot.host_build import AotModel
    from myoedge.quantize.tflite_graph import load_graph

    rng = np.random.default_rng(seed)
    problems = []
    ops = 0
    for k, model_bytes in enumerate(models):
        graph = load_graph(model_bytes)
        ops += len(graph.ops)
        model = AotModel(model_bytes, name=f"chain{k}", fuse_lut=fuse_lut, emulate_dsp=emulate_dsp)
        for _ in range(draws):
            x = rng.integers(-128, 128, size=model.input_shape).astype(np.int8)
            found = find_divergence(model_bytes, x, model)
            if found is None:
                want = run_tflm(model_bytes, [x], 1)[0]
                got = model.invoke(x)
                if not np.array_equal(got.reshape(-1), want.reshape(-1)):
                    problems.append(f"chain {k}: final output differs from TFLM")
                continue
            problems.append(f"chain {k} ({' -> '.join(op.opcode for op in graph.ops)}):\n  "
                            f"{found.describe()}\n  {describe_op(graph, found.tensor_index)}")
            break
    assert not problems, "\n".join(problems[:6])
    return ops
