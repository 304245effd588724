"""The ``edge`` model (issue 6): shape, int8 export with the AOT engine's ops only, the device budget,
and its recipe's preprocessing reaching the run bundle."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myoedge.training.recipes import PREPROCESS_OVERRIDES, preprocess_overrides_for, recipe_for

DB5_SHAPE = (52, 16)  # NinaPro DB5 window of 52 samples, 16 channels, unrectified, no moving average
DB5_CLASSES = 13  # exercise 1 with rest

# Ops the ahead-of-time C engine implements (issue 6's hard rule).
AOT_OPS = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE",
    "TRANSPOSE", "MEAN", "SUM", "ADD", "SUB", "MUL", "DIV", "RSQRT", "LOGISTIC", "TANH", "SOFTMAX",
    "HARD_SWISH", "STRIDED_SLICE", "QUANTIZE", "DEQUANTIZE",
})
MAX_MACS = 500_000
MAX_WEIGHTS_BYTES = 256 * 1024
MAX_ARENA_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def edge_model():
    from myoedge.training.models import build_model

    return build_model("edge", DB5_SHAPE, DB5_CLASSES)


@pytest.fixture(scope="module")
def edge_int8(edge_model) -> bytes:
    from myoedge.quantize.convert import convert_int8

    rng = np.random.default_rng(0)
    representative = rng.standard_normal((32, *DB5_SHAPE)).astype(np.float32)
    return convert_int8(edge_model, representative, n_calibration=32)


def test_edge_builds_at_db5_shape(edge_model):
    assert tuple(edge_model.inputs[0].shape[1:]) == DB5_SHAPE
    assert tuple(edge_model.outputs[0].shape[1:]) == (DB5_CLASSES,)
    scores = np.asarray(edge_model(np.zeros((2, *DB5_SHAPE), np.float32), training=False))
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
    assert 5_000 < edge_model.count_params() < 100_000


def test_edge_rejects_bad_options():
    from myoedge.training.models import build_model

    with pytest.raises(ValueError, match="equal length"):
        build_model("edge", DB5_SHAPE, DB5_CLASSES, filters=(8, 8), kernel_sizes=(3,), pools=(1,))
    with pytest.raises(ValueError, match="below one"):
        build_model("edge", DB5_SHAPE, DB5_CLASSES, feature_pool=4, filters=(8,), kernel_sizes=(3,), pools=(64,))
    with pytest.raises(ValueError, match=r"\(time, channels\)"):
        build_model("edge", (8, 16, 1), DB5_CLASSES)


def test_edge_separable_variant_builds():
    from myoedge.training.models import build_model

    model = build_model("edge", DB5_SHAPE, DB5_CLASSES, separable=True, filters=(32, 32), kernel_sizes=(3, 3),
                        pools=(2, 1))
    assert tuple(model.outputs[0].shape[1:]) == (DB5_CLASSES,)


def test_edge_int8_uses_only_aot_ops_and_is_pure_int8(edge_int8):
    from myoedge.quantize.convert import check_pure_int8
    from myoedge.quantize.tflite_graph import load_graph

    graph = load_graph(edge_int8)
    ops = set(graph.opcode_histogram())
    assert ops <= AOT_OPS, f"ops outside the AOT engine: {sorted(ops - AOT_OPS)}"
    assert {"DEPTHWISE_CONV_2D", "CONV_2D", "FULLY_CONNECTED"} <= ops
    check_pure_int8(graph)


def test_edge_int8_fits_the_device_budget(edge_int8):
    from myoedge.quantize.report import graph_costs
    from myoedge.quantize.tflite_graph import load_graph

    costs = graph_costs(load_graph(edge_int8))
    assert 0 < costs.macs <= MAX_MACS, costs.macs_by_op
    assert 0 < costs.weights_bytes <= MAX_WEIGHTS_BYTES


def test_edge_int8_arena_fits_the_device_budget(edge_int8):
    pytest.importorskip("tflite_micro")
    from myoedge.quantize.tflm_reference import probe_arena_bytes

    arena = probe_arena_bytes(edge_int8)
    assert 0 < arena <= MAX_ARENA_BYTES


def test_edge_keras_macs_match_the_int8_graph(edge_model, edge_int8):
    from myoedge.quantize.report import graph_costs
    from myoedge.quantize.tflite_graph import load_graph
    from myoedge.training.models import count_macs

    assert count_macs(edge_model) == graph_costs(load_graph(edge_int8)).macs


def test_preprocess_overrides_merge_under_the_user():
    assert preprocess_overrides_for("edge") == {"rectify": False, "moving_average": 1}
    assert preprocess_overrides_for("edge", {"moving_average": 3, "highpass_hz": 2.0}) == {
        "rectify": False, "moving_average": 3, "highpass_hz": 2.0}
    assert preprocess_overrides_for("attention", {"window": 60}) == {"window": 60}
    assert preprocess_overrides_for(None) == {}
    before = dict(PREPROCESS_OVERRIDES["edge"])
    preprocess_overrides_for("edge", {"rectify": True})
    assert PREPROCESS_OVERRIDES["edge"] == before  # the table is never mutated


def test_edge_recipe_is_registered():
    recipe = recipe_for("edge")
    assert (recipe.loss, recipe.optimizer) == ("crossentropy", "adam")


def test_recipe_preprocessing_reaches_the_bundle(tmp_path):
    from myoedge.training.synthetic import write_synthetic_dataset
    from myoedge.training.train import train_run

    data_dir = tmp_path / "data"
    write_synthetic_dataset("myo16", 1, data_dir, progress=False, gestures=3)  # small: rest + 3 moves
    run = tmp_path / "run"
    train_run("synthetic-myo16", data_dir, 1, "edge", run, epochs=1, progress=False)
    bundle = json.loads((run / "bundle.json").read_text())
    assert bundle["preprocess"]["rectify"] is False
    assert bundle["preprocess"]["moving_average"] == 1
    assert bundle["model"]["input_shape"] == [bundle["preprocess"]["window"], 16]

    user = tmp_path / "run_user"
    train_run("synthetic-myo16", data_dir, 1, "edge", user, epochs=1, progress=False,
              preprocess_overrides={"moving_average": 3})
    bundle = json.loads((user / "bundle.json").read_text())
    assert bundle["preprocess"]["rectify"] is False  # from the recipe
    assert bundle["preprocess"]["moving_average"] == 3  # the user's value wins
    assert bundle["model"]["input_shape"] == [bundle["preprocess"]["window"] - 2, 16]
