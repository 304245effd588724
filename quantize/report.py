"""Figures read off a converted graph, and the quantisation report file.

``graph_costs`` counts what one inference costs (multiply-accumulates of the
matrix ops, element-wise outputs of everything else, constant bytes) from
the .tflite alone, so the numbers describe exactly what the board runs.
``write_quant_report`` writes ``BUILD_DIR/quant_report.json``;
``format_report_table`` is the short table the command prints.

MAC counting rules (one MAC = one multiply and one add, the usual unit):

* CONV_2D: output elements x kernel_h x kernel_w x filter input channels;
* DEPTHWISE_CONV_2D: output elements x kernel_h x kernel_w;
* FULLY_CONNECTED: output elements x input features (weights' 2nd dimension);
* BATCH_MATMUL: output elements x the contracted dimension;
* UNIDIRECTIONAL_SEQUENCE_LSTM: time steps x (4 gates x cells x (inputs +
  outputs) + projection outputs x cells when projected);
* every other op except pure data movement (RESHAPE, SQUEEZE, EXPAND_DIMS)
  counts its output elements in ``elementwise_outputs`` (one arithmetic
  result each); MEAN / SUM count their input elements there, since each input
  is added once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from myoedge.training.run import json_value

from .tflite_graph import Graph, OpInfo

__all__ = [
    "GraphCosts",
    "graph_costs",
    "op_macs",
    "REPORT_FILE",
    "AOT_FIELDS",
    "write_quant_report",
    "read_quant_report",
    "update_quant_report",
    "format_report_table",
    "costs_as_dict",
]

REPORT_FILE = "quant_report.json"
REPORT_FORMAT = "myoedge-quant-report/1"
# Keys the ahead-of-time stage fills in later; written as null here.
AOT_FIELDS = ("aot_arena_bytes", "parity", "flash_estimate_bytes")
_DATA_MOVEMENT_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
_REDUCTION_OPS = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"})


@dataclass(frozen=True)
class GraphCosts:
    """Cost of one inference read from the graph.

    ``macs``: multiply-accumulates of the matrix ops; ``macs_by_op``: the same
    split by opcode; ``elementwise_outputs``: results computed by all other
    arithmetic ops; ``weights_bytes``: bytes of all constant buffers (weights,
    biases, shape and axis constants; a buffer shared by several tensors
    counted once); ``ops``: opcode histogram.
    """

    macs: int
    macs_by_op: dict[str, int]
    elementwise_outputs: int
    weights_bytes: int
    ops: dict[str, int]


def _elements(graph: Graph, index: int) -> int:
    """Element count of tensor ``index`` (0 for an omitted optional tensor)."""
    return graph.tensors[index].num_elements if index >= 0 else 0


def _lstm_macs(graph: Graph, op: OpInfo) -> int:
    """MACs of one UNIDIRECTIONAL_SEQUENCE_LSTM call over all its time steps."""
    inputs = op.inputs
    x = graph.tensors[inputs[0]]
    input_to_output_weights = graph.tensors[inputs[4]]  # (cells, inputs)
    recurrent_to_output_weights = graph.tensors[inputs[8]]  # (cells, outputs)
    n_cell, n_input = input_to_output_weights.shape
    n_output = recurrent_to_output_weights.shape[1]
    time_major = bool(op.options.get("time_major", False))
    steps = x.shape[0] if time_major else x.shape[1]
    batch = x.shape[1] if time_major else x.shape[0]
    per_step = 4 * n_cell * (n_input + n_output)
    if len(inputs) > 16 and inputs[16] >= 0:  # projection weights (outputs, cells)
        per_step += graph.tensors[inputs[16]].shape[0] * n_cell
    return int(batch * steps * per_step)


def op_macs(graph: Graph, op: OpInfo) -> int:
    """Multiply-accumulates of one op (0 for ops that are not matrix ops)."""
    if op.opcode == "CONV_2D":
        kernel = graph.tensors[op.inputs[1]].shape  # (out_ch, kh, kw, in_ch)
        return _elements(graph, op.outputs[0]) * kernel[1] * kernel[2] * kernel[3]
    if op.opcode == "DEPTHWISE_CONV_2D":
        kernel = graph.tensors[op.inputs[1]].shape  # (1, kh, kw, out_ch)
        return _elements(graph, op.outputs[0]) * kernel[1] * kernel[2]
    if op.opcode == "FULLY_CONNECTED":
        weights = graph.tensors[op.inputs[1]].shape  # (units, in_features)
        return _elements(graph, op.outputs[0]) * weights[-1]
    if op.opcode == "BATCH_MATMUL":
        lhs = graph.tensors[op.inputs[0]].shape
        inner = lhs[-2] if op.options.get("adj_x", False) else lhs[-1]
        return _elements(graph, op.outputs[0]) * inner
    if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        return _lstm_macs(graph, op)
    return 0


def graph_costs(graph: Graph) -> GraphCosts:
    """Count MACs, element-wise results and constant bytes of one inference."""
    macs_by_op: dict[str, int] = {}
    elementwise = 0
    for op in graph.ops:
        macs = op_macs(graph, op)
        if macs:
            macs_by_op[op.opcode] = macs_by_op.get(op.opcode, 0) + macs
        elif op.opcode in _REDUCTION_OPS:
            elementwise += _elements(graph, op.inputs[0])
        elif op.opcode not in _DATA_MOVEMENT_OPS:
            elementwise += sum(_elements(graph, i) for i in op.outputs)
    seen_buffers: set[int] = set()
    weights_bytes = 0
    for tensor in graph.constant_tensors():
        if tensor.buffer in seen_buffers:
            continue
        seen_buffers.add(tensor.buffer)
        weights_bytes += tensor.nbytes
    return GraphCosts(
        macs=sum(macs_by_op.values()),
        macs_by_op=dict(sorted(macs_by_op.items())),
        elementwise_outputs=elementwise,
        weights_bytes=weights_bytes,
        ops=graph.opcode_histogram(),
    )


def write_quant_report(build_dir: Path, report: dict[str, Any]) -> Path:
    """Write ``BUILD_DIR/quant_report.json``; the AOT keys are added as null when absent."""
    content = {"format": REPORT_FORMAT, **report}
    for key in AOT_FIELDS:
        content.setdefault(key, None)
    path = Path(build_dir) / REPORT_FILE
    path.write_text(json.dumps(content, indent=2, default=json_value) + "\n")
    return path


def read_quant_report(build_dir: Path) -> dict[str, Any]:
    """Read ``BUILD_DIR/quant_report.json`` (for the stages that fill in the AOT keys)."""
    path = Path(build_dir) / REPORT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no quant_report.json; run `myoedge quantize` first")
    return json.loads(path.read_text())


def update_quant_report(build_dir: Path, updates: dict[str, Any]) -> dict[str, Any]:
    """Merge ``updates`` into ``BUILD_DIR/quant_report.json`` and rewrite it (for the AOT
    stage: ``aot_arena_bytes``, ``parity``, ``flash_estimate_bytes``); returns the new report."""
    report = read_quant_report(build_dir)
    report.update(updates)
    report.pop("format", None)
    write_quant_report(build_dir, report)
    return read_quant_report(build_dir)


def _metric(report: dict[str, Any], side: str, key: str) -> str:
    value = (report.get(side) or {}).get(key)
    return "-" if value is None else f"{value:.4f}"


def format_report_table(report: dict[str, Any]) -> str:
    """A short plain-text table of the report's main figures."""
    rows = [f"{'metric':<20}{'float':>10}{'int8':>10}"]
    for key in ("accuracy", "balanced_accuracy", "mcc"):
        rows.append(f"{key:<20}{_metric(report, 'float', key):>10}{_metric(report, 'int8', key):>10}")
    agreement = report.get("int8_float_agreement")
    if agreement is not None:
        rows.append(f"{'argmax agreement':<20}{'':>10}{agreement:>10.4f}")
    rows.append("")

    def figure(label: str, key: str, unit: str = "") -> None:
        value = report.get(key)
        text = "-" if value is None else f"{value:,}{unit}"
        rows.append(f"{label:<20}{text:>20}")

    figure("MACs / inference", "macs")
    figure("weights", "weights_bytes", " B")
    figure("model .tflite", "tflite_bytes", " B")
    figure("TFLM arena", "tflm_arena_bytes", " B")
    figure("AOT arena", "aot_arena_bytes", " B")
    figure("flash estimate", "flash_estimate_bytes", " B")
    figure("test windows", "test_windows")
    parity = report.get("parity")
    if isinstance(parity, dict):
        rows.append(f"{'AOT parity':<20}{parity.get('mismatches')!s:>8} mismatches / {parity.get('windows')} windows")
    ops = report.get("ops") or {}
    rows.append("ops: " + ", ".join(f"{name} x{count}" for name, count in ops.items()))
    return "\n".join(rows)


def costs_as_dict(costs: GraphCosts) -> dict[str, Any]:
    """The costs as a JSON-ready dict."""
    return asdict(costs)
