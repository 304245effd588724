"""Seed models: shapes, parameter and MAC counts, exportable layers, save/load, pure-int8 export."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from myoedge.training.models import (  # noqa: E402
    MODEL_NAMES,
    FeedForwardAttention,
    HardMish,
    LayerNorm,
    Mish,
    build_model,
    count_macs,
    model_defaults,
    model_input_kind,
)

SEQUENCE_SHAPE = (38, 16)
IMAGE_SHAPE = (8, 16, 1)
# Ops the ahead-of-time C engine implements (issue 3); every seed model must stay inside this set.
AOT_OPS = {
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE",
    "TRANSPOSE", "MEAN", "SUM", "ADD", "SUB", "MUL", "DIV", "RSQRT", "LOGISTIC", "TANH", "SOFTMAX",
    "HARD_SWISH", "STRIDED_SLICE", "QUANTIZE", "DEQUANTIZE", "UNIDIRECTIONAL_SEQUENCE_LSTM",
}


def _input_shape(name: str) -> tuple[int, ...]:
    return SEQUENCE_SHAPE if model_input_kind(name) == "sequence" else IMAGE_SHAPE


def _dense(inputs: int, units: int) -> int:
    return inputs * units + units


def _attention_params(steps, channels, units, classifier, n_classes, layer_norm=True):
    """Parameter count of the attention model written out layer by layer."""
    total = _dense(channels, units) + (2 * units if layer_norm else 0)  # expansion + LayerNorm
    total += _dense(steps, steps)  # feed-forward attention: Dense(T) over time
    width = units
    for size in classifier:
        total += _dense(width, size) + (2 * size if layer_norm else 0)
        width = size
    return total + _dense(width, n_classes)


# ------------------------------------------------------------ exportable layers


def test_exportable_mish_equals_keras_mish():
    x = np.concatenate([np.linspace(-20, 20, 4001), [-80.0, -30.0, 30.0, 80.0]]).astype(np.float32)
    ours = keras.ops.convert_to_numpy(Mish()(x))
    reference = keras.ops.convert_to_numpy(keras.activations.mish(x))
    np.testing.assert_allclose(ours, reference, atol=1e-5, rtol=1e-5)
    assert np.all(np.isfinite(ours))


def test_hard_mish_is_the_piecewise_formula():
    x = np.linspace(-6, 6, 1201).astype(np.float32)
    expected = 0.5 * x * np.clip(x + 2, 0, 2)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(HardMish()(x)), expected, atol=1e-6)
    mish = keras.ops.convert_to_numpy(keras.activations.mish(x))
    assert 0.05 < np.abs(expected - mish).max() < 0.35  # an approximation, not Mish itself


def test_layer_norm_equals_keras_layer_normalization_with_copied_weights():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 38, 24)) * 3 + 1).astype(np.float32)
    reference = keras.layers.LayerNormalization(epsilon=1e-5)
    reference.build(x.shape)
    reference.set_weights([rng.standard_normal(24).astype(np.float32), rng.standard_normal(24).astype(np.float32)])
    ours = LayerNorm(epsilon=1e-5)
    ours.build(x.shape)
    assert [w.name for w in ours.weights] == [w.name for w in reference.weights] == ["gamma", "beta"]
    ours.set_weights(reference.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ours(x)), keras.ops.convert_to_numpy(reference(x)), atol=2e-5, rtol=1e-5
    )


def _numpy_softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_feedforward_attention_matches_its_definition():
    rng = np.random.default_rng(1)
    h = rng.standard_normal((3, 7, 5)).astype(np.float32)
    layer = FeedForwardAttention("feedforward")
    out = keras.ops.convert_to_numpy(layer(h))
    kernel, bias = layer.get_weights()  # Dense(T) over time: kernel (T, T)
    scores = np.einsum("btd,ts->bsd", h, kernel) + bias[None, :, None]  # per feature d: Dense over t
    weights = _numpy_softmax(scores, axis=1)  # softmax over time
    np.testing.assert_allclose(out, np.sum(h * weights, axis=1), atol=1e-5)
    assert np.allclose(weights.sum(axis=1), 1.0)


def test_raffel_attention_matches_its_definition():
    rng = np.random.default_rng(2)
    h = rng.standard_normal((3, 7, 5)).astype(np.float32)
    layer = FeedForwardAttention("raffel")
    out = keras.ops.convert_to_numpy(layer(h))
    kernel, bias = layer.get_weights()  # a(h_t) = tanh(w . h_t + b)
    energy = np.tanh(h @ kernel[:, 0] + bias[0])  # (batch, T)
    alpha = _numpy_softmax(energy, axis=1)
    np.testing.assert_allclose(out, np.sum(h * alpha[..., None], axis=1), atol=1e-5)


def test_sum_attention_and_bad_kind():
    h = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(FeedForwardAttention("sum")(h)), h.sum(axis=1))
    with pytest.raises(ValueError, match="attention kind"):
        FeedForwardAttention("bahdanau")


# ---------------------------------------------------------------- model zoo


def test_registry_names_kinds_and_unknown_name():
    assert set(MODEL_NAMES) >= {"attention", "attention-compact", "sconvnet", "allconvnet"}
    assert model_input_kind("attention") == "sequence" and model_input_kind("sconvnet") == "image"
    with pytest.raises(ValueError, match="attention-compact"):
        build_model("resnet50", SEQUENCE_SHAPE, 53)
    with pytest.raises(ValueError, match="known models"):
        model_input_kind("nope")


def test_paper_attention_model_size_and_macs():
    model = build_model("attention", SEQUENCE_SHAPE, 53)
    assert model.output_shape == (None, 53)
    expected = _attention_params(38, 16, 128, (500, 500, 2000), 53)
    assert model.count_params() == expected
    assert abs(model.count_params() - 1.43e6) / 1.43e6 < 0.05
    # Dense/Conv MACs: expansion T*C*128, attention D*T*T, classifier, output layer.
    macs = 38 * 16 * 128 + 128 * 38 * 38 + 128 * 500 + 500 * 500 + 500 * 2000 + 2000 * 53
    assert count_macs(model) == macs


def test_compact_attention_fits_the_board_budget():
    model = build_model("attention-compact", SEQUENCE_SHAPE, 53)
    defaults = model_defaults("attention-compact")
    expected = _attention_params(38, 16, defaults["expansion_units"], defaults["classifier"], 53)
    assert model.count_params() == expected <= 200_000
    assert count_macs(model) <= 500_000
    # Largest activation: one (T, units) tensor, one byte per element in int8.
    assert 38 * defaults["expansion_units"] <= 8 * 1024


@pytest.mark.parametrize(
    "options, params",
    [
        ({"expansion": "none"}, _attention_params(38, 16, 16, (256, 256), 13) - _dense(16, 16) - 32),
        ({"layer_norm": False}, _attention_params(38, 16, 64, (256, 256), 13, layer_norm=False)),
        ({"classifier": ()}, _attention_params(38, 16, 64, (), 13)),
        ({"attention": "sum"}, _attention_params(38, 16, 64, (256, 256), 13) - _dense(38, 38)),
        ({"attention": "raffel"}, _attention_params(38, 16, 64, (256, 256), 13) - _dense(38, 38) + _dense(64, 1)),
        ({"expansion": "conv1d"}, _attention_params(38, 16, 64, (256, 256), 13) + 2 * 16 * 64),
        ({"activation": "relu"}, _attention_params(38, 16, 64, (256, 256), 13)),
    ],
)
def test_attention_ablations_shapes_and_params(options, params):
    model = build_model("attention-compact", SEQUENCE_SHAPE, 13, **options)
    assert model.output_shape == (None, 13)
    assert model.count_params() == params
    out = keras.ops.convert_to_numpy(model(np.zeros((2, *SEQUENCE_SHAPE), np.float32)))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_convnet_shapes_and_params():
    bn = lambda channels: 4 * channels  # noqa: E731  gamma, beta, moving mean, moving variance
    sconv = build_model("sconvnet", IMAGE_SHAPE, 8)
    assert sconv.output_shape == (None, 8)
    assert sconv.count_params() == (
        bn(1) + 9 * 1 * 32 + bn(32) + 9 * 32 * 32 + bn(32) + 9 * 32 * 64 + bn(64)
        + _dense(2 * 4 * 64, 128) + _dense(128, 8)
    )
    assert count_macs(sconv) == (
        8 * 16 * 32 * 9 + 8 * 16 * 32 * 9 * 32 + 4 * 8 * 64 * 9 * 32 + 512 * 128 + 128 * 8
    )
    allconv = build_model("allconvnet", IMAGE_SHAPE, 8)
    assert allconv.output_shape == (None, 8)
    assert allconv.count_params() == (
        bn(1) + 9 * 32 + bn(32) + 9 * 32 * 32 + bn(32) + 9 * 32 * 64 + bn(64)
        + 9 * 64 * 64 + bn(64) + 9 * 64 * 64 + bn(64) + _dense(64, 8)
    )
    assert not any(isinstance(layer, (keras.layers.Dense, keras.layers.MaxPooling2D)) for layer in allconv.layers)
    with pytest.raises(ValueError, match="rows, cols"):
        build_model("sconvnet", (8, 16), 8)


@pytest.mark.parametrize("name", ["attention-compact", "sconvnet", "allconvnet", "attention"])
def test_save_load_round_trip_safe_mode(name, tmp_path):
    options = {"classifier": (32, 64)} if name == "attention" else {}
    model = build_model(name, _input_shape(name), 5, **options)
    x = np.random.default_rng(3).standard_normal((4, *_input_shape(name))).astype(np.float32)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
    assert restored.count_params() == model.count_params()


def test_save_load_round_trip_of_ablation_layers(tmp_path):
    model = build_model(
        "attention-compact", SEQUENCE_SHAPE, 4, expansion="conv1d", attention="raffel", activation="hard_mish",
        classifier=(16,),
    )
    x = np.random.default_rng(4).standard_normal((3, *SEQUENCE_SHAPE)).astype(np.float32)
    path = tmp_path / "ablation.keras"
    model.save(path)
    restored = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------- pure-int8 export


def _convert_int8(model: keras.Model, n_representative: int = 16) -> bytes:
    """The quantize stage's own conversion, on random representative inputs."""
    from myoedge.quantize.convert import convert_int8

    rng = np.random.default_rng(0)
    representative = rng.standard_normal((n_representative, *model.inputs[0].shape[1:])).astype(np.float32)
    return convert_int8(model, representative, n_calibration=n_representative)


