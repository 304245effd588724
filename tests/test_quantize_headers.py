"""Generated C headers: they compile cleanly and carry the run's numbers."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from myoedge.quantize.convert import convert_int8  # noqa: E402
from myoedge.quantize.headers import (  # noqa: E402
    HeaderError,
    c_string,
    model_hash,
    render_manifest,
    write_headers,
)
from myoedge.quantize.tflite_graph import load_graph  # noqa: E402
from myoedge.training.preprocess import PreprocessConfig, highpass_sos  # noqa: E402

GCC = shutil.which("gcc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="host gcc not installed")

LABELS = ["rest", 'fist "closed"', "pinch\\index", "wave?"]
PREPROCESS = PreprocessConfig(
    sampling_rate_hz=200.0, rectify=True, highpass_hz=20.0, highpass_order=3, window=12, step=5, moving_average=5
).to_dict()
NORMALISATION = {"kind": "standardize", "mean": [0.5, 1.5, -2.0], "std": [1.0, 0.25, 3.0]}


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8, 3)), keras.layers.Flatten(), keras.layers.Dense(len(LABELS)), keras.layers.Softmax()]
    )
    x = np.random.default_rng(0).normal(size=(30, 8, 3)).astype(np.float32)
    return convert_int8(model, x, n_calibration=30)


@pytest.fixture(scope="module")
def header_dir(model_bytes, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("headers")
    write_headers(model_bytes, out, "tiny-dense", LABELS, PREPROCESS, NORMALISATION,
                  tflm_arena_bytes=2048, source="run test")
    return out


@needs_gcc
@pytest.mark.parametrize("name", ["model_data.c", "manifest_only.c"])
def test_headers_compile_without_warnings(header_dir, name):
    (header_dir / "manifest_only.c").write_text('#include "model_manifest.h"\nint mye_dummy;\n')
    result = subprocess.run(
        [GCC, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c", name, "-o", name + ".o"],
        cwd=header_dir, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr


@needs_gcc
def test_compiled_values_match_python(header_dir, model_bytes):
    """Build a small program against the headers and compare what it prints with Python's values."""
    program = r"""
#include <stdio.h>
#include <string.h>
#include "model_data.h"
#include "model_manifest.h"
int main(void) {
    static const char *labels[] = MYE_LABEL_NAMES;
    static const int in_dims[] = MYE_INPUT_DIMS;
    static const double sos[] = MYE_PP_HIGHPASS_SOS;
    static const double df2t[] = MYE_PP_HIGHPASS_CMSIS_DF2T;
    static const float mean[] = MYE_NORM_MEAN;
    static const float std_[] = MYE_NORM_STD;
    unsigned long sum = 0;
    unsigned int i;
    for (i = 0; i < mye_model_data_len; ++i) sum += mye_model_data[i];
    printf("name=%s\nhash=%s\nhash32=%08x\nlen=%u\nsum=%lu\naligned=%d\n", MYE_MODEL_NAME,
           MYE_MODEL_HASH_HEX, (unsigned)MYE_MODEL_HASH_U32, mye_model_data_len, sum,
           (int)(((unsigned long)(const void *)mye_model_data) % 16u == 0u));
    printf("in_scale=%.9g\nin_zp=%d\nout_scale=%.9g\nout_zp=%d\n", (double)MYE_INPUT_SCALE,
           MYE_INPUT_ZERO_POINT, (double)MYE_OUTPUT_SCALE, MYE_OUTPUT_ZERO_POINT);
    printf("in_dims=%d,%d,%d\nin_size=%d\nclasses=%d\n", in_dims[0], in_dims[1], in_dims[2],
           MYE_INPUT_SIZE, MYE_N_CLASSES);
    for (i = 0; i < MYE_N_CLASSES; ++i) printf("label=%s\n", labels[i]);
    printf("fs=%.17g\nrectify=%d\nwindow=%d\nstep=%d\nma=%d\nsteps=%d\nhp_on=%d\nsections=%d\n",
           MYE_PP_SAMPLING_RATE_HZ, MYE_PP_RECTIFY, MYE_PP_WINDOW, MYE_PP_STEP,
           MYE_PP_MOVING_AVERAGE, MYE_PP_OUTPUT_STEPS, MYE_PP_HIGHPASS_ENABLED, MYE_PP_HIGHPASS_SECTIONS);
    for (i = 0; i < 6u * MYE_PP_HIGHPASS_SECTIONS; ++i) printf("sos=%.17g\n", sos[i]);
    for (i = 0; i < 5u * MYE_PP_HIGHPASS_SECTIONS; ++i) printf("df2t=%.17g\n", df2t[i]);
    for (i = 0; i < MYE_NORM_LEN; ++i) printf("norm=%.9g,%.9g\n", (double)mean[i], (double)std_[i]);
    printf("arena=%u\nstandardize=%d\n", MYE_TFLM_ARENA_BYTES, MYE_NORM_STANDARDIZE);
    return 0;
}
"""
    (header_dir / "check.c").write_text(program)
    build = subprocess.run(
        [GCC, "-std=c99", "-Wall", "-Werror", "check.c", "model_data.c", "-o", "check"],
        cwd=header_dir, capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(header_dir / "check")], capture_output=True, text=True, check=True)
    lines = run.stdout.splitlines()
    values: dict[str, list[str]] = {}
    for line in lines:
        key, _, value = line.partition("=")
        values.setdefault(key, []).append(value)

    graph = load_graph(model_bytes)
    inp, out = graph.input_tensors[0], graph.output_tensors[0]
    digest = hashlib.sha256(model_bytes).hexdigest()
    assert values["name"] == ["tiny-dense"]
    assert values["hash"] == [digest[:16]] and values["hash32"] == [digest[:8]]
    assert int(values["len"][0]) == len(model_bytes)
    assert int(values["sum"][0]) == sum(model_bytes)
    assert values["aligned"] == ["1"]
    assert float(values["in_scale"][0]) == np.float32(inp.scale)
    assert int(values["in_zp"][0]) == inp.zero_point
    assert float(values["out_scale"][0]) == np.float32(out.scale)
    assert int(values["out_zp"][0]) == out.zero_point
    assert values["in_dims"] == ["1,8,3"] and values["in_size"] == ["24"] and values["classes"] == ["4"]
    assert values["label"] == LABELS
    assert float(values["fs"][0]) == 200.0 and values["rectify"] == ["1"]
    assert values["window"] == ["12"] and values["step"] == ["5"] and values["ma"] == ["5"]
    assert values["steps"] == ["8"] and values["hp_on"] == ["1"]
    sos = highpass_sos(PreprocessConfig.from_dict(PREPROCESS))
    assert values["sections"] == [str(len(sos))]
    assert np.array_equal(np.array(values["sos"], dtype=np.float64), sos.ravel())
    df2t = np.array(values["df2t"], dtype=np.float64).reshape(-1, 5)
    assert np.allclose(df2t[:, :3], sos[:, :3]) and np.allclose(df2t[:, 3:], -sos[:, 4:])
    norm = np.array([v.split(",") for v in values["norm"]], dtype=np.float64)
    assert np.array_equal(norm[:, 0], np.float32(NORMALISATION["mean"]))
    assert np.array_equal(norm[:, 1], np.float32(NORMALISATION["std"]))
    assert values["arena"] == ["2048"] and values["standardize"] == ["1"]


