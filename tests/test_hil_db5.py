"""The whole bench on real data: NinaPro DB5 subject 1 (exercise 1), a small Dense
model trained here, int8 + ahead-of-time C, the firmware for mps2-an386 in
QEMU, every 10th test window bit for bit, and the recorded stream.

Slow (minutes: training, the firmware build and a few hundred windows
through the emulated UART); skips without the shared DB5 files or the ARM
toolchain.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from myoedge.toolchain import tools_available

keras = pytest.importorskip("keras")
pytest.importorskip("tflite_micro")
pytest.importorskip("serial", reason="pyserial (the 'host' extra) is not installed")
pytest.importorskip("cmsisdsp", reason="the board-preprocessing reference needs cmsisdsp")

pytestmark = [
    pytest.mark.slow, pytest.mark.qemu, pytest.mark.realdata,
    pytest.mark.skipif(not tools_available(need_qemu=True),
                       reason="arm-none-eabi-gcc / cmake / qemu-system-arm missing (see README set-up)"),
]

BOARD = "mps2-an386"


def _train_run(data_dir: Path, run_dir: Path) -> None:
    """A run folder for DB5 subject 1, exercise 1, with a small Dense model."""
    from myoedge.training.loaders import label_names, load_dataset
    from myoedge.training.preprocess import PreprocessConfig
    from myoedge.training.run import ModelSpec, RunBundle, save_model_splits
    from myoedge.training.windows import concat, make_windows, split_by_repetition

    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    recordings = load_dataset("ninapro-db5", data_dir, 1, 1)
    splits = split_by_repetition(concat([make_windows(r, cfg) for r in recordings]))
    channels = splits["train"].x.shape[2]
    mean = splits["train"].x.reshape(-1, channels).mean(axis=0)
    std = splits["train"].x.reshape(-1, channels).std(axis=0) + 1e-6
    names = list(label_names("ninapro-db5", 1))
    keras.utils.set_random_seed(0)
    inputs = keras.Input(splits["train"].x.shape[1:])
    hidden = keras.layers.Dense(32, activation="relu")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(len(names), activation="softmax")(hidden))
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy")
    model.fit((splits["train"].x - mean) / std, splits["train"].y, epochs=3, batch_size=128, verbose=0)
    run_dir.mkdir(parents=True)
    model.save(run_dir / "model.keras")
    save_model_splits(run_dir, {
        "train": {"x": splits["train"].x, "y": splits["train"].y},
        "validation": {"x": splits["validation"].x, "y": splits["validation"].y},
        "test": {"x": splits["test"].x, "y": splits["test"].y, "raw": splits["test"].raw}})
    RunBundle(
        dataset="ninapro-db5", subject=1, exercise=1,
        model=ModelSpec("dense32", {}, int(model.count_params()), list(splits["train"].x.shape[1:]),
                        len(names), "sequence"),
        label_names=names, preprocess=cfg.to_dict(),
        normalisation={"kind": "standardize", "mean": mean.tolist(), "std": std.tolist()},
        split={"test": [5], "validation": [3], "train": [0, 1, 2, 4, 6]}, train={"epochs": 3},
        data_dir=str(data_dir), seed=0, layout="myo16",
    ).save(run_dir)


def test_db5_windows_bit_exact_in_qemu(shared_data_dir: Path, tmp_path: Path) -> None:
    from myoedge.firmware_build import build_firmware
    from myoedge.hil.bench import run_bench
    from myoedge.hil.windows import export_windows, load_windows, save_windows
    from myoedge.quantize.aot.generate import generate_c
    from myoedge.quantize.pipeline import quantize_run

    run_dir, build_dir, fw_dir = tmp_path / "run", tmp_path / "build", tmp_path / "fw"
    _train_run(shared_data_dir, run_dir)
    quantize_run(run_dir, build_dir, progress=False, n_calibration=200, probe=False)
    if not list(build_dir.glob("*_aot.c")):  # until quantize writes the AOT C itself
        generate_c((build_dir / "model.tflite").read_bytes(), build_dir, name="model")
    build_firmware(BOARD, build_dir, fw_dir)

    full = load_windows(export_windows(run_dir, "test", tmp_path / "windows.npz", build_dir,
                                       progress=False))
    assert full.metadata["bookkeeping"] == "recomputed from the recordings"
    assert full.stream is not None and full.stream.expected_board is not None
    every = np.arange(0, len(full), 10)
    subset = dataclasses.replace(
        full, x_int8=full.x_int8[every], y=full.y[every], scores_int8=full.scores_int8[every],
        start=full.start[every], subject=full.subject[every], repetition=full.repetition[every],
        raw=full.raw[every])
    windows = save_windows(tmp_path / "windows_every10.npz", subset)

    report = run_bench(f"qemu:{BOARD}", fw_dir, windows, tmp_path / "report", stream_seconds=5.0,
                       progress=False)
    assert report.passed, [c.summary for c in report.checks]
    assert report.check("bit_exact").details["bit_exact"] == len(every)
    accuracy = report.check("accuracy").details
    host_accuracy = float(np.mean(subset.scores_int8.argmax(axis=1) == subset.y))
    assert accuracy["device"]["accuracy"] == pytest.approx(host_accuracy)
    assert report.check("stream").details["hops"] > 100
