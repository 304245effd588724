"""The firmware's streaming preprocessing: bit-exact with the host reference, close to training.

preprocess.c is compiled for the host (and, under QEMU, for the board) against
a manifest header written by ``manifest_macros``; its windows must equal
``BoardPreprocessor``'s to the last bit, float and int8.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from firmware_host_build import compile_host, host_cc
from myoedge.board_preprocess import (
    TRAINING_TOLERANCE,
    BoardPreprocessor,
    cmsis_coefficients,
    manifest_macros,
    params_from_manifest,
    preprocess_raw_window,
    quantize,
    round_half_away,
)
from myoedge.boards import FIRMWARE_DIR
from myoedge.training.preprocess import PreprocessConfig, highpass_sos, preprocess_stream

pytest.importorskip("cmsisdsp", reason="the cmsisdsp package (extra 'dsp') is not installed")

DB5_DIR = Path(os.environ.get("MYOEDGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "ninapro-db5"
needs_cc = pytest.mark.skipif(host_cc() is None, reason="no host C compiler")


def _manifest(tmp_path: Path, cfg: PreprocessConfig, channels: int, scale: float, zero_point: int,
              mean=None, std=None, channel_order=None):
    """Write model/model_manifest.h as the quantize stage would; return (folder, params read back)."""
    folder = tmp_path / "model"
    folder.mkdir(parents=True, exist_ok=True)
    text = manifest_macros(cfg, channels, scale, zero_point, mean, std, channel_order)
    (folder / "model_manifest.h").write_text('#define MYE_MODEL_NAME "pp-test"\n' + text)
    return folder, params_from_manifest(folder / "model_manifest.h")


def _attention_params(tmp_path: Path, normalise: bool = True, per_element: bool = False):
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    rng = np.random.default_rng(7)
    size = 38 * 16 if per_element else 16
    mean = rng.uniform(0.0, 2.0, size) if normalise else None
    std = rng.uniform(0.5, 3.0, size) if normalise else None
    folder, params = _manifest(tmp_path, cfg, 16, 0.05, -100, mean, std)
    return cfg, folder, params


def _zscore_params(tmp_path: Path):
    cfg = PreprocessConfig(sampling_rate_hz=2000.0, window=40, step=7, zscore_window=True)
    folder, params = _manifest(tmp_path, cfg, 12, 0.03, 3)
    return cfg, folder, params


def _grid_params(tmp_path: Path):
    """An HD-sEMG image model's preprocessing: single 128-channel frames, reordered into the 8 x 16 grid."""
    from myoedge.training.recording import HD8X16

    cfg = PreprocessConfig(sampling_rate_hz=1000.0, window=1, step=1, moving_average=1, frames=True)
    rng = np.random.default_rng(11)
    mean = rng.uniform(-1.0, 1.0, 128)  # per grid position, as training fits them on the images
    std = rng.uniform(0.5, 3.0, 128)
    folder, params = _manifest(tmp_path, cfg, 128, 0.05, 2, mean, std, np.array(HD8X16.channel_order))
    return cfg, folder, params


def _harness(tmp_path: Path, folder: Path) -> Path:
    sources = [FIRMWARE_DIR / "host_tests" / "pp_harness.c", FIRMWARE_DIR / "src" / "preprocess.c",
               FIRMWARE_DIR / "src" / "ringbuf.c"]
    return compile_host(tmp_path / "pp_harness", sources, [folder], with_cmsisdsp=True)


def _run_stream(exe: Path, params, samples: np.ndarray):
    """Windows (float, int8) and per-sample status from the compiled preprocess.c."""
    out = subprocess.run([str(exe)], input=np.asarray(samples, np.float32).tobytes(), capture_output=True, check=True).stdout
    n = params.output_steps * params.channels
    values, ints, status, i = [], [], [], 0
    while i < len(out):
        tag = out[i:i + 1]
        i += 1
        status.append(tag.decode())
        if tag == b"W":
            values.append(np.frombuffer(out[i:i + 4 * n], np.float32))
            ints.append(np.frombuffer(out[i + 4 * n:i + 5 * n], np.int8))
            i += 5 * n
    shape = (-1, params.output_steps, params.channels)
    return np.array(values).reshape(shape), np.array(ints).reshape(shape), "".join(status)


