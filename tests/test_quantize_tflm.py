"""The TFLM reference interpreter wrapper and the arena probe.

TFLM against LiteRT: on a Dense-only model (FULLY_CONNECTED with 2-D input,
ReLU, softmax) LiteRT's reference kernels (``BUILTIN_REF``) and TFLM follow
the same integer arithmetic; the test allows at most 1 LSB of difference per
element (platform-facts.md records 1-LSB rounding differences on other
FULLY_CONNECTED shapes) and requires most elements to be equal.
"""

from __future__ import annotations


import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from myoedge.quantize.convert import convert_int8  # noqa: E402
from myoedge.quantize.tflm_reference import (  # noqa: E402
    ARENA_ALIGNMENT,
    TflmError,
    TflmReference,
    _try_arena,
    probe_arena,
)


@pytest.fixture(scope="module")
def dense_model_bytes() -> bytes:
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((20,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(5),
            keras.layers.Softmax(),
        ]
    )
    x = np.random.default_rng(4).normal(size=(60, 20)).astype(np.float32)
    return convert_int8(model, x, n_calibration=60)


def _litert_outputs(model_bytes: bytes, x_int8: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_content=model_bytes, experimental_op_resolver_type=OpResolverType.BUILTIN_REF
    )
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    out = []
    for sample in x_int8:
        interpreter.set_tensor(input_index, sample[np.newaxis])
        interpreter.invoke()
        out.append(interpreter.get_tensor(output_index)[0].copy())
    return np.stack(out)


def test_tflm_matches_litert_reference_within_one_lsb(dense_model_bytes):
    reference = TflmReference(dense_model_bytes)
    x = np.random.default_rng(5).normal(size=(50, 20))
    x_int8 = reference.quantize_input(x)
    tflm = reference.run_batch(x_int8)
    litert = _litert_outputs(dense_model_bytes, x_int8)
    assert tflm.shape == litert.shape == (50, 5) and tflm.dtype == np.int8
    difference = np.abs(tflm.astype(np.int16) - litert.astype(np.int16))
    assert difference.max() <= 1
    assert np.mean(difference == 0) > 0.9


def test_invoke_batch_and_quantisation_helpers_agree(dense_model_bytes):
    reference = TflmReference(dense_model_bytes)
    assert reference.input_shape == (1, 20) and reference.output_shape == (1, 5)
    assert reference.n_outputs == 5
    x = np.random.default_rng(6).normal(size=(4, 20))
    x_int8 = reference.quantize_input(x)
    assert x_int8.dtype == np.int8
    # Round trip within half a quantisation step (where not saturated).
    back = reference.dequantize_input(x_int8)
    inside = np.abs(x) < 0.9 * reference.input_scale * 127
    assert np.all(np.abs(back - x)[inside] <= reference.input_scale / 2 + 1e-6)
    batch = reference.run_batch(x_int8)
    for i in range(len(x)):
        assert np.array_equal(reference.invoke(x_int8[i]), batch[i])
        assert np.array_equal(reference.invoke(x_int8[i][np.newaxis]), batch[i])
    probabilities = reference.dequantize_output(batch)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=0.05)
    with pytest.raises(TflmError, match="int8"):
        reference.invoke(x[0])
    with pytest.raises(TflmError, match="shape"):
        reference.invoke(x_int8[0, :10])
    assert "Arena allocation total" in reference.allocations_text()


def test_arena_probe_finds_the_smallest_working_size(dense_model_bytes, tmp_path):
    probe = probe_arena(dense_model_bytes)
    assert probe.arena_bytes % ARENA_ALIGNMENT == 0
    assert probe.recorded_bytes is not None and probe.recorded_bytes > 0
    path = tmp_path / "model.tflite"
    path.write_bytes(dense_model_bytes)
    assert _try_arena(path, probe.arena_bytes, 30)[0]
    worked, message = _try_arena(path, probe.arena_bytes - ARENA_ALIGNMENT, 30)
    assert not worked and message
    # The found size runs in-process too and gives the same scores as a big arena.
    x_int8 = np.zeros((1, 20), dtype=np.int8)
    small = TflmReference(dense_model_bytes, arena_bytes=probe.arena_bytes).invoke(x_int8)
    assert np.array_equal(small, TflmReference(dense_model_bytes).invoke(x_int8))


def test_unsupported_int8_op_is_reported_with_tflms_reason():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="mish"), keras.layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32)
    model_bytes = convert_int8(model, x, n_calibration=30)
    with pytest.raises(TflmError, match="EXP"):
        TflmReference(model_bytes)


def test_stateful_lstm_is_reset_between_windows():
    tf_keras = pytest.importorskip("tf_keras")
    tf_keras.utils.set_random_seed(2)
    model = tf_keras.Sequential([tf_keras.Input((10, 3)), tf_keras.layers.LSTM(8), tf_keras.layers.Dense(4)])
    x = np.random.default_rng(1).normal(size=(30, 10, 3)).astype(np.float32)
    reference = TflmReference(convert_int8(model, x, n_calibration=30))
    window = reference.quantize_input(x[0])
    first = reference.invoke(window)
    reference.invoke(reference.quantize_input(x[1]))
    assert np.array_equal(reference.invoke(window), first)


def test_every_intermediate_tensor_is_readable_when_preserved(dense_model_bytes):
    reference = TflmReference(dense_model_bytes, preserve_all_tensors=True)
    x_int8 = reference.quantize_input(np.random.default_rng(8).normal(size=(20,)))
    scores = reference.invoke(x_int8)
    graph = reference.graph
    assert np.array_equal(reference.tensor(graph.inputs[0])[0], x_int8)
    assert np.array_equal(reference.tensor(graph.outputs[0])[0], scores)
    for op in graph.ops:
        for index in op.outputs:
            assert reference.tensor(index).shape == graph.tensors[index].shape
    with pytest.raises(TflmError, match="out of range"):
        reference.tensor(len(graph.tensors))
