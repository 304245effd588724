"""Run an int8 model in the TensorFlow Lite Micro Python interpreter.

The TFLM Python runtime (``tflite_micro`` package) computes exactly what a TFLM
build on a board computes, so it is the bit-exact oracle for the ahead-of-time
C engine and the hardware-in-the-loop bench.  This module wraps it with the
few things the pipeline needs: int8 in / int8 out for one window or a batch,
quantise/dequantise helpers from the model's own input/output parameters, the
C-level error text when TFLM refuses a model, and the smallest tensor arena
that works.

Arena probing runs every trial in a child process: TFLM can crash (segfault)
instead of failing cleanly when the arena is too small.  Run this module as
``python -m myoedge.quantize.tflm_reference probe MODEL.tflite ARENA_BYTES``
to do one trial by hand (exit status 0: the arena works).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .tflite_graph import load_graph

__all__ = [
    "TflmError",
    "TflmReference",
    "ArenaProbe",
    "probe_arena_bytes",
    "probe_arena",
    "recorded_arena_bytes",
    "ARENA_ALIGNMENT",
]

# TFLM aligns arena allocations to 16 bytes; probed sizes are multiples of this.
ARENA_ALIGNMENT = 16
_MIN_DEFAULT_ARENA = 1 << 20
_MAX_PROBE_ARENA = 256 << 20
_TOTAL_PATTERN = re.compile(r"Arena allocation total (\d+) bytes")


class TflmError(RuntimeError):
    """TFLM refused the model or failed to run it; the message carries TFLM's own text."""


@contextlib.contextmanager
def _captured_c_stderr() -> Iterator[list[str]]:
    """Redirect file descriptor 2 (where TFLM's C++ code prints) into a list of text.

    The list is filled when the block exits, also when it raises.
    """
    captured: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", errors="replace"))


def recorded_arena_bytes(allocations_text: str) -> int | None:
    """The 'Arena allocation total' from ``print_allocations()`` output, or None."""
    match = _TOTAL_PATTERN.search(allocations_text)
    return int(match.group(1)) if match else None


