"""Activation ranges for the int8 conversion: min/max or percentile, chosen on held-out windows.

Why this module exists: with the converter's own calibration (every tensor's
range is the min/max seen on the calibration samples) the DB5 models lost
0.5-3.6 points of balanced accuracy in int8.  The loss is not one bad layer
(the converter's per-layer debugger shows each op off by about a quarter of
its own step) but resolution: sEMG activations are heavy-tailed (on the edge
model, 99.9 % of the first layer's outputs lie below a quarter of its
maximum), so a min/max range spends most of the 256 int8 levels on a few
outliers and the common, small activations get only a handful of levels.
Clipping each range at a high percentile of the values seen gives the common
values finer steps and costs a saturation of rare outliers.  Near-ties
between the top two classes then resolve as in float more often.

How a range is chosen, per activation tensor:

* ``minmax``: the converter's min/max over the calibration samples (the
  behaviour before this module; with 500 samples it reproduces earlier builds);
* ``percentile`` P: ``[min(0, q(100 - P)), max(0, q(P))]`` of the values the
  float model produces on the calibration samples (``q`` a quantile over all
  elements of the tensor), never wider than min/max.  Tensors whose scale the
  int8 kernels fix (SOFTMAX, LOGISTIC, TANH outputs) and the LSTM's internal
  tensors keep the converter's range;
* squares: a tensor that is an element-wise square (MUL of a tensor with
  itself: the variance in a written-out LayerNorm, s*s in the exportable
  Mish) and the MEAN / SUM / ADD chain fed by it get a lower percentile
  (``square_percentile``, default 98).  A square is heavier-tailed than its
  input: with a min/max range every centred value below about 1/20 of the
  largest squares to int8 zero, the variance of a quiet window collapses,
  and RSQRT saturates.  This was the main int8 error of the attention models
  (measured by comparing every TFLM int8 tensor with the float model's);
* ``auto`` (the default): min/max, each percentile of
  ``CalibrationConfig.percentiles`` (99.9 and 99.99), and each of them with
  squares at ``square_percentile`` (when the graph has squares) are all
  converted, run in the TFLM interpreter on held-out windows (the run's
  validation split, never the test split).  The default candidate (the one
  ``percentile`` builds: 99.9, with squares at 98 when there are squares) is
  kept unless another candidate's int8 balanced accuracy is higher by more
  than ``selection_margin`` (0.5 point); then the best one wins (ties: better
  agreement with the float model, then the earlier candidate).  The margin
  keeps the choice from following validation noise: on DB5 the candidates
  often differ by a few windows.

The graph input is one of the tensors clipped: the board quantises the
preprocessed window with saturation, so an input range below the largest
training value only saturates rare extreme samples.  The float model is still
evaluated on unclipped inputs.

The range edit goes through the converter's calibrate-only mode: the
calibrated float model carries each tensor's min/max in its quantisation
fields, which are rewritten here before the same MLIR quantiser the converter
uses turns it into int8 (``convert.calibrate_float``,
``convert.quantize_calibrated``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from .convert import calibrate_float, calibration_samples, quantize_calibrated

__all__ = [
    "METHODS",
    "CalibrationConfig",
    "CalibrationResult",
    "Candidate",
    "TensorRange",
    "recorded_ranges",
    "fixed_range_tensors",
    "square_tensors",
    "sample_activations",
    "percentile_ranges",
    "with_ranges",
    "calibrate_int8",
]

METHODS = ("auto", "percentile", "minmax")
DEFAULT_SAMPLES = 2000
LEGACY_SAMPLES = 500  # the converter-only default before percentile calibration
DEFAULT_PERCENTILES = (99.9, 99.99)
DEFAULT_SQUARE_PERCENTILE = 98.0
DEFAULT_SELECTION_WINDOWS = 5000
# auto keeps the default candidate unless another beats it by more than this
# (validation balanced accuracy; about 8 windows of one class in DB5's validation split).
DEFAULT_SELECTION_MARGIN = 0.005
# Values kept per tensor for the quantiles (a random subset when a tensor is larger).
VALUES_PER_TENSOR = 200_000
# Outputs of these ops have a scale fixed by the int8 kernels; the quantiser overrides any range.
_FIXED_RANGE_OPS = frozenset({"SOFTMAX", "LOGISTIC", "TANH", "LOG_SOFTMAX"})
# Ops whose every tensor keeps the converter's range (int16 state, internal gate scales).
_KEEP_RANGE_OPS = frozenset({"UNIDIRECTIONAL_SEQUENCE_LSTM", "LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM"})


@dataclass(frozen=True)
class TensorRange:
    """The float range ``[low, high]`` an int8 tensor is quantised over."""

    low: float
    high: float


@dataclass(frozen=True)
class CalibrationConfig:
    """How activation ranges are chosen (see the module docstring).

    ``samples`` None means ``DEFAULT_SAMPLES`` (``LEGACY_SAMPLES`` for
    ``minmax``, so that ``method="minmax"`` reproduces the earlier default).
    ``percentiles``: the candidates of ``auto``; ``percentile`` uses the first.
    ``square_percentile``: the range of squares and their MEAN/SUM/ADD chain
    in the squares candidates of ``auto`` and in ``percentile`` (None: squares
    are treated like every other tensor).
    ``selection_windows``: at most this many held-out windows score ``auto``'s
    candidates.  ``selection_margin``: ``auto`` keeps the default candidate
    (what ``percentile`` builds) unless another one's validation balanced
    accuracy is higher by more than this.
    """

    method: str = "auto"
    samples: int | None = None
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES
    square_percentile: float | None = DEFAULT_SQUARE_PERCENTILE
    selection_windows: int = DEFAULT_SELECTION_WINDOWS
    selection_margin: float = DEFAULT_SELECTION_MARGIN

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"calibration method {self.method!r} is unknown; use one of {', '.join(METHODS)}")
        if self.samples is not None and self.samples < 1:
            raise ValueError(f"calibration samples must be >= 1, got {self.samples}")
        if self.method != "minmax" and not self.percentiles:
            raise ValueError(f"calibration method {self.method!r} needs at least one percentile")
        extra = () if self.square_percentile is None else (self.square_percentile,)
        for p in (*self.percentiles, *extra):
            if not 50.0 < float(p) <= 100.0:
                raise ValueError(f"calibration percentile {p} must lie in (50, 100]")
        if not 0.0 <= self.selection_margin < 1.0:
            raise ValueError(f"selection_margin must lie in [0, 1), got {self.selection_margin}")
        if self.selection_windows < 1:
            raise ValueError(f"selection_windows must be >= 1, got {self.selection_windows}")

    @property
    def n_samples(self) -> int:
        """Calibration samples actually asked for."""
        if self.samples is not None:
            return int(self.samples)
        return LEGACY_SAMPLES if self.method == "minmax" else DEFAULT_SAMPLES


@dataclass(frozen=True)
class Candidate:
    """One calibration tried by ``auto``, scored in TFLM on the held-out windows."""

    name: str
    percentile: float | None
    square_percentile: float | None
    accuracy: float
    balanced_accuracy: float
    float_agreement: float


@dataclass(frozen=True)
class CalibrationResult:
    """The int8 model and how its ranges were chosen (written to ``quant_report.json``)."""

    model_bytes: bytes = field(repr=False)
    method: str
    chosen: str
    percentile: float | None
    square_percentile: float | None
    samples: int
    clipped_tensors: int
    selection_split: str | None = None
    selection_windows: int = 0
    selection_margin: float | None = None
    candidates: tuple[Candidate, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description, without the model bytes."""
        return {
            "method": self.method,
            "chosen": self.chosen,
            "percentile": self.percentile,
            "square_percentile": self.square_percentile,
            "samples": self.samples,
            "clipped_tensors": self.clipped_tensors,
            "selection_split": self.selection_split,
            "selection_windows": self.selection_windows,
            "selection_margin": self.selection_margin,
            "candidates": [asdict(c) for c in self.candidates],
        }