def _synthetic_stream(n: int, channels: int, seed: int = 3) -> np.ndarray:
    """Myo-like bursts: noise whose amplitude switches between rest and activity."""
    rng = np.random.default_rng(seed)
    envelope = np.repeat(rng.uniform(1.0, 40.0, (n // 50 + 1, channels)), 50, axis=0)[:n]
    return (rng.standard_normal((n, channels)) * envelope).astype(np.float32)


@needs_cc
@pytest.mark.parametrize("variant", ["attention", "attention-per-element-norm", "attention-no-norm", "zscore",
                                     "hd-grid"])
def test_host_compiled_preprocess_equals_reference_bit_for_bit(tmp_path: Path, variant: str) -> None:
    if variant == "zscore":
        _cfg, folder, params = _zscore_params(tmp_path)
    elif variant == "hd-grid":
        _cfg, folder, params = _grid_params(tmp_path)
    else:
        _cfg, folder, params = _attention_params(tmp_path, normalise=variant != "attention-no-norm",
                                                 per_element=variant == "attention-per-element-norm")
    assert params.hp_stages == (0 if variant in ("zscore", "hd-grid") else 2)
    assert (params.norm_mean is not None) == (variant in ("attention", "attention-per-element-norm", "hd-grid"))
    assert (params.channel_order is not None) == (variant == "hd-grid")
    exe = _harness(tmp_path, folder)
    stream = _synthetic_stream(900, params.channels)
    values, ints, status = _run_stream(exe, params, stream)
    ref_values, ref_ints = BoardPreprocessor(params).push(stream)
    expected_windows = (len(stream) - params.window) // params.step + 1
    assert ref_values.shape[0] == expected_windows == values.shape[0]
    np.testing.assert_array_equal(values, ref_values)
    np.testing.assert_array_equal(ints, ref_ints)
    # A window every `step` samples after the first `window`.
    ready = [i + 1 for i, s in enumerate(status) if s == "W"]
    assert ready == list(range(params.window, len(stream) + 1, params.step))
    assert len(np.unique(ref_ints)) > 20  # the test data exercise the int8 range


@needs_cc
def test_non_finite_samples_are_dropped_without_touching_state(tmp_path: Path) -> None:
    _cfg, folder, params = _attention_params(tmp_path)
    exe = _harness(tmp_path, folder)
    stream = _synthetic_stream(200, 16)
    bad = stream.copy()
    bad = np.insert(bad, 60, np.full(16, np.nan, np.float32), axis=0)
    bad[61 + 10 - 1, :] = stream[70 - 1]  # unchanged neighbours
    bad = np.insert(bad, 120, np.where(np.arange(16) == 3, np.inf, 1.0).astype(np.float32), axis=0)
    values, ints, status = _run_stream(exe, params, bad)
    assert status.count("N") == 2 and status[60] == "N" and status[120] == "N"
    clean_values, clean_ints, _ = _run_stream(exe, params, stream)
    np.testing.assert_array_equal(values, clean_values)
    np.testing.assert_array_equal(ints, clean_ints)
    with pytest.raises(ValueError, match="NaN or infinity"):
        BoardPreprocessor(params).push(bad)


@needs_cc
def test_raw_window_mode_resets_and_matches_reference(tmp_path: Path) -> None:
    _cfg, folder, params = _attention_params(tmp_path)
    exe = _harness(tmp_path, folder)
    raws = _synthetic_stream(3 * params.window, 16, seed=11).reshape(3, params.window, 16)
    out = subprocess.run([str(exe), "raw"], input=raws.tobytes(), capture_output=True, check=True).stdout
    n = params.output_steps * 16
    assert len(out) == 3 * (1 + n)
    for k in range(3):
        assert out[k * (n + 1):k * (n + 1) + 1] == b"W"
        got = np.frombuffer(out[k * (n + 1) + 1:(k + 1) * (n + 1)], np.int8)
        _values, expected = preprocess_raw_window(params, raws[k])
        np.testing.assert_array_equal(got, expected.reshape(-1))


def test_reference_does_not_depend_on_chunking(tmp_path: Path) -> None:
    _cfg, _folder, params = _attention_params(tmp_path)
    stream = _synthetic_stream(400, 16)
    whole_values, whole_ints = BoardPreprocessor(params).push(stream)
    chunked = BoardPreprocessor(params)
    parts = [chunked.push(stream[a:b]) for a, b in [(0, 1), (1, 53), (53, 53), (53, 211), (211, 400)]]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), whole_values)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), whole_ints)


def test_manifest_macros_read_back_as_the_training_parameters(tmp_path: Path) -> None:
    cfg, _folder, params = _attention_params(tmp_path)
    assert (params.window, params.step, params.moving_average, params.channels) == (52, 5, 15, 16)
    assert params.rectify and not params.zscore_window
    np.testing.assert_array_equal(params.hp_coeffs, cmsis_coefficients(highpass_sos(cfg)))
    assert params.input_scale == np.float32(0.05) and params.input_zero_point == -100
    np.testing.assert_array_equal(params.norm_mean, np.random.default_rng(7).uniform(0.0, 2.0, 16).astype(np.float32))
    broken = tmp_path / "broken.h"
    broken.write_text("#define MYE_PP_WINDOW 4\n")
    with pytest.raises(ValueError, match="no #define MYE_"):
        params_from_manifest(broken)