def _interpreter(tflite: bytes):
    """LiteRT interpreter without delegates, so op names are the graph's own (no DELEGATE node)."""
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = litert.Interpreter(
        model_content=tflite, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    interpreter.allocate_tensors()
    return interpreter


def _graph_problems(interpreter) -> list[str]:
    """Tensors that break the pure-int8 rule: any float/int16 tensor, any op output that is not int8."""
    tensors = interpreter.get_tensor_details()
    problems = [
        f"tensor {t['name']} is {np.dtype(t['dtype']).name}"
        for t in tensors
        if np.dtype(t["dtype"]) in (np.float32, np.float16, np.float64, np.int16)
    ]
    by_index = {t["index"]: t for t in tensors}
    for op in interpreter._get_ops_details():
        for index in op["outputs"]:
            dtype = np.dtype(by_index[index]["dtype"])
            if dtype != np.int8:
                problems.append(f"{op['op_name']} output {by_index[index]['name']} is {dtype.name}")
    return problems


def _randomise_batch_norm(model: keras.Model, rng: np.random.Generator) -> None:
    """Give every BatchNorm non-trivial statistics so folding them is actually exercised."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                rng.normal(0, 0.2, beta.shape).astype(np.float32),
                rng.normal(0, 0.2, mean.shape).astype(np.float32),
                rng.uniform(0.5, 2.0, variance.shape).astype(np.float32),
            ])


def _tflm_outputs(tflite: bytes, x: np.ndarray) -> np.ndarray:
    """Dequantised outputs from the TFLite Micro Python interpreter (the oracle for what a board computes).

    LiteRT's reference kernels are not used here: on the LayerNorm graphs they
    drift from TFLM (mean probability error ~0.02 against ~0.003).
    """
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    interpreter = runtime.Interpreter.from_bytes(tflite)
    inp, out = interpreter.get_input_details(0), interpreter.get_output_details(0)
    in_scale = inp["quantization_parameters"]["scales"][0]
    in_zero = inp["quantization_parameters"]["zero_points"][0]
    out_scale = out["quantization_parameters"]["scales"][0]
    out_zero = out["quantization_parameters"]["zero_points"][0]
    results = []
    for window in x:
        q = np.clip(np.round(window / in_scale) + in_zero, -128, 127).astype(np.int8)[None]
        interpreter.set_input(q, 0)
        interpreter.invoke()
        results.append((interpreter.get_output(0)[0].astype(np.float32) - out_zero) * out_scale)
    return np.stack(results)


@pytest.mark.parametrize(
    "name, options, n_classes",
    [
        ("attention-compact", {}, 53),
        ("sconvnet", {}, 8),
        ("allconvnet", {}, 8),
        ("attention-compact", {"expansion": "conv1d", "attention": "raffel", "classifier": (32,)}, 13),
        ("attention-compact", {"attention": "sum", "activation": "hard_mish", "classifier": (32,)}, 13),
        ("attention-compact", {"activation": "relu", "expansion": "none", "classifier": (32,)}, 13),
    ],
)
def test_full_int8_conversion_is_pure_int8(name, options, n_classes):
    keras.utils.set_random_seed(0)
    model = build_model(name, _input_shape(name), n_classes, **options)
    rng = np.random.default_rng(5)
    _randomise_batch_norm(model, rng)
    tflite = _convert_int8(model)
    interpreter = _interpreter(tflite)
    assert _graph_problems(interpreter) == []
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert ops <= AOT_OPS, f"ops outside the AOT engine's set: {sorted(ops - AOT_OPS)}"
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    assert tuple(inp["shape"]) == (1, *_input_shape(name)) and tuple(out["shape"]) == (1, n_classes)
    # The int8 graph computes the same function: dequantised probabilities close to float.
    x = rng.standard_normal((8, *_input_shape(name))).astype(np.float32)
    float_out = model.predict(x, verbose=0)
    int8_out = _tflm_outputs(tflite, x)
    assert np.abs(int8_out - float_out).mean() < 0.01


def test_count_macs_of_other_layer_kinds():
    inputs = keras.Input((50, 12))
    x = keras.layers.Conv1D(16, 5, padding="valid")(inputs)  # 46 x 16 outputs, 5 * 12 MACs each
    x = keras.layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same")(x)  # 46 x 32 outputs, 3 MACs each
    x = keras.layers.SeparableConv1D(8, 3, padding="same")(x)  # depthwise 46*32*3 + pointwise 46*32*8
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(4)(x)
    model = keras.Model(inputs, outputs)
    expected = 46 * 16 * 5 * 12 + 46 * 32 * 3 + (46 * 32 * 3 + 46 * 32 * 8) + 8 * 4
    assert count_macs(model) == expected
    nested = keras.Sequential([keras.Input((50, 12)), model])
    assert count_macs(nested) == expected


def test_compact_attention_learns_a_separable_task_with_the_seed_recipe():
    from myoedge.training.losses import FocalLoss
    from myoedge.training.optimizers import DelayedCosine, Ranger

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=240)
    # Class k raises the amplitude of channels 4k..4k+3: learnable, not trivial for a fresh net.
    gains = np.ones((240, 1, 16), np.float32)
    for k in range(3):
        gains[y == k, :, 4 * k : 4 * k + 4] = 3.0
    x = (np.abs(rng.standard_normal((240, *SEQUENCE_SHAPE))) * gains).astype(np.float32)
    model = build_model("attention-compact", SEQUENCE_SHAPE, 3, expansion_units=16, classifier=(32,))
    model.compile(
        optimizer=Ranger(learning_rate=DelayedCosine(1e-2, flat_steps=20, decay_steps=40)),
        loss=FocalLoss(),
        metrics=["accuracy"],
    )
    model.fit(x[:200], y[:200], batch_size=20, epochs=6, verbose=0)
    accuracy = float(np.mean(model.predict(x[200:], verbose=0).argmax(axis=1) == y[200:]))
    assert accuracy > 0.9