def _model_object(calibrated: bytes) -> Any:
    """The flatbuffer as TF's mutable object tree."""
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))


def _opcode_names(model: Any) -> list[str]:
    """Builtin op name of every operator of subgraph 0, in order."""
    from tensorflow.lite.tools import flatbuffer_utils

    names = [flatbuffer_utils.opcode_to_name(model, i) for i in range(len(model.operatorCodes))]
    return [names[op.opcodeIndex] for op in model.subgraphs[0].operators]


def recorded_ranges(calibrated: bytes) -> dict[int, TensorRange]:
    """Tensor index -> the min/max the calibrator recorded, for every tensor that has one."""
    model = _model_object(calibrated)
    ranges: dict[int, TensorRange] = {}
    for index, tensor in enumerate(model.subgraphs[0].tensors):
        quant = tensor.quantization
        if quant is None or quant.min is None or quant.max is None or len(quant.min) != 1:
            continue
        ranges[index] = TensorRange(float(quant.min[0]), float(quant.max[0]))
    return ranges


def fixed_range_tensors(calibrated: bytes) -> set[int]:
    """Tensors whose range must stay as calibrated: outputs of ops with a fixed output
    scale, every tensor of an LSTM op, and variable tensors."""
    model = _model_object(calibrated)
    subgraph = model.subgraphs[0]
    keep: set[int] = set()
    for name, op in zip(_opcode_names(model), subgraph.operators):
        if name in _FIXED_RANGE_OPS:
            keep.update(int(i) for i in op.outputs)
        if name in _KEEP_RANGE_OPS:
            for group in (op.inputs, op.outputs, op.intermediates):
                if group is not None:
                    keep.update(int(i) for i in group if i >= 0)
    keep.update(i for i, t in enumerate(subgraph.tensors) if t.isVariable)
    return keep