class TflmReference:
    """One TFLM interpreter for one model, int8 in and int8 out.

    ``arena_bytes=None`` uses a generous arena (10x the model, at least 1 MiB).
    ``preserve_all_tensors=True`` keeps every intermediate tensor readable with
    ``tensor(index)`` after ``invoke`` (for per-op parity debugging); TFLM then
    does not share activation memory, so do not use it to measure the arena.
    Models with variable tensors (the LSTM cell state) are reset before every
    invoke, so each window is scored from a zero state, as the Keras model does.
    """

    def __init__(
        self,
        model_bytes: bytes,
        arena_bytes: int | None = None,
        preserve_all_tensors: bool = False,
    ):
        from tflite_micro.python.tflite_micro import runtime

        self.model_bytes = bytes(model_bytes)
        self.graph = load_graph(self.model_bytes)
        if len(self.graph.inputs) != 1 or len(self.graph.outputs) != 1:
            raise TflmError(
                f"model has {len(self.graph.inputs)} inputs and {len(self.graph.outputs)} "
                "outputs; the reference supports exactly one of each"
            )
        if arena_bytes is None:
            arena_bytes = max(10 * len(self.model_bytes), _MIN_DEFAULT_ARENA)
        self.arena_bytes = int(arena_bytes)
        config = (
            runtime.InterpreterConfig.kPreserveAllTensors
            if preserve_all_tensors
            else runtime.InterpreterConfig.kAllocationRecording
        )
        with _captured_c_stderr() as messages:
            try:
                self._interpreter = runtime.Interpreter.from_bytes(
                    self.model_bytes, arena_size=self.arena_bytes, intrepreter_config=config
                )
                error: Exception | None = None
            except RuntimeError as exc:
                error = exc
        if error is not None:
            raise TflmError(
                f"TFLM cannot load the model with a {self.arena_bytes}-byte arena: {error}\n"
                f"{messages[0].strip()}"
            ) from error

        input_tensor = self.graph.input_tensors[0]
        output_tensor = self.graph.output_tensors[0]
        for role, tensor in (("input", input_tensor), ("output", output_tensor)):
            if tensor.type_name != "INT8" or tensor.scales.size != 1:
                raise TflmError(
                    f"model {role} {tensor.name!r} is {tensor.type_name} with "
                    f"{tensor.scales.size} scale(s); expected per-tensor int8"
                )
        self.input_shape: tuple[int, ...] = input_tensor.shape
        self.output_shape: tuple[int, ...] = output_tensor.shape
        self.input_scale: float = input_tensor.scale
        self.input_zero_point: int = input_tensor.zero_point
        self.output_scale: float = output_tensor.scale
        self.output_zero_point: int = output_tensor.zero_point
        self._stateful = any(t.is_variable for t in self.graph.tensors)

    @property
    def n_outputs(self) -> int:
        """Number of output values per inference (classes for a classifier)."""
        return int(np.prod(self.output_shape[1:], dtype=np.int64))

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Float input -> int8 with the model's input scale and zero point (round half to even, saturate)."""
        q = np.round(np.asarray(x, dtype=np.float64) / self.input_scale) + self.input_zero_point
        return np.clip(q, -128, 127).astype(np.int8)

    def dequantize_input(self, q: np.ndarray) -> np.ndarray:
        """int8 input -> float."""
        return ((np.asarray(q, dtype=np.float64) - self.input_zero_point) * self.input_scale).astype(np.float32)

    def dequantize_output(self, q: np.ndarray) -> np.ndarray:
        """int8 scores -> float with the model's output scale and zero point."""
        return ((np.asarray(q, dtype=np.float64) - self.output_zero_point) * self.output_scale).astype(np.float32)

    def quantize_output(self, y: np.ndarray) -> np.ndarray:
        """Float scores -> int8 in the output's quantisation (for comparisons)."""
        q = np.round(np.asarray(y, dtype=np.float64) / self.output_scale) + self.output_zero_point
        return np.clip(q, -128, 127).astype(np.int8)

    def invoke(self, x_int8: np.ndarray) -> np.ndarray:
        """Score one window: ``x_int8`` of the input shape with or without the batch
        dimension of 1; returns the int8 output without the batch dimension."""
        x = np.asarray(x_int8)
        if x.dtype != np.int8:
            raise TflmError(f"input must be int8, got {x.dtype} (use quantize_input first)")
        if x.shape == self.input_shape[1:]:
            x = x[np.newaxis, ...]
        if x.shape != self.input_shape:
            raise TflmError(f"input shape {x.shape} does not match the model's {self.input_shape}")
        if self._stateful:
            self._interpreter.reset()
        self._interpreter.set_input(np.ascontiguousarray(x), 0)
        self._interpreter.invoke()
        return np.array(self._interpreter.get_output(0), dtype=np.int8).reshape(self.output_shape[1:])

    def run_batch(self, x_int8: np.ndarray, progress: bool = False) -> np.ndarray:
        """Score ``n`` windows one by one; returns ``(n, *output_shape[1:])`` int8."""
        x = np.asarray(x_int8)
        if x.ndim != len(self.input_shape) or x.shape[1:] != self.input_shape[1:]:
            raise TflmError(
                f"batch shape {x.shape} does not match (n, {', '.join(map(str, self.input_shape[1:]))})"
            )
        out = np.empty((len(x), *self.output_shape[1:]), dtype=np.int8)
        indices: range | Iterator[int] = range(len(x))
        if progress:
            from tqdm import tqdm

            indices = tqdm(indices, desc="TFLM int8", unit="window", leave=False)
        for i in indices:
            out[i] = self.invoke(x[i])
        return out

    def tensor(self, index: int) -> np.ndarray:
        """Tensor ``index`` of subgraph 0 after the last invoke, with its graph shape.

        Needs ``preserve_all_tensors=True``; otherwise TFLM may have reused the
        tensor's memory for a later op.
        """
        if not 0 <= index < len(self.graph.tensors):
            raise TflmError(f"tensor index {index} out of range 0..{len(self.graph.tensors) - 1}")
        found = self._interpreter.GetTensor(index, 0)
        if isinstance(found, (list, tuple)):  # the runtime wraps the details in a list
            found = found[0] if found else None
        if not isinstance(found, dict) or "tensor_data" not in found:
            raise TflmError(f"TFLM returned no data for tensor {index}")
        return np.array(found["tensor_data"]).reshape(self.graph.tensors[index].shape)

    def allocations_text(self) -> str:
        """TFLM's recording-allocator report (call after one invoke)."""
        with _captured_c_stderr() as messages:
            self._interpreter.print_allocations()
        return messages[0]


