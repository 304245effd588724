"""Whole-model parity on trained seed models (issue 3): the generated C equals TFLM.

For each seed model family the quantize stage must hold bit-exact -
attention (paper size), attention-compact, S-ConvNet and All-ConvNet - the
test trains the real architecture briefly (one epoch on a slice of the
training windows: parity needs trained, not good, weights), converts it to
full int8, generates the ahead-of-time C the way ``myoedge quantize`` does
(LUT fusion on), compiles it for the host and compares its int8 scores with
the TFLM Python interpreter's on every element of >= 1000 test windows.

Data: the attention models train on NinaPro DB5 subject 1 (exercise 1) when
``../shared/data/ninapro-db5`` (or ``$MYOEDGE_SHARED_DATA``) is present, else
on synthetic Myo data; the ConvNets on synthetic 8 x 16 HD-sEMG frames (no
real CapgMyo here). Synthetic data sets are written into a temporary folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tflite_micro")
pytest.importorskip("keras")

from conftest import find_ninapro_db5  # noqa: E402

# One xdist group for this file: its four models share the data fixtures, and
# `pytest -n 2 --dist loadgroup` then runs them on one worker, beside the rest.
pytestmark = pytest.mark.xdist_group("seed_model_parity")

PARITY_WINDOWS = 1000
TRAIN_WINDOWS = 3000
CALIBRATION = 200
SEED_MODELS = ("attention", "attention-compact", "sconvnet", "allconvnet")


@dataclass
class SplitData:
    """Normalised model inputs of one subject: a training slice and >= PARITY_WINDOWS test windows."""

    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    n_classes: int


def _prepare(dataset: str, data_dir: Path, model_name: str) -> SplitData:
    """Window, split and normalise one subject exactly as ``myoedge train`` does."""
    from myoedge.training import models
    from myoedge.training.recipes import recipe_for
    from myoedge.training.train import fit_normalisation, prepare_data

    input_kind = models.model_input_kind(model_name)
    config = recipe_for(model_name)
    data = prepare_data(dataset, data_dir, 1, 1, input_kind, config, model_name=model_name)
    norm = fit_normalisation(data.inputs["train"], config.normalisation, input_kind)

    def normalise(x: np.ndarray) -> np.ndarray:
        if norm["kind"] == "none":
            return x.astype(np.float32)
        return ((x - np.asarray(norm["mean"], np.float32)) / np.asarray(norm["std"], np.float32)).astype(np.float32)

    rng = np.random.default_rng(0)
    x_train, y_train = data.inputs["train"], data.splits["train"].y
    keep = rng.permutation(len(y_train))[:TRAIN_WINDOWS]
    x_test = data.inputs["test"]
    if len(x_test) > PARITY_WINDOWS:  # spread over the whole repetition, so every class is in
        x_test = x_test[np.linspace(0, len(x_test) - 1, PARITY_WINDOWS).round().astype(int)]
    return SplitData(f"{dataset} subject 1", normalise(x_train[keep]), np.asarray(y_train[keep]),
                     normalise(x_test), len(data.label_names))


@pytest.fixture(scope="module")
def sequence_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(dataset, folder) for the attention models: real DB5 when present, else synthetic Myo."""
    db5 = find_ninapro_db5()
    if db5 is not None:
        return "ninapro-db5", db5
    from myoedge.training.synthetic import write_synthetic_dataset

    folder = tmp_path_factory.mktemp("synthetic-myo16")
    write_synthetic_dataset("myo16", 1, folder, progress=False)
    return "synthetic-myo16", folder


@pytest.fixture(scope="module")
def frame_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(dataset, folder) for the ConvNets: synthetic CapgMyo-style 8 x 16 frames."""
    from myoedge.training.synthetic import write_synthetic_dataset

    folder = tmp_path_factory.mktemp("synthetic-hd8x16")
    write_synthetic_dataset("hd8x16", 1, folder, progress=False)
    return "synthetic-hd8x16", folder


def _train_one_epoch(model_name: str, data: SplitData):
    """The seed architecture at its default size, trained one epoch (weights that mean something)."""
    import keras

    from myoedge.training import models

    keras.utils.set_random_seed(0)
    model = models.build_model(model_name, data.x_train.shape[1:], data.n_classes)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(data.x_train, data.y_train, epochs=1, batch_size=128, verbose=0)
    return model


def _tflm_scores(model_bytes: bytes, x_int8: np.ndarray) -> np.ndarray:
    from myoedge.quantize.tflm_reference import TflmReference

    return TflmReference(model_bytes).run_batch(x_int8).reshape(len(x_int8), -1)


@pytest.mark.parametrize("model_name", SEED_MODELS)
def test_trained_seed_model_is_bit_exact_with_tflm(model_name: str, request: pytest.FixtureRequest) -> None:
    """Every int8 output element of the generated C equals TFLM's on >= 1000 test windows."""
    from myoedge.quantize.aot.host_build import AotModel
    from myoedge.quantize.convert import check_pure_int8, convert_int8
    from myoedge.quantize.tflm_reference import TflmReference

    fixture = "frame_data" if model_name in ("sconvnet", "allconvnet") else "sequence_data"
    dataset, folder = request.getfixturevalue(fixture)
    data = _prepare(dataset, folder, model_name)
    assert len(data.x_test) >= PARITY_WINDOWS, f"{data.source}: only {len(data.x_test)} test windows"

    model = _train_one_epoch(model_name, data)
    model_bytes = convert_int8(model, data.x_train, n_calibration=CALIBRATION)
    check_pure_int8(model_bytes)
    reference = TflmReference(model_bytes)
    x_int8 = reference.quantize_input(data.x_test[:PARITY_WINDOWS])
    expected = _tflm_scores(model_bytes, x_int8)

    aot = AotModel(model_bytes, name=model_name.replace("-", "_"), fuse_lut=True)
    got = aot.run_batch(x_int8).reshape(len(x_int8), -1)

    assert got.shape == expected.shape == (PARITY_WINDOWS, data.n_classes)
    differing = np.flatnonzero(np.any(got != expected, axis=1))
    assert differing.size == 0, (
        f"{model_name} on {data.source}: {differing.size} of {PARITY_WINDOWS} windows differ from TFLM "
        f"(first: window {differing[0]}, max {np.abs(got.astype(int) - expected.astype(int)).max()} LSB)")
    # The scores are not degenerate: the trained model does not answer one constant vector.
    assert len({row.tobytes() for row in got}) > 1