def square_tensors(calibrated: bytes) -> set[int]:
    """Outputs of element-wise squares (MUL of a tensor with itself) and of the
    MEAN / SUM / ADD ops that take such a tensor as their first input, transitively."""
    model = _model_object(calibrated)
    squares: set[int] = set()
    for name, op in zip(_opcode_names(model), model.subgraphs[0].operators):  # ops are in execution order
        inputs = [int(i) for i in op.inputs]
        if name == "MUL" and len(inputs) == 2 and inputs[0] == inputs[1] and inputs[0] >= 0:
            squares.update(int(i) for i in op.outputs)
        elif name in ("MEAN", "SUM", "ADD") and inputs and inputs[0] in squares:
            squares.update(int(i) for i in op.outputs)
    return squares


def sample_activations(
    calibrated: bytes,
    samples: np.ndarray,
    indices: list[int],
    values_per_tensor: int = VALUES_PER_TENSOR,
    seed: int = 0,
) -> dict[int, np.ndarray]:
    """Values the float model gives each tensor in ``indices`` over ``samples``.

    Runs the calibrated (float) model in LiteRT's reference kernels with every
    tensor kept; a tensor larger than ``values_per_tensor / len(samples)`` per
    sample contributes a random subset of its elements from each sample, so
    memory stays bounded on large models.  Tensors LiteRT cannot read are
    left out of the result.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_content=bytes(calibrated),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    rng = np.random.default_rng(seed)
    per_sample = max(1, values_per_tensor // max(1, len(samples)))
    collected: dict[int, list[np.ndarray]] = {i: [] for i in indices}
    for sample in samples:
        interpreter.set_tensor(input_index, np.asarray(sample, dtype=np.float32)[np.newaxis, ...])
        interpreter.invoke()
        for index in list(collected):
            try:
                values = np.asarray(interpreter.get_tensor(index), dtype=np.float32).ravel()
            except ValueError:  # not materialised (e.g. an LSTM intermediate)
                del collected[index]
                continue
            if values.size > per_sample:
                values = values[rng.choice(values.size, per_sample, replace=False)]
            collected[index].append(values)
    return {i: np.concatenate(v) for i, v in collected.items() if v}


def percentile_ranges(
    recorded: dict[int, TensorRange],
    values: dict[int, np.ndarray],
    percentile: float,
) -> dict[int, TensorRange]:
    """Per tensor of ``values``: ``[min(0, q(100 - P)), max(0, q(P))]``, never wider than recorded.

    Zero stays inside every range (an int8 zero point must represent it); a
    tensor that never goes below zero (a ReLU output) keeps a low end of 0.
    """
    ranges: dict[int, TensorRange] = {}
    for index, vals in values.items():
        if index not in recorded or vals.size == 0:
            continue
        old = recorded[index]
        low = min(0.0, float(np.percentile(vals, 100.0 - percentile))) if old.low < 0 else old.low
        high = max(0.0, float(np.percentile(vals, percentile)))
        low, high = max(low, old.low), min(high, old.high)
        if high - low <= 0:
            continue  # a constant-zero tensor: keep the converter's range
        ranges[index] = TensorRange(low, high)
    return ranges


def with_ranges(calibrated: bytes, ranges: dict[int, TensorRange]) -> bytes:
    """A copy of the calibrated model with the given tensors' min/max replaced."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = _model_object(calibrated)
    tensors = model.subgraphs[0].tensors
    for index, rng in ranges.items():
        quant = tensors[index].quantization
        if quant is None or quant.min is None:
            raise ValueError(f"tensor {index} ({tensors[index].name!r}) has no calibrated range to replace")
        quant.min = [float(rng.low)]
        quant.max = [float(rng.high)]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def percentile_model_name(percentile: float, square_percentile: float | None) -> str:
    """Candidate name: ``p99.9``, or ``p99.9+sq98`` with squares at their own percentile."""
    name = f"p{percentile:g}"
    return name if square_percentile is None else f"{name}+sq{square_percentile:g}"


def _score(
    model_bytes: bytes, x: np.ndarray, y: np.ndarray, float_pred: np.ndarray
) -> tuple[float, float, float]:
    """(accuracy, balanced accuracy, agreement with float) of the int8 model in TFLM."""
    from .tflm_reference import TflmReference

    reference = TflmReference(model_bytes)
    scores = reference.run_batch(reference.quantize_input(x)).reshape(len(x), -1)
    pred = scores.argmax(axis=1)
    recalls = [float(np.mean(pred[y == c] == c)) for c in np.unique(y)]
    return float(np.mean(pred == y)), float(np.mean(recalls)), float(np.mean(pred == float_pred))