def _try_arena(model_path: Path, arena_bytes: int, timeout_s: float) -> tuple[bool, str]:
    """Load and invoke the model with one arena size in a child process.

    Returns (worked, child's stderr).  A crash or a hang counts as not working.
    """
    command = [sys.executable, "-m", "myoedge.quantize.tflm_reference", "probe", str(model_path), str(arena_bytes)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return False, f"probe with {arena_bytes} bytes timed out after {timeout_s} s"
    return done.returncode == 0, done.stderr


@dataclass(frozen=True)
class ArenaProbe:
    """Result of an arena probe: the smallest working size (a multiple of 16),
    TFLM's recorded total, how many child runs it took and how long."""

    arena_bytes: int
    recorded_bytes: int | None
    trials: int
    seconds: float


def _aligned_up(n: int) -> int:
    """Round ``n`` up to the arena alignment."""
    return -(-n // ARENA_ALIGNMENT) * ARENA_ALIGNMENT


def probe_arena(model_bytes: bytes, timeout_s: float = 60.0) -> ArenaProbe:
    """Find the smallest arena (multiple of 16 bytes) that loads and runs the model.

    1. Run once with a generous arena (doubling until it works) and read the
       recording allocator's total.
    2. Starting from that total, step up until a size works (the smallest
       working arena can exceed the recorded total).
    3. Step down in doubling steps until a size fails, then bisect between the
       failing and the working size.
    Every trial is a separate child process.
    """
    start = time.perf_counter()
    trials = 0
    with tempfile.TemporaryDirectory(prefix="myoedge-arena-") as tmp:
        model_path = Path(tmp) / "model.tflite"
        model_path.write_bytes(bytes(model_bytes))
        cache: dict[int, bool] = {}

        def works(size: int) -> bool:
            nonlocal trials
            if size not in cache:
                trials += 1
                cache[size] = _try_arena(model_path, size, timeout_s)[0]
            return cache[size]

        generous = _aligned_up(max(10 * len(model_bytes), _MIN_DEFAULT_ARENA))
        while True:
            trials += 1
            ok, text = _try_arena(model_path, generous, timeout_s)
            if ok:
                cache[generous] = True
                break
            if generous >= _MAX_PROBE_ARENA:
                raise TflmError(
                    f"TFLM cannot run the model even with a {generous}-byte arena:\n{text.strip()}"
                )
            generous *= 2
        recorded = recorded_arena_bytes(text)

        high = generous
        if recorded is not None:
            candidate = _aligned_up(recorded)
            step = ARENA_ALIGNMENT
            while candidate < high:
                if works(candidate):
                    high = candidate
                    break
                candidate = _aligned_up(candidate + step)
                step *= 2
        # Find a failing size below `high`.
        step = ARENA_ALIGNMENT
        low = max(high - step, 0)
        while low > 0 and works(low):
            high = low
            step *= 2
            low = max(high - step, 0)
        # Invariant: `low` fails (or is 0), `high` works. Bisect on the 16-byte grid.
        while high - low > ARENA_ALIGNMENT:
            middle = _aligned_up((low + high) // 2)
            if middle >= high:
                break
            if works(middle):
                high = middle
            else:
                low = middle
    return ArenaProbe(
        arena_bytes=high,
        recorded_bytes=recorded,
        trials=trials,
        seconds=time.perf_counter() - start,
    )


def probe_arena_bytes(model_bytes: bytes) -> int:
    """The smallest TFLM arena (bytes, multiple of 16) that loads and runs the model."""
    return probe_arena(model_bytes).arena_bytes


def _probe_main(model_path: str, arena_bytes: str) -> int:
    """Child-process entry: load, invoke once on the zero-point input, print allocations.

    Exit status 0 when it works; TFLM's messages go to stderr.
    """
    from tflite_micro.python.tflite_micro import runtime

    model = Path(model_path).read_bytes()
    graph = load_graph(model)
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=int(arena_bytes))
    for position, index in enumerate(graph.inputs):
        tensor = graph.tensors[index]
        fill = tensor.zero_point if tensor.scales.size == 1 else 0
        interpreter.set_input(np.full(tensor.shape, fill, dtype=tensor.dtype), position)
    interpreter.invoke()
    interpreter.print_allocations()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "probe":
        try:
            sys.exit(_probe_main(sys.argv[2], sys.argv[3]))
        except Exception as exc:  # report and fail: the parent reads stderr
            print(f"probe failed: {exc}", file=sys.stderr)
            sys.exit(1)
    print("usage: python -m myoedge.quantize.tflm_reference probe MODEL.tflite ARENA_BYTES", file=sys.stderr)
    sys.exit(2)