def test_quantisation_rounds_half_away_from_zero_and_clamps() -> None:
    np.testing.assert_array_equal(round_half_away(np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999997], np.float32)),
                                  [1, 2, 3, -1, -3, 0])
    q = quantize(np.array([0.0, 0.025, -0.025, 100.0, -100.0, np.nan], np.float32), 0.05, -100)
    np.testing.assert_array_equal(q, [-100, -99, -101, 127, -128, -100])


def test_board_preprocessing_is_within_tolerance_of_training(tmp_path: Path) -> None:
    cfg, _folder, params = _attention_params(tmp_path, normalise=False)
    stream = _synthetic_stream(2000, 16, seed=5)
    board_values, _ = BoardPreprocessor(params).push(stream)
    train_values, _starts = preprocess_stream(cfg, stream)
    assert board_values.shape == train_values.shape
    scale = np.max(np.abs(train_values))
    error = np.max(np.abs(board_values - train_values)) / scale
    assert 0 < error < TRAINING_TOLERANCE


@pytest.mark.realdata
@needs_cc
def test_recorded_db5_stream_is_bit_exact_and_close_to_training(tmp_path: Path) -> None:
    recording = DB5_DIR / "S1_E1_A1.mat"
    if not recording.exists():
        pytest.skip(f"NinaPro DB5 recording {recording} is absent (set MYOEDGE_SHARED_DATA)")
    from scipy.io import loadmat

    emg = np.asarray(loadmat(recording, variable_names=["emg"])["emg"][20000:24000], dtype=np.float32)
    cfg, folder, params = _attention_params(tmp_path)
    exe = _harness(tmp_path, folder)
    values, ints, _status = _run_stream(exe, params, emg)
    ref_values, ref_ints = BoardPreprocessor(params).push(emg)
    np.testing.assert_array_equal(values, ref_values)
    np.testing.assert_array_equal(ints, ref_ints)
    _cfg, _folder, plain = _attention_params(tmp_path / "plain", normalise=False)
    board_values, _ = BoardPreprocessor(plain).push(emg)
    train_values, _ = preprocess_stream(cfg, emg)
    assert np.max(np.abs(board_values - train_values)) / np.max(np.abs(train_values)) < TRAINING_TOLERANCE


# ---- on the board (QEMU) -------------------------------------------------------

def _qemu_ready() -> bool:
    from myoedge.toolchain import tools_available

    return tools_available(need_qemu=True)


@pytest.mark.qemu
@pytest.mark.skipif(not _qemu_ready(), reason="arm-none-eabi-gcc / cmake / qemu-system-arm missing")
@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
def test_preprocess_on_the_board_equals_reference(tmp_path: Path, board: str) -> None:
    serial = pytest.importorskip("serial")
    from myoedge.firmware_build import build_firmware
    from myoedge.qemu import QemuBoard, read_banner

    _cfg, folder, params = _attention_params(tmp_path)
    build = build_firmware(board, None, tmp_path / "fw",
                           main_source=FIRMWARE_DIR / "host_tests" / "target_preprocess_main.c",
                           extra_sources=[FIRMWARE_DIR / "src" / "preprocess.c"], extra_includes=[folder])
    stream = _synthetic_stream(52 + 5 * 24, 16, seed=9)
    n = params.output_steps * params.channels
    got, cycles = [], []
    with QemuBoard(board, build.elf) as qemu:
        link = serial.serial_for_url(qemu.url, timeout=10.0)
        try:
            read_banner(link)
            for sample in stream:
                link.write(sample.astype("<f4").tobytes())
                tag = link.read(1)
                assert tag in (b".", b"W"), tag
                if tag == b"W":
                    payload = link.read(n + 4)
                    assert len(payload) == n + 4
                    got.append(np.frombuffer(payload[:n], np.int8))
                    cycles.append(int.from_bytes(payload[n:], "little"))
        finally:
            link.close()
    _values, expected = BoardPreprocessor(params).push(stream)
    assert len(got) == expected.shape[0] == 25
    np.testing.assert_array_equal(np.array(got), expected.reshape(25, -1))
    # Every window does the same loops; only libm's roundf branches on the data.
    assert min(cycles) > 1000 and max(cycles) - min(cycles) <= 0.1 * min(cycles)
