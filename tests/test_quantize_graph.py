"""The .tflite graph reader on small models converted here."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from myoedge.quantize.convert import convert_int8, find_non_int8_ops  # noqa: E402
from myoedge.quantize.tflite_graph import TfliteGraphError, load_graph  # noqa: E402


@pytest.fixture(scope="module")
def conv_model_bytes() -> bytes:
    """Conv (SAME, stride 2, ReLU) -> depthwise conv (VALID, ReLU6) -> pool -> dense -> softmax."""
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu"),
            keras.layers.DepthwiseConv2D(3, padding="valid", activation="relu6"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
            keras.layers.Softmax(),
        ]
    )
    x = np.random.default_rng(0).normal(size=(40, 8, 8, 2)).astype(np.float32)
    return convert_int8(model, x, n_calibration=40)


def test_ops_and_options_are_decoded(conv_model_bytes):
    graph = load_graph(conv_model_bytes)
    opcodes = [op.opcode for op in graph.ops]
    assert "CONV_2D" in opcodes and "DEPTHWISE_CONV_2D" in opcodes
    assert "FULLY_CONNECTED" in opcodes and opcodes[-1] == "SOFTMAX"
    assert [op.index for op in graph.ops] == list(range(len(graph.ops)))

    conv = next(op for op in graph.ops if op.opcode == "CONV_2D")
    assert conv.options_type == "Conv2DOptions"
    assert conv.options["padding"] == "SAME"
    assert (conv.options["stride_h"], conv.options["stride_w"]) == (2, 2)
    assert conv.options["fused_activation_function"] == "RELU"
    assert conv.options["dilation_h_factor"] == 1
    assert conv.version >= 1

    depthwise = next(op for op in graph.ops if op.opcode == "DEPTHWISE_CONV_2D")
    assert depthwise.options["padding"] == "VALID"
    assert depthwise.options["fused_activation_function"] == "RELU6"
    assert depthwise.options["depth_multiplier"] == 1

    mean = next(op for op in graph.ops if op.opcode == "MEAN")
    assert isinstance(mean.options["keep_dims"], bool)
    axis = graph.tensors[mean.inputs[1]]
    assert sorted(axis.data.tolist()) == [1, 2]

    softmax = graph.ops[-1]
    assert softmax.options["beta"] == pytest.approx(1.0)


def test_tensors_carry_quantisation_and_constant_data(conv_model_bytes):
    graph = load_graph(conv_model_bytes)
    (inp,) = graph.input_tensors
    (out,) = graph.output_tensors
    assert inp.shape == (1, 8, 8, 2) and inp.type_name == "INT8" and inp.dtype == np.int8
    assert out.shape == (1, 4) and out.type_name == "INT8"
    # Softmax output: the converter fixes scale 1/256, zero point -128.
    assert out.scale == pytest.approx(1 / 256) and out.zero_point == -128
    assert inp.data is None and not inp.is_constant

    conv = next(op for op in graph.ops if op.opcode == "CONV_2D")
    weights = graph.tensors[conv.inputs[1]]
    bias = graph.tensors[conv.inputs[2]]
    assert weights.shape == (6, 3, 3, 2) and weights.data.dtype == np.int8
    assert weights.is_per_channel and weights.scales.shape == (6,) and weights.quantized_dimension == 0
    assert np.all(weights.zero_points == 0)
    assert bias.type_name == "INT32" and bias.data.shape == (6,)
    # Bias scale is input scale x weight scale, per channel.
    assert np.allclose(bias.scales, inp.scale * weights.scales, rtol=1e-5)
    with pytest.raises(TfliteGraphError, match="6 scales"):
        _ = weights.scale
    with pytest.raises(ValueError):
        weights.data[0, 0, 0, 0] = 1  # read-only view

    assert graph.producer(graph.inputs[0]) is None
    assert graph.consumers(graph.outputs[0]) == []
    assert graph.producer(graph.outputs[0]).opcode == "SOFTMAX"
    histogram = graph.opcode_histogram()
    assert sum(histogram.values()) == len(graph.ops)


def test_graph_agrees_with_the_tflm_interpreter(conv_model_bytes):
    from tflite_micro.python.tflite_micro import runtime

    graph = load_graph(conv_model_bytes)
    interpreter = runtime.Interpreter.from_bytes(conv_model_bytes, arena_size=1 << 20)
    details = interpreter.get_input_details(0)
    assert tuple(details["shape"]) == graph.input_tensors[0].shape
    assert details["quantization_parameters"]["scales"][0] == pytest.approx(graph.input_tensors[0].scale)
    assert details["quantization_parameters"]["zero_points"][0] == graph.input_tensors[0].zero_point


def test_fused_lstm_from_tf_keras_is_one_op_and_pure_int8():
    tf_keras = pytest.importorskip("tf_keras")
    tf_keras.utils.set_random_seed(2)
    model = tf_keras.Sequential(
        [tf_keras.Input((10, 3)), tf_keras.layers.LSTM(8), tf_keras.layers.Dense(4)]
    )
    x = np.random.default_rng(1).normal(size=(30, 10, 3)).astype(np.float32)
    graph = load_graph(convert_int8(model, x, n_calibration=30))
    lstm = [op for op in graph.ops if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert len(lstm) == 1
    assert lstm[0].options["time_major"] is False
    assert lstm[0].options["fused_activation_function"] == "TANH"
    cell_state = graph.tensors[lstm[0].inputs[19]]
    assert cell_state.type_name == "INT16" and cell_state.is_variable
    assert find_non_int8_ops(graph) == []  # int16 cell state is allowed


def test_garbage_and_multi_subgraph_models_are_refused(tmp_path):
    import tensorflow as tf

    with pytest.raises(TfliteGraphError, match="TFL3"):
        load_graph(b"\x00" * 64)
    with pytest.raises(TfliteGraphError, match="no such"):
        load_graph(tmp_path / "missing.tflite")

    # A Keras 3 LSTM converts to a WHILE loop: a second subgraph.
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(3)])
    module = tf.Module()
    module.v = [v.value for v in model.variables]
    serve = tf.function(lambda x: model(x), input_signature=[tf.TensorSpec((1, 5, 2), tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], module)
    with pytest.raises(TfliteGraphError, match="subgraphs"):
        load_graph(converter.convert())
