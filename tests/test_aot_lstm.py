"""Parity of the AOT UNIDIRECTIONAL_SEQUENCE_LSTM kernel (int8, int16 cell) with TFLite Micro.

Converting Keras LSTMs costs seconds per layer, so the randomised cases are
written directly as .tflite flatbuffers with the schema's object API: many
independent LSTM ops per model, each with random sizes (batch, time, input,
units), layout (batch- or time-major), weights, biases, scales, zero points,
cell-state scale and cell clip. One case converted from a real tf_keras LSTM
checks that the emitter also handles what the converter produces.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from ai_edge_litert import schema_py_generated as schema  # noqa: E402

from aot_single_op import (  # noqa: E402
    CaseModel,
    ModelWriter,
    build_library,
    compare_outputs,
    emit_model,
    random_inputs,
    run_aot,
    run_tflm,
)

import myoedge.quantize.aot.ops_lstm  # noqa: E402,F401  (registers the emitter)

KERNEL_FILES = ["lstm.c"]
LSTMS_PER_MODEL = 25
SEED = 2024


def add_random_lstm(writer: ModelWriter, k: int, rng: np.random.Generator, register_io: bool = True,
                    time_major: bool | None = None) -> tuple[int, int]:
    """One UNIDIRECTIONAL_SEQUENCE_LSTM with random sizes and quantisation; returns its (input, output)
    tensors, which become graph input and output when ``register_io``."""
    batches = int(rng.choice([1, 1, 1, 2, 3]))
    time_steps = int(rng.integers(1, 12))
    input_dim = int(rng.integers(1, 10))
    units = int(rng.integers(1, 20))
    drawn_time_major = bool(rng.random() < 0.25)
    time_major = drawn_time_major if time_major is None else time_major
    x_scale = float(10 ** rng.uniform(-2.5, -0.5))
    x_zp = int(rng.integers(-128, 128))
    h_scale = float(10 ** rng.uniform(-2.6, -1.6))
    h_zp = int(rng.integers(-20, 21))
    cell_scale = 2.0 ** -int(rng.integers(8, 16))
    cell_clip = float(rng.choice([0.0, 0.0, 3.0, 10.0]))
    int8, int16, int32 = schema.TensorType.INT8, schema.TensorType.INT16, schema.TensorType.INT32

    in_shape = (time_steps, batches, input_dim) if time_major else (batches, time_steps, input_dim)
    out_shape = (time_steps, batches, units) if time_major else (batches, time_steps, units)
    x = writer.tensor(f"x{k}", in_shape, int8, x_scale, x_zp)
    inputs = [x]
    weight_scales = []
    for gate in ("input", "forget", "cell", "output"):
        scale = float(10 ** rng.uniform(-3, -1.3))
        weight_scales.append(scale)
        w = rng.integers(-127, 128, size=(units, input_dim)).astype(np.int8)
        inputs.append(writer.tensor(f"w_{gate}{k}", (units, input_dim), int8, scale, 0, w))
    for gate in ("input", "forget", "cell", "output"):
        scale = float(10 ** rng.uniform(-3, -1.3))
        r = rng.integers(-127, 128, size=(units, units)).astype(np.int8)
        inputs.append(writer.tensor(f"r_{gate}{k}", (units, units), int8, scale, 0, r))
    inputs += [-1, -1, -1]
    for gate, w_scale in zip(("input", "forget", "cell", "output"), weight_scales):
        bias_scale = x_scale * w_scale
        bias = np.round(rng.uniform(-2, 2, size=units) / bias_scale).astype(np.int32)
        inputs.append(writer.tensor(f"b_{gate}{k}", (units,), int32, bias_scale, 0, bias))
    inputs += [-1, -1]
    inputs.append(writer.tensor(f"h{k}", (batches, units), int8, h_scale, h_zp, variable=True))
    inputs.append(writer.tensor(f"c{k}", (batches, units), int16, cell_scale, 0, variable=True))
    inputs += [-1, -1, -1, -1]
    y = writer.tensor(f"y{k}", out_shape, int8, h_scale, h_zp)

    options = schema.UnidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction = schema.ActivationFunctionType.TANH
    options.cellClip = cell_clip
    options.projClip = 0.0
    options.timeMajor = time_major
    writer.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], "UnidirectionalSequenceLSTMOptions", options)
    if register_io:
        writer.inputs.append(x)
        writer.outputs.append(y)
    return x, y


def build_model(rng: np.random.Generator, count: int = LSTMS_PER_MODEL) -> bytes:
    writer = ModelWriter()
    for k in range(count):
        add_random_lstm(writer, k, rng)
    return writer.finish()


_CACHE: dict[str, tuple] = {}


def parity_cases(models: int, tag: str):
    if tag in _CACHE:
        return _CACHE[tag]
    rng = np.random.default_rng(SEED + models)
    cases = []
    for m in range(models):
        case = CaseModel(name=f"{tag}{m}", model_bytes=build_model(rng))
        emit_model(case)
        cases.append(case)
    lib = build_library(cases, KERNEL_FILES)
    _CACHE[tag] = (cases, lib)
    return cases, lib


def check_parity(cases, lib, runs: int) -> int:
    rng = np.random.default_rng(SEED)
    problems: list[str] = []
    count = 0
    for case in cases:
        count += sum(op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM" for op in case.graph.ops)
        for _ in range(runs):
            inputs = random_inputs(case.graph, rng)
            n_out = len(case.graph.outputs)
            problems += compare_outputs(case, inputs, run_aot(lib, case, inputs), run_tflm(case.model_bytes, inputs, n_out))
    assert not problems, "\n".join(problems[:10])
    return count


def test_lstm_matches_tflm():
    """>= 200 randomised LSTM ops (sizes, layouts, quantisation, clip) are bit-exact with TFLM."""
    cases, lib = parity_cases(models=8, tag="lstm")
    assert check_parity(cases, lib, runs=2) >= 200


def test_lstm_dsp_path_matches_tflm():
    """The same cases through the DSP (SMLAD) dot-product path, emulated in C on the host."""
    cases, _ = parity_cases(models=8, tag="lstm")
    lib = build_library(cases, KERNEL_FILES, defines=["-DMYE_EMULATE_DSP"])
    assert check_parity(cases, lib, runs=1) >= 200


def test_lstm_emitter_rejects_float_cell_state():
    """An LSTM whose cell state is not int16 stops the generator with a message naming the op."""
    from myoedge.quantize.aot.emit import EMITTERS, UnsupportedOpError
    from myoedge.quantize.tflite_graph import load_graph

    from aot_single_op import HarnessContext

    rng = np.random.default_rng(1)
    writer = ModelWriter()
    add_random_lstm(writer, 0, rng)
    writer.tensors[writer.operators[0].inputs[19]].type = schema.TensorType.FLOAT32
    graph = load_graph(writer.finish())
    with pytest.raises(UnsupportedOpError, match="op #0 UNIDIRECTIONAL_SEQUENCE_LSTM.*cell state"):
        EMITTERS["UNIDIRECTIONAL_SEQUENCE_LSTM"](graph.ops[0], HarnessContext(graph, "bad"))


# ---- gate multipliers: the input*weight scale product is taken in double -------------------------

TRIGGER_MAX_PRE_ACTIVATION = 126
"""Largest Q3.12 cell-gate pre-activation a trigger may have: with the scales of
:func:`add_trigger_lstm`, every pre-activation LSB from 0 to here moves the hidden output by >= 2 LSB."""


def _float_product_multiplier(input_scale: np.float32, weight_scale: np.float32,
                              output_scale: np.float32) -> tuple[int, int]:
    """The gate multiplier with the scales multiplied in float32 (what the emitter did before)."""
    from myoedge.quantize.aot.quant_math import quantize_multiplier

    product = float(np.float32(input_scale) * np.float32(weight_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


def _double_product_multiplier(input_scale: np.float32, weight_scale: np.float32,
                               output_scale: np.float32) -> tuple[int, int]:
    """The gate multiplier with the float32 scales multiplied in double (what TFLM computes)."""
    from myoedge.quantize.aot.quant_math import quantize_multiplier

    product = float(np.float32(input_scale)) * float(np.float32(weight_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


def find_rounding_triggers(rng: np.random.Generator, wanted: int) -> list[tuple[np.float32, np.float32, list[int]]]:
    """``wanted`` (input scale, weight scale, accumulators) triples for which a gate's Q3.12 pre-activation
    rounds differently with a float32 and with a double scale product: the scales give two multipliers a few
    dozen units apart, and the accumulators are those whose products land between the two roundings."""
    from myoedge.quantize.aot.ops_lstm import GATE_PRE_ACTIVATION_SCALE
    from myoedge.quantize.aot.quant_math import mul_by_quantized_multiplier

    found = []
    for _ in range(100_000):
        x_scale = np.float32(10 ** rng.uniform(-2.5, -0.5))
        w_scale = np.float32(10 ** rng.uniform(-3, -1.3))
        exact = _double_product_multiplier(x_scale, w_scale, GATE_PRE_ACTIVATION_SCALE)
        rounded = _float_product_multiplier(x_scale, w_scale, GATE_PRE_ACTIVATION_SCALE)
        if exact == rounded:
            continue
        gain = float(x_scale) * float(w_scale) / float(GATE_PRE_ACTIVATION_SCALE)
        accs = np.arange(1, int(TRIGGER_MAX_PRE_ACTIVATION / gain) + 1)
        a = mul_by_quantized_multiplier(accs, *exact)
        b = mul_by_quantized_multiplier(accs, *rounded)
        hits = accs[(a != b) & (np.maximum(a, b) <= TRIGGER_MAX_PRE_ACTIVATION)]
        if hits.size:
            found.append((x_scale, w_scale, [int(v) for v in hits]))
            if len(found) == wanted:
                return found
    raise AssertionError(f"found only {len(found)} of {wanted} rounding triggers")


def add_trigger_lstm(writer: ModelWriter, k: int, x_scale: np.float32, w_scale: np.float32,
                     cell_accumulators: list[int]) -> None:
    """One single-step LSTM whose unit ``u`` has cell-gate accumulator ``cell_accumulators[u]`` (input 0, so
    the accumulator is the bias) and otherwise a plain path to the output: input and output gates saturated
    open, the cell state starting at 0, cell scale 2^-15 and hidden scale 2^-13 (zero point -128), so one LSB
    of cell-gate pre-activation shows as >= 2 LSB of hidden state."""
    int8, int16, int32 = schema.TensorType.INT8, schema.TensorType.INT16, schema.TensorType.INT32
    units = len(cell_accumulators)
    open_gate = np.full(units, 1 << 30, dtype=np.int32)  # saturates the Q3.12 pre-activation at 32767
    biases = {"input": open_gate, "forget": np.zeros(units, np.int32),
              "cell": np.array(cell_accumulators, dtype=np.int32), "output": open_gate}
    x = writer.tensor(f"x{k}", (1, 1, 1), int8, float(x_scale), 0)
    inputs = [x]
    for gate in ("input", "forget", "cell", "output"):
        inputs.append(writer.tensor(f"w_{gate}{k}", (units, 1), int8, float(w_scale), 0, np.zeros((units, 1), np.int8)))
    for gate in ("input", "forget", "cell", "output"):
        inputs.append(writer.tensor(f"r_{gate}{k}", (units, units), int8, 0.01, 0, np.zeros((units, units), np.int8)))
    inputs += [-1, -1, -1]
    for gate in ("input", "forget", "cell", "output"):
        inputs.append(writer.tensor(f"b_{gate}{k}", (units,), int32, float(x_scale) * float(w_scale), 0,
                                    biases[gate]))
    inputs += [-1, -1]
    inputs.append(writer.tensor(f"h{k}", (1, units), int8, 2.0**-13, -128, variable=True))
    inputs.append(writer.tensor(f"c{k}", (1, units), int16, 2.0**-15, 0, variable=True))
    inputs += [-1, -1, -1, -1]
    y = writer.tensor(f"y{k}", (1, 1, units), int8, 2.0**-13, -128)
    options = schema.UnidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction = schema.ActivationFunctionType.TANH
    options.cellClip = 0.0
    options.projClip = 0.0
    options.timeMajor = False
    writer.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], "UnidirectionalSequenceLSTMOptions", options)
    writer.inputs.append(x)
    writer.outputs.append(y)


def test_lstm_gate_multiplier_uses_a_double_product(monkeypatch):
    """Regression (DB5 LSTM-FIN, 15 of 1,887 windows 1 LSB off): TFLM's gate FC multiplier takes the input x
    weight scale product in double. Cases built so that a float32 product rounds a cell-gate pre-activation
    the other way: the emitter equals TFLM on every unit, and the float32 product differs on every unit."""
    import myoedge.quantize.aot.ops_lstm as ops_lstm

    triggers = find_rounding_triggers(np.random.default_rng(SEED), wanted=6)
    writer = ModelWriter()
    for k, (x_scale, w_scale, accs) in enumerate(triggers):
        add_trigger_lstm(writer, k, x_scale, w_scale, accs)
    model_bytes = writer.finish()
    inputs = [np.zeros((1, 1, 1), np.int8) for _ in triggers]
    want = run_tflm(model_bytes, inputs, len(triggers))

    fixed = CaseModel(name="lstm_trigger", model_bytes=model_bytes)
    emit_model(fixed)
    got = run_aot(build_library([fixed], KERNEL_FILES), fixed, inputs)
    for k, (w, g) in enumerate(zip(want, got)):
        assert np.array_equal(w, g), f"trigger op {k}: aot {g.ravel()} tflm {w.ravel()}"

    monkeypatch.setattr(ops_lstm, "fc_multiplier", _float_product_multiplier)
    old = CaseModel(name="lstm_trigger_f32", model_bytes=model_bytes)
    emit_model(old)
    before = run_aot(build_library([old], KERNEL_FILES), old, inputs)
    for k, (w, b) in enumerate(zip(want, before)):
        assert np.all(np.abs(w.astype(int) - b.astype(int)) >= 2), f"trigger op {k} does not discriminate"


@pytest.mark.slow
def test_lstm_matches_tflm_sweep():
    """More random LSTMs and more input draws."""
    cases, lib = parity_cases(models=24, tag="lstmslow")
    assert check_parity(cases, lib, runs=5) >= 600


@pytest.mark.slow
def test_converted_keras_lstm_matches_tflm():
    """A tf_keras LSTM converted by the TFLite converter (as the training stage produces it)."""
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("tf_keras")
    rng = np.random.default_rng(SEED)
    inputs = [keras.Input(shape=(9, 4), batch_size=1, name="x0")]
    model = keras.Model(inputs, [keras.layers.LSTM(12, return_sequences=True)(inputs[0])])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def representative():
        for _ in range(16):
            yield {"x0": rng.uniform(-2, 2, size=(1, 9, 4)).astype(np.float32)}

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    case = CaseModel(name="keras_lstm", model_bytes=converter.convert())
    emit_model(case)
    assert [op.opcode for op in case.graph.ops] == ["UNIDIRECTIONAL_SEQUENCE_LSTM"]
    lib = build_library([case], KERNEL_FILES)
    assert check_parity([case], lib, runs=20) == 1


def single_lstm_models(count: int, seed: int) -> list[bytes]:
    """Models of one random LSTM each (one input, one output), as the generator takes them."""
    rng = np.random.default_rng(seed)
    models = []
    for _ in range(count):
        writer = ModelWriter()
        add_random_lstm(writer, 0, rng)
        models.append(writer.finish())
    return models


@pytest.mark.parametrize("emulate_dsp", [False, True])
def test_generated_lstm_matches_tflm_and_keeps_state(emulate_dsp):
    """Through generate_c + AotModel: every window from the reset state matches a fresh TFLM
    interpreter, and consecutive invokes without reset carry the state exactly as TFLM does."""
    from tflite_micro.python.tflite_micro import runtime

    from myoedge.quantize.aot.host_build import AotModel

    rng = np.random.default_rng(SEED + 7)
    problems = []
    for k, model_bytes in enumerate(single_lstm_models(6, SEED + 3)):
        aot = AotModel(model_bytes, name=f"lstm_case{k}", emulate_dsp=emulate_dsp)
        assert "mye_lstm_s8" in aot.result.kernels_used
        assert aot.result.state_bytes > 0
        interpreter = runtime.Interpreter.from_bytes(model_bytes)
        aot.reset()
        for step in range(3):
            x = rng.integers(-128, 128, size=aot.input_shape).astype(np.int8)
            fresh = run_tflm(model_bytes, [x], 1)[0]
            if not np.array_equal(aot.invoke(x, reset=True), fresh):
                problems.append(f"case {k} window {step}: reset invoke differs from a fresh TFLM")
        aot.reset()
        for step in range(3):
            x = rng.integers(-128, 128, size=aot.input_shape).astype(np.int8)
            interpreter.set_input(x, 0)
            interpreter.invoke()
            want = np.array(interpreter.get_output(0))
            got = aot.invoke(x, reset=False)
            if not np.array_equal(got, want):
                problems.append(f"case {k} step {step}: carried state differs from TFLM "
                                f"({int((got != want).sum())} elements)")
    assert not problems, "\n".join(problems)


def wrapped_lstm_model(rng: np.random.Generator) -> bytes:
    """input -> QUANTIZE -> batch-major LSTM -> TRANSPOSE -> output: the LSTM's input and output both live
    in the generated arena, where the planner lets the output overlap the (smaller) input."""
    writer = ModelWriter()
    x, y = add_random_lstm(writer, 0, rng, register_io=False, time_major=False)
    x_shape, y_shape = writer.tensors[x].shape, writer.tensors[y].shape
    x_q, y_q = writer.tensors[x].quantization, writer.tensors[y].quantization
    graph_in = writer.tensor("graph_in", x_shape, "INT8", float(x_q.scale[0]) * 1.7, int(x_q.zeroPoint[0]) // 2)
    writer.op("QUANTIZE", [graph_in], [x])
    writer.operators.insert(0, writer.operators.pop())  # the QUANTIZE runs before the LSTM
    perm = writer.tensor("perm", (3,), "INT32", data=np.array([1, 0, 2], dtype=np.int32))
    graph_out = writer.tensor("graph_out", (y_shape[1], y_shape[0], y_shape[2]), "INT8", float(y_q.scale[0]),
                              int(y_q.zeroPoint[0]))
    writer.op("TRANSPOSE", [y, perm], [graph_out])
    writer.inputs.append(graph_in)
    writer.outputs.append(graph_out)
    return writer.finish()


@pytest.mark.parametrize("emulate_dsp", [False, True])
def test_lstm_output_overlapping_its_input_in_the_arena_matches_tflm(emulate_dsp):
    """The planner places the LSTM's output over its dying input (overlap.py's row-wise bound); the generated
    model still equals TFLM on every element, on both kernel paths."""
    from myoedge.quantize.aot.host_build import AotModel

    rng = np.random.default_rng(SEED + 11)
    overlapped = 0
    problems = []
    for k in range(8):
        model_bytes = wrapped_lstm_model(rng)
        aot = AotModel(model_bytes, name=f"lstm_overlap{k}", emulate_dsp=emulate_dsp)
        tensors = [b for b in aot.meta["arena_buffers"] if b["buffer"][0] == "t"]
        overlapped += any(a["offset"] < b["offset"] + b["bytes"] and b["offset"] < a["offset"] + a["bytes"]
                          for i, a in enumerate(tensors) for b in tensors[i + 1:])
        for step in range(3):
            x = rng.integers(-128, 128, size=aot.input_shape).astype(np.int8)
            want = run_tflm(model_bytes, [x], 1)[0]
            got = aot.invoke(x, reset=True)
            if not np.array_equal(got, want):
                problems.append(f"case {k} window {step}: {int((got != want).sum())} elements differ")
    assert not problems, "\n".join(problems)
    assert overlapped >= 4, f"only {overlapped} of 8 plans overlapped the LSTM's input and output"


# ---- the sigmoid interpolation table, generated from its formula ---------------------------------

_TABLE_HARNESS = """
#include "lstm.c"
void mye_test_sigmoid(const uint16_t *t, const int16_t *x, int16_t *y, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = sigmoid_s16(t, x[i]);
    }
}
void mye_test_tanh(const uint16_t *t, const int16_t *x, int16_t *y, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        y[i] = tanh_s16(t, x[i], 3, 0);
    }
}
"""


def _int16_activation_in_tflm(opcode: str, x: np.ndarray) -> np.ndarray:
    """TFLM's int16 LOGISTIC / TANH on Q3.12 inputs (Q0.15 out): the same table and interpolation as the LSTM."""
    from tflite_micro.python.tflite_micro import runtime

    from myoedge.quantize.aot.single_op import Tensor, single_op_model

    model = single_op_model(opcode, Tensor((x.size,), "INT16", [2.0**-12], [0]),
                            Tensor((x.size,), "INT16", [2.0**-15], [0]))
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    interpreter.set_input(x, 0)
    interpreter.invoke()
    return np.array(interpreter.get_output(0))


