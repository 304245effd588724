"""The HIL bench against the real firmware in QEMU (mps2-an386), with faults.

The firmware is built with a stand-in model (the C twin of
``myoedge.host.fake_board.StubModel``) and a small preprocessing manifest, so
the test needs no TensorFlow; the windows file is written from the Python
stub model and the host copy of the board's preprocessing. QEMU is killed
mid-run to check that the bench restarts it and resumes without losing or
repeating a window; two instances share the windows in a second run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myoedge.toolchain import tools_available

pytest.importorskip("serial", reason="pyserial (the 'host' extra) is not installed")
pytest.importorskip("cmsisdsp", reason="the host copy of the board preprocessing needs cmsisdsp")

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not tools_available(need_qemu=True),
                       reason="arm-none-eabi-gcc / cmake / qemu-system-arm missing (see README set-up)"),
]

BOARD = "mps2-an386"
CLASSES = 5
MODEL_HASH = "00112233aabbccdd"

STUB_MODEL_C = """\
#include <stdint.h>
#include "model_manifest.h"
/* Stand-in for the AOT model: the C twin of fake_board.StubModel. */
int mye_model_invoke(const int8_t *input, int8_t *output)
{
    for (int k = 0; k < MYE_OUTPUT_SIZE; k++) {
        int32_t acc = k;
        for (int i = 0; i < MYE_INPUT_SIZE; i++) {
            acc += (int32_t)input[i] * (((i + k) % 3) - 1);
        }
        output[k] = (int8_t)(acc > 127 ? 127 : (acc < -128 ? -128 : acc));
    }
    return 0;
}
"""


def _model_dir(folder: Path):
    from myoedge.board_preprocess import manifest_macros, params_from_manifest
    from myoedge.training.preprocess import PreprocessConfig

    config = PreprocessConfig(sampling_rate_hz=200.0, rectify=True, highpass_hz=20.0,
                              highpass_order=2, window=8, step=4, moving_average=3)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "model_manifest.h"
    manifest.write_text("\n".join([
        "#ifndef MYE_MODEL_MANIFEST_H", "#define MYE_MODEL_MANIFEST_H",
        '#define MYE_MODEL_NAME "stub"', f'#define MYE_MODEL_HASH_HEX "{MODEL_HASH}"',
        f"#define MYE_OUTPUT_SIZE {CLASSES}", "#define MYE_OUTPUT_SCALE 0.25f",
        "#define MYE_OUTPUT_ZERO_POINT 1", f"#define MYE_N_CLASSES {CLASSES}",
        manifest_macros(config, 2, 0.5, -3), "#endif", ""]))
    (folder / "stub_model.c").write_text(STUB_MODEL_C)
    return params_from_manifest(manifest)


def _windows(params, path: Path, n: int = 60) -> Path:
    from myoedge.board_preprocess import BoardPreprocessor
    from myoedge.hil.windows import FORMAT, RecordedStream, RecordedWindows, save_windows
    from myoedge.host.fake_board import StubModel
    from myoedge.host.protocol import predicted_class

    rng = np.random.default_rng(3)
    model = StubModel(CLASSES)
    x = rng.integers(-128, 128, size=(n, params.output_steps, params.channels)).astype(np.int8)
    scores = np.stack([model(w.ravel()) for w in x])
    samples = (rng.normal(size=(400, params.channels)) * 30).astype(np.float32)
    _, stream_windows = BoardPreprocessor(params).push(samples)
    expected = np.array([predicted_class(model(w.ravel())) for w in stream_windows])
    positions = params.window + params.step * np.arange(len(expected))
    metadata = {"format": FORMAT, "model_hash": MODEL_HASH, "model_name": "stub",
                "label_names": [f"g{k}" for k in range(CLASSES)], "sampling_rate_hz": 200.0}
    windows = RecordedWindows(
        x_int8=x, y=scores.argmax(axis=1).astype(np.int64), scores_int8=scores,
        start=np.arange(n) * 4, subject=np.ones(n, dtype=np.int64), repetition=np.full(n, 5),
        metadata=metadata, raw=(rng.normal(size=(n, params.window, params.channels)) * 20).astype(np.float32),
        stream=RecordedStream(samples, positions, expected, expected, expected))
    return save_windows(path, windows)


@pytest.fixture(scope="module")
def bench_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from myoedge.firmware_build import build_firmware

    root = tmp_path_factory.mktemp("hil-qemu")
    params = _model_dir(root / "model")
    build_firmware(BOARD, root / "model", root / "fw")
    return root / "fw", _windows(params, root / "windows.npz")


def test_qemu_bench_passes_and_survives_a_killed_instance(bench_inputs, tmp_path: Path) -> None:
    from myoedge.hil.bench import run_bench
    from myoedge.host.client import open_board

    firmware, windows = bench_inputs
    opened: list = []
    state = {"inferences": 0}

    def opener(target: str, **options):
        client = open_board(target, **options)
        opened.append(client)
        infer = client.infer

        def infer_then_maybe_kill(*args, **kwargs):
            state["inferences"] += 1
            if state["inferences"] == 25:  # QEMU dies under the 25th window
                client._owned.process.kill()
            return infer(*args, **kwargs)

        client.infer = infer_then_maybe_kill
        return client

    report = run_bench(f"qemu:{BOARD}", firmware, windows, tmp_path / "r", stream_seconds=2.0,
                       timeout=3.0, retries=1, progress=False, opener=opener)
    assert report.passed, [c.summary for c in report.checks]
    complete = report.check("complete")
    assert complete.details["answered"] == 60 and complete.details["duplicates"] == 0
    assert any("window #24" in text for text in complete.details["incidents"])
    assert len(opened) == 2  # the killed instance was replaced once
    assert all(c._owned is None for c in opened)  # every QEMU stopped
    latency = {row["stage"]: row for row in report.figures["latency"]["stages"]}
    assert latency["network"]["unit"] == "instructions" and latency["network"]["min"] > 0
    assert report.check("stream").passed and report.check("stream").details["hops"] == 99
    assert report.check("energy").passed  # mps2-an386 has a (stand-in) profile
    assert report.figures["bench"]["raw_window"]["preprocess"]["median"] > 0


def test_two_qemu_instances_share_the_windows(bench_inputs, tmp_path: Path) -> None:
    from myoedge.hil.bench import run_bench

    firmware, windows = bench_inputs
    report = run_bench(f"qemu:{BOARD}", firmware, windows, tmp_path / "r", boards=2,
                       stream_seconds=0.5, timeout=5.0, progress=False)
    assert report.passed, [c.summary for c in report.checks]
    assert [(s["first"], s["stop"], s["answered"]) for s in report.figures["shards"]] == \
        [(0, 30, 30), (30, 60, 30)]


def test_a_frozen_qemu_times_out_and_is_replaced(bench_inputs, tmp_path: Path) -> None:
    import os
    import signal

    from myoedge.hil.bench import run_bench
    from myoedge.host.client import open_board

    firmware, windows = bench_inputs
    state = {"inferences": 0}

    def opener(target: str, **options):
        client = open_board(target, **options)
        infer = client.infer

        def infer_then_maybe_freeze(*args, **kwargs):
            state["inferences"] += 1
            if state["inferences"] == 10:  # the board hangs: no crash, no answer
                os.kill(client._owned.process.pid, signal.SIGSTOP)
            return infer(*args, **kwargs)

        client.infer = infer_then_maybe_freeze
        return client

    report = run_bench(f"qemu:{BOARD}", firmware, windows, tmp_path / "r", stream_seconds=0.5,
                       timeout=1.5, retries=0, progress=False, opener=opener)
    assert report.passed, [c.summary for c in report.checks]
    incidents = report.check("complete").details["incidents"]
    assert any("window #9" in text and "BoardTimeout" in text for text in incidents)