def _selection_subset(x: np.ndarray, y: np.ndarray, limit: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` windows, a fixed random draw kept in order."""
    if len(x) <= limit:
        return x, y
    picked = np.sort(np.random.default_rng(seed).choice(len(x), size=limit, replace=False))
    return x[picked], y[picked]


def calibrate_int8(
    model: Any,
    train_x: np.ndarray,
    config: CalibrationConfig = CalibrationConfig(),
    select_x: np.ndarray | None = None,
    select_y: np.ndarray | None = None,
    select_split: str = "validation",
    float_predict: Callable[[np.ndarray], np.ndarray] | None = None,
    progress: bool = False,
) -> CalibrationResult:
    """Full-integer int8 model of ``model`` with ranges chosen as ``config`` says.

    ``train_x``: normalised training windows (calibration draws from them).
    ``select_x``/``select_y``: held-out windows and labels that score the
    candidates of ``auto`` (required for it); ``float_predict`` maps windows
    to float class scores (defaults to ``model.predict``).  The result is not
    checked for pure int8 here.
    """
    if config.method == "auto" and (select_x is None or select_y is None or len(select_x) == 0):
        raise ValueError("calibration method 'auto' needs held-out windows (select_x, select_y) to choose on")
    samples = calibration_samples(train_x, config.n_samples)
    calibrated = calibrate_float(model, samples, n_calibration=len(samples))
    if config.method == "minmax":
        return CalibrationResult(quantize_calibrated(calibrated), "minmax", "minmax", None, None, len(samples), 0)

    recorded = recorded_ranges(calibrated)
    keep = fixed_range_tensors(calibrated)
    editable = [i for i in recorded if i not in keep]
    values = sample_activations(calibrated, samples, editable)
    squares = square_tensors(calibrated) & set(values)
    square_p = config.square_percentile if squares else None

    def percentile_model(p: float, sq: float | None) -> tuple[str, bytes, int]:
        ranges = percentile_ranges(recorded, values, p)
        if sq is not None:
            ranges.update(percentile_ranges(recorded, {i: values[i] for i in squares}, sq))
        return percentile_model_name(p, sq), quantize_calibrated(with_ranges(calibrated, ranges)), len(ranges)

    if config.method == "percentile":
        p = float(config.percentiles[0])
        name, model_bytes, clipped = percentile_model(p, square_p)
        return CalibrationResult(model_bytes, "percentile", name, p, square_p, len(samples), clipped)

    x_sel, y_sel = _selection_subset(np.asarray(select_x), np.asarray(select_y), config.selection_windows)
    if float_predict is None:
        def float_predict(x: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict(x, batch_size=256, verbose=0))
    float_pred = float_predict(x_sel).reshape(len(x_sel), -1).argmax(axis=1)

    options: list[tuple[str, float | None, float | None, bytes, int]] = [
        ("minmax", None, None, quantize_calibrated(calibrated), 0)
    ]
    settings = [(float(p), None) for p in config.percentiles]
    if square_p is not None:
        settings += [(float(p), float(square_p)) for p in config.percentiles]
    for p, sq in settings:
        name, model_bytes, clipped = percentile_model(p, sq)
        options.append((name, p, sq, model_bytes, clipped))
    candidates: list[Candidate] = []
    for name, p, sq, model_bytes, _ in options:
        acc, bal, agree = _score(model_bytes, x_sel, y_sel, float_pred)
        candidates.append(Candidate(name, p, sq, round(acc, 5), round(bal, 5), round(agree, 5)))
        if progress:
            print(f"calibration {name:>7s}: {select_split} accuracy {acc:.4f}, balanced {bal:.4f}, "
                  f"float agreement {agree:.4f}", flush=True)
    best = max(range(len(options)),
               key=lambda k: (candidates[k].balanced_accuracy, candidates[k].float_agreement, -k))
    default_name = percentile_model_name(float(config.percentiles[0]), square_p)
    default = next(k for k, option in enumerate(options) if option[0] == default_name)
    if candidates[best].balanced_accuracy - candidates[default].balanced_accuracy <= config.selection_margin:
        best = default  # a lead within the validation noise does not overturn the default
    name, p, sq, model_bytes, clipped = options[best]
    return CalibrationResult(
        model_bytes, "auto", name, p, sq, len(samples), clipped,
        selection_split=select_split, selection_windows=len(x_sel), selection_margin=config.selection_margin,
        candidates=tuple(candidates),
    )
