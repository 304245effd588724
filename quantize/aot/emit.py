"""The emitter interface of the ahead-of-time (AOT) C generator.

Every supported TFLite op has one *emitter*: a Python function that reads the
op (its tensors, options and quantisation parameters) and returns the C
statements that call one kernel of the library in ``firmware/kernels``. The
emitters compute all requantisation multipliers, shifts and lookup tables in
Python and hand them to the C as const arrays, so the generated code does no
floating-point work at run time.

Emitters register themselves by opcode name with :func:`register`; the
generator (``generate.py``) looks them up in :data:`EMITTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    from myoedge.quantize.tflite_graph import Graph

OpInfo = Any
"""One op of the graph (``myoedge.quantize.tflite_graph`` op record): it has
``index``, ``opcode`` (e.g. ``"CONV_2D"``), ``inputs``, ``outputs`` (tensor
indices, -1 for an absent optional input) and ``options`` (dict)."""


@dataclass
class KernelCall:
    """What one emitter produces for one op.

    ``code`` is C statements placed inside the model's invoke function (it may
    open with a ``static const`` parameter struct before the call); ``kernel``
    names the kernel family it calls (used for the flash estimate and the
    report); ``in_place`` says the output may share the arena slot of input 0;
    ``scratch_bytes`` is the arena scratch the call needs while it runs.
    """

    code: str
    kernel: str
    in_place: bool = False
    scratch_bytes: int = 0


class EmitContext(Protocol):
    """What an emitter may ask of the generator while it emits one op."""

    graph: "Graph"

    def tensor(self, index: int) -> str:
        """C expression: pointer to a tensor's data (arena slot or const array)."""
        ...

    def const_array(self, hint: str, values: np.ndarray, ctype: str) -> str:
        """Emit a const array of ``values`` typed ``ctype``; return its C name."""
        ...

    def scratch(self) -> str:
        """C expression: pointer (``int8_t *``) to this op's scratch area."""
        ...

    def unique(self, hint: str) -> str:
        """A fresh C identifier built from ``hint``."""
        ...


Emitter = Callable[[OpInfo, EmitContext], KernelCall]

EMITTERS: dict[str, Emitter] = {}
"""Opcode name -> emitter. Filled by the ``ops_*`` modules at import time."""


def register(*opcodes: str) -> Callable[[Emitter], Emitter]:
    """Decorator: register ``fn`` as the emitter for each of ``opcodes``."""

    def wrap(fn: Emitter) -> Emitter:
        for name in opcodes:
            if name in EMITTERS and EMITTERS[name] is not fn:
                raise ValueError(f"two emitters registered for op {name}")
            EMITTERS[name] = fn
        return fn

    return wrap


class UnsupportedOpError(ValueError):
    """An op (or an op's configuration) the AOT engine cannot generate C for.

    The message names the op, its index in the graph and why.
    """


def c_int_list(values: np.ndarray | list[int]) -> str:
    """Format integers as a C initialiser body, e.g. ``"1, -2, 3"``."""
    return ", ".join(str(int(v)) for v in np.asarray(values).reshape(-1))


# Helpers every op family's emitter uses.


def fail(ctx: EmitContext, op: OpInfo, why: str) -> UnsupportedOpError:
    """An UnsupportedOpError naming the op (index, opcode, output) and the reason."""
    return UnsupportedOpError(f"{ctx.graph.op_label(op)}: {why}")


def c_value(value: object) -> str:
    """A C initialiser for an int, a nested dict (struct) or a list (array)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f".{k} = {c_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(c_value(v) for v in value) + "}"
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def c_struct(ctype: str, name: str, fields: dict[str, object]) -> str:
    """A ``static const`` parameter struct with designated initialisers."""
    body = ",\n        ".join(f".{k} = {c_value(v)}" for k, v in fields.items())
    return f"static const {ctype} {name} = {{\n        {body}\n    }};"