def test_manifest_has_banner_and_handles_no_filter(model_bytes):
    no_filter = PreprocessConfig(sampling_rate_hz=1000.0, frames=True).to_dict()
    text = render_manifest(model_bytes, "m", LABELS, no_filter, {"kind": "none"})
    assert "DO NOT EDIT" in text
    assert "#define MYE_PP_HIGHPASS_ENABLED 0" in text
    assert "#define MYE_PP_HIGHPASS_HZ_IS_NONE 1" in text
    assert "#define MYE_NORM_STANDARDIZE 0" in text
    assert "MYE_TFLM_ARENA_BYTES" not in text


def test_bad_run_data_is_refused_naming_the_field(model_bytes):
    with pytest.raises(HeaderError, match="label_names has 2"):
        render_manifest(model_bytes, "m", ["a", "b"], PREPROCESS, NORMALISATION)
    with pytest.raises(HeaderError, match="std must be > 0"):
        render_manifest(model_bytes, "m", LABELS, PREPROCESS, {"kind": "standardize", "mean": [0], "std": [0]})
    with pytest.raises(HeaderError, match="preprocess"):
        render_manifest(model_bytes, "m", LABELS, {**PREPROCESS, "typo": 1}, NORMALISATION)


def test_c_string_and_hash_helpers():
    assert c_string('a"b\\c') == '"a\\"b\\\\c"'
    assert c_string("??=") == '"\\077\\077="'  # no trigraphs
    assert c_string("é") == '"\\303\\251"'
    digest = model_hash(b"abc")
    assert digest.hex16 == hashlib.sha256(b"abc").hexdigest()[:16]
    assert digest.u32 == int(hashlib.sha256(b"abc").hexdigest()[:8], 16)
