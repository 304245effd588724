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

    interpreter = runtime.Interpreter.from_bytes(model_bytes)
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
