"""Debug mode: find the first op where the AOT C and TFLM disagree.

The TFLM Python interpreter, created with ``kPreserveAllTensors``, keeps
every intermediate tensor readable after ``invoke`` (``GetTensor``); the host
build of the generated C reports every op output through its debug hook
(``AotModel.trace``). Walking the ops in execution order and comparing each
output names the op that introduces a difference, instead of only seeing
that the final output is off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoedge.quantize.tflite_graph import load_graph

from .host_build import AotModel


@dataclass
class TensorMismatch:
    """The first differing op output."""

    op_index: int
    opcode: str
    tensor_index: int
    tensor_name: str
    mismatches: int
    elements: int
    first_position: tuple[int, ...]
    aot_value: float
    tflm_value: float

    def describe(self) -> str:
        return (
            f"op #{self.op_index} {self.opcode} diverges first: output tensor {self.tensor_index} "
            f"({self.tensor_name!r}) differs in {self.mismatches} of {self.elements} elements; "
            f"first at {self.first_position}: aot={self.aot_value:g} tflm={self.tflm_value:g}"
        )


def tflm_intermediates(model_bytes: bytes, x: np.ndarray, tensor_indices: list[int]) -> dict[int, np.ndarray]:
    """Run TFLM once on ``x`` and return the listed tensors' values after ``invoke``."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(
        model_bytes, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors
    )
    details = interpreter.get_input_details(0)
    interpreter.set_input(np.asarray(x, dtype=details["dtype"]).reshape(details["shape"]), 0)
    interpreter.invoke()
    values = {}
    for t in tensor_indices:
        values[t] = np.asarray(interpreter.GetTensor(t, 0)["tensor_data"])
    return values


def find_divergence(model_bytes: bytes, x: np.ndarray, model: AotModel | None = None) -> TensorMismatch | None:
    """The first op output (in execution order) where AOT and TFLM differ, or None."""
    graph = load_graph(model_bytes)
    model = model or AotModel(model_bytes, name="debug")
    outputs = [t for op in graph.ops for t in op.outputs if t >= 0]
    # Op indices and opcodes are those of the .tflite (a fused chain is named by its last op).
    ours = model.trace(x)
    theirs = tflm_intermediates(model_bytes, x, outputs)
    for op in graph.ops:
        for t in op.outputs:
            if t < 0 or t not in ours:  # tensors fused away (LUT chains) are not traced
                continue
            a = np.asarray(ours[t]).reshape(-1)
            b = np.asarray(theirs[t]).reshape(-1)
            if a.shape != b.shape:
                return TensorMismatch(op.index, op.opcode, t, graph.tensors[t].name, a.size, b.size,
                                      (), float("nan"), float("nan"))
            diff = np.flatnonzero(a != b)
            if diff.size:
                first = int(diff[0])
                shape = graph.tensors[t].shape or (1,)
                return TensorMismatch(
                    op_index=op.index, opcode=op.opcode, tensor_index=t, tensor_name=graph.tensors[t].name,
                    mismatches=int(diff.size), elements=int(a.size),
                    first_position=tuple(int(v) for v in np.unravel_index(first, shape)),
                    aot_value=float(a[first]), tflm_value=float(b[first]),
                )
    return None


def first_divergence(model_bytes: bytes, x: np.ndarray, model: AotModel | None = None) -> str | None:
    """A sentence naming the first op whose output differs from TFLM's on ``x``, or None."""
    found = find_divergence(model_bytes, x, model)
    return None if found is None else found.describe()