def test_generated_sigmoid_table_reproduces_tflm_int16_sigmoid_and_tanh_everywhere(tmp_path):
    """lstm.c's sigmoid and tanh, fed the generated table, equal TFLM's int16 LOGISTIC and TANH on all 65536
    inputs. TANH of Q3.12 reaches table index 383 (saturating from 255), so every entry is read; raising any
    single entry by one LSB breaks the equality (checked for a spread of entries)."""
    import ctypes
    import shutil
    import subprocess

    from myoedge.quantize.aot.lut_tables import sigmoid_interpolation_table

    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no host gcc")
    kernels = Path(__file__).resolve().parents[1] / "firmware" / "kernels"
    (tmp_path / "harness.c").write_text(_TABLE_HARNESS)
    subprocess.run([gcc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                    f"-I{kernels / 'include'}", f"-I{kernels / 'src'}", str(tmp_path / "harness.c"),
                    "-Wl,--no-undefined", "-o", str(tmp_path / "harness.so")], check=True)
    lib = ctypes.CDLL(str(tmp_path / "harness.so"))
    x = np.arange(-32768, 32768, dtype=np.int16)
    expected = {"LOGISTIC": _int16_activation_in_tflm("LOGISTIC", x), "TANH": _int16_activation_in_tflm("TANH", x)}

    def ours(opcode: str, table: np.ndarray) -> np.ndarray:
        table = np.ascontiguousarray(table, dtype=np.uint16)
        y = np.zeros_like(x)
        fn = lib.mye_test_sigmoid if opcode == "LOGISTIC" else lib.mye_test_tanh
        fn(ctypes.c_void_p(table.ctypes.data), ctypes.c_void_p(x.ctypes.data), ctypes.c_void_p(y.ctypes.data),
           ctypes.c_int32(x.size))
        return y

    table = sigmoid_interpolation_table()
    for opcode in ("LOGISTIC", "TANH"):
        got = ours(opcode, table)
        assert np.array_equal(got, expected[opcode]), f"{opcode}: {int((got != expected[opcode]).sum())} differ"
    for entry in (0, 1, 53, 128, 200, 254, 255):
        nudged = table.astype(np.int64)
        nudged[entry] += 1 if entry < 255 else -1
        assert not np.array_equal(ours("TANH", nudged), expected["TANH"]), f"entry {entry} is never read"


def test_sigmoid_table_follows_its_formula():
    """Entries 0..254: samples corrected by half the midpoint interpolation error; entry 255: the limit 1.0,
    saturated. The corrected values sit well away from rounding boundaries, so exp's last bit cannot flip one."""
    import math

    from myoedge.quantize.aot.lut_tables import (
        _sigmoid,
        midpoint_corrected_table,
        rounding_margins,
        sigmoid_interpolation_table,
    )

    table = sigmoid_interpolation_table()
    assert table.dtype == np.uint16 and table.shape == (256,)
    corrected = midpoint_corrected_table(_sigmoid, 256, 1 / 24, 65536.0, 0, 65535)
    assert np.array_equal(table[:255], corrected[:255])
    assert corrected[255] == 65534 and table[255] == 65535  # the one entry set by the endpoint rule
    plain = np.array([min(round(65536 / (1 + math.exp(-i / 24))), 65535) for i in range(256)])
    assert np.abs(table.astype(np.int64) - plain).max() <= 1
    assert table[0] == 32768 and np.all(np.diff(table.astype(np.int64)) >= 0)
    assert rounding_margins().min() > 1e-3
