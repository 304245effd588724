"""The AOT generator end to end: converted Keras models (a small CNN and an
MLP over time steps) run bit-exact with TFLM, the generated files carry the
promised interface, unsupported ops are named, the debug mode names the op
that diverges, and the C cross-compiles for a Cortex-M4."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from myoedge.quantize.aot.debug import first_divergence  # noqa: E402
from myoedge.quantize.aot.emit import UnsupportedOpError  # noqa: E402
from myoedge.quantize.aot.generate import generate_c  # noqa: E402
from myoedge.quantize.aot.host_build import KERNELS_DIR, AotModel, kernel_sources  # noqa: E402
from myoedge.quantize.aot.single_op import Op, Tensor, build_model  # noqa: E402

WINDOWS = 200
_MODELS: dict[str, bytes] = {}


def _keras_layers():
    keras = pytest.importorskip("keras")

    class ExactMish(keras.layers.Layer):
        """Mish as x*s*(2-s)/(s*s-2s+2), s = sigmoid(x): the pure-int8 form TFLM runs."""

        def call(self, x):
            s = keras.ops.sigmoid(x)
            return x * s * (2.0 - s) / (s * s - 2.0 * s + 2.0)

    class ChannelAffine(keras.layers.Layer):
        """x * gamma + beta per channel, as a LayerNorm tail."""

        def build(self, shape):
            self.gamma = self.add_weight(shape=(shape[-1],), initializer="ones")
            self.beta = self.add_weight(shape=(shape[-1],), initializer="zeros")

        def call(self, x):
            return x * self.gamma + self.beta

    return ExactMish, ChannelAffine


def _ExactMish():  # noqa: N802 - reads like the layer it builds
    return _keras_layers()[0]()


def _ChannelAffine():  # noqa: N802
    return _keras_layers()[1]()


def _randomise(model, seed: int) -> None:
    """Give every weight (biases included) random values so zero points and biases matter."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.normal(0, 0.4, w.shape).astype(np.float32) for w in weights])


def _convert(name: str) -> bytes:
    """Build, randomise and int8-convert one of the test models (cached per process)."""
    if name in _MODELS:
        return _MODELS[name]
    keras = pytest.importorskip("keras")
    from myoedge.quantize.convert import check_pure_int8, convert_int8

    layers = keras.layers
    if name == "cnn":
        model = keras.Sequential([
            keras.Input((8, 16, 1)),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu6"),
            layers.MaxPooling2D(2),
            layers.Conv2D(12, 3, strides=2, padding="valid", dilation_rate=1),
            layers.AveragePooling2D((1, 2)),
            layers.Flatten(),
            layers.Dense(10),
        ])
        shape = (8, 16, 1)
    elif name == "mlp_time":
        model = keras.Sequential([
            keras.Input((12, 6)),
            layers.Dense(16, activation="relu"),        # FULLY_CONNECTED on 12 rows
            layers.Permute((2, 1)),                     # TRANSPOSE
            layers.Dense(5),                            # FULLY_CONNECTED over time
            layers.Cropping1D((1, 2)),                  # STRIDED_SLICE
            layers.Flatten(),                           # RESHAPE
            layers.Dense(7),
        ])
        shape = (12, 6)
    elif name == "mish_affine":
        model = keras.Sequential([
            keras.Input((6, 10)),
            layers.Dense(12),
            _ExactMish(),                              # LOGISTIC, MUL, SUB, ADD, DIV
            _ChannelAffine(),                          # MUL, ADD by per-channel constants
            layers.Activation("relu6"),                # keeps the affine from folding into the Dense
            layers.Dense(4),
        ])
        shape = (6, 10)
    else:
        raise KeyError(name)
    _randomise(model, seed=len(name))
    rng = np.random.default_rng(0)
    representative = rng.normal(0, 1.5, size=(64, *shape)).astype(np.float32)
    tflite = convert_int8(model, representative, n_calibration=64)
    check_pure_int8(tflite)
    _MODELS[name] = tflite
    return tflite


def _tflm_outputs(model: bytes, xs: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model)
    outs = []
    for x in xs:
        interpreter.set_input(x, 0)
        interpreter.invoke()
        outs.append(interpreter.get_output(0).copy())
    return np.stack(outs)


@pytest.mark.parametrize("name", ["cnn", "mlp_time"])
def test_whole_model_parity(name: str) -> None:
    """Every output element equals TFLM's on 200 random windows."""
    from myoedge.quantize.tflite_graph import load_graph

    model = _convert(name)
    aot = AotModel(model, name=name)
    rng = np.random.default_rng(1)
    xs = rng.integers(-128, 128, size=(WINDOWS, *aot.input_shape), dtype=np.int8)
    expected = _tflm_outputs(model, xs)
    got = aot.run_batch(xs)
    bad = np.flatnonzero((expected.reshape(WINDOWS, -1) != got.reshape(WINDOWS, -1)).any(axis=1))
    if bad.size:
        pytest.fail(f"{name}: {bad.size} of {WINDOWS} windows differ; first window {bad[0]}: "
                    f"{first_divergence(model, xs[bad[0]], aot)}")
    # The test models cover the ops they were built for.
    ops = set(load_graph(model).opcode_histogram())
    wanted = {"cnn": {"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED"},
              "mlp_time": {"FULLY_CONNECTED", "TRANSPOSE", "STRIDED_SLICE"}}[name]
    assert wanted <= ops, ops


def test_cnn_arena_is_smaller_than_one_buffer_per_tensor() -> None:
    from myoedge.quantize.tflite_graph import load_graph

    model = _convert("cnn")
    aot = AotModel(model, name="cnn")
    graph = load_graph(model)
    activations = sum(graph.tensors[t].nbytes for op in graph.ops for t in op.outputs)
    assert 0 < aot.result.arena_bytes < activations
    assert aot.result.const_bytes > sum(t.nbytes for t in graph.constant_tensors() if t.type_name == "INT8")


def test_generated_files_expose_the_interface(tmp_path: Path) -> None:
    model = _convert("mlp_time")
    result = generate_c(model, tmp_path, "My-Model")
    header = result.h_path.read_text()
    source = result.c_path.read_text()
    assert result.name == "my_model"
    for text in ("int mye_my_model_invoke(const int8_t *input, int8_t *output);",
                 "void mye_my_model_reset(void);",
                 f"#define MYE_MY_MODEL_ARENA_BYTES {result.arena_bytes}",
                 "#define MYE_MY_MODEL_INPUT_SIZE 72", "#define MYE_MY_MODEL_OUTPUT_SIZE 7",
                 "mye_my_model_set_tensor_hook"):
        assert text in header
    assert "malloc" not in source
    assert "mye_fully_connected_s8(" in source and "mye_transpose_s8(" in source
    assert set(result.kernels_used) >= {"mye_fully_connected_s8", "mye_transpose_s8", "mye_strided_slice_s8"}
    # Rebuilt from the folder, it runs like the cached build.
    x = np.random.default_rng(2).integers(-128, 128, size=(1, 12, 6), dtype=np.int8)
    assert np.array_equal(AotModel(tmp_path).invoke(x), AotModel(model, name="mlp_time").invoke(x))


def test_trace_ends_with_the_output() -> None:
    model = _convert("cnn")
    aot = AotModel(model, name="cnn")
    from myoedge.quantize.tflite_graph import load_graph

    graph = load_graph(model)
    x = np.random.default_rng(3).integers(-128, 128, size=aot.input_shape, dtype=np.int8)
    trace = aot.trace(x)
    assert set(trace) == {t for op in graph.ops for t in op.outputs}
    assert np.array_equal(trace[graph.outputs[0]].reshape(-1), aot.invoke(x).reshape(-1))
    assert first_divergence(model, x, aot) is None


def test_debug_mode_names_the_first_diverging_op(tmp_path: Path) -> None:
    """Corrupt the output zero point of op 1 in the generated C: the debug mode blames op 1."""
    model = _convert("cnn")
    result = generate_c(model, tmp_path, "tampered")
    source = result.c_path.read_text()
    marker = "/* op 1:"
    head, tail = source.split(marker, 1)
    start = tail.index(".output_offset = ") + len(".output_offset = ")
    end = tail.index(",", start)
    tail = tail[:start] + str(int(tail[start:end]) + 9) + tail[end:]
    result.c_path.write_text(head + marker + tail)
    aot = AotModel(tmp_path)
    x = np.random.default_rng(4).integers(-128, 128, size=aot.input_shape, dtype=np.int8)
    message = first_divergence(model, x, aot)
    assert message is not None and message.startswith("op #1 DEPTHWISE_CONV_2D"), message


def test_unsupported_op_is_named(tmp_path: Path) -> None:
    tensors = [Tensor((4,), "INT8", [0.1], [0]), Tensor((4,), "INT8", [0.1], [0]),
               Tensor((4,), "INT8", [0.1], [0]), Tensor((1,), "INT32", data=np.array([0]))]
    ops = [Op("QUANTIZE", [0], [1]), Op("GATHER", [1, 3], [2])]
    model = build_model(tensors, ops, [0], [2])
    with pytest.raises(UnsupportedOpError, match=r"op #1 GATHER.*index 1"):
        generate_c(model, tmp_path, "bad")


def test_float_graph_input_is_refused(tmp_path: Path) -> None:
    model = build_model([Tensor((4,), "FLOAT32"), Tensor((4,), "INT8", [0.1], [0])],
                        [Op("QUANTIZE", [0], [1])], [0], [1])
    with pytest.raises(UnsupportedOpError, match="FLOAT32"):
        generate_c(model, tmp_path, "floaty")


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")
def test_generated_c_cross_compiles_for_cortex_m4(tmp_path: Path) -> None:
    """The generated model and its kernels compile warning-free for a Cortex-M4F (DSP path)."""
    result = generate_c(_convert("cnn"), tmp_path, "cnn")
    sources = [result.c_path, *kernel_sources(result.kernels_used)]
    for source in sources:
        cmd = ["arm-none-eabi-gcc", "-std=c99", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
               "-mfpu=fpv4-sp-d16", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNELS_DIR / 'include'}",
               f"-I{tmp_path}", "-c", str(source), "-o", str(tmp_path / (source.stem + ".o"))]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    nm = subprocess.run(["arm-none-eabi-objdump", "-d", str(tmp_path / "fully_connected.o")],
                        capture_output=True, text=True)
    assert "smlad" in nm.stdout


def test_lut_fusion_replaces_mish_and_affine_tail_bit_exactly() -> None:
    """Exact Mish + per-channel affine collapse into per-channel tables; outputs stay TFLM's."""
    model = _convert("mish_affine")
    plain = AotModel(model, name="mish_affine")
    fused = AotModel(model, name="mish_affine", fuse_lut=True)
    assert "mye_logistic_s8" in plain.result.kernels_used
    assert fused.result.kernels_used == ["mye_fully_connected_s8", "mye_lut_channels_s8"]
    (chain,) = fused.result.fused_chains
    assert chain["channels"] == 12 and chain["opcodes"][0] == "LOGISTIC" and chain["opcodes"][-1] == "ADD"
    assert fused.result.arena_bytes < plain.result.arena_bytes
    rng = np.random.default_rng(6)
    xs = rng.integers(-128, 128, size=(WINDOWS, 1, 6, 10), dtype=np.int8)
    expected = _tflm_outputs(model, xs)
    assert np.array_equal(fused.run_batch(xs), expected)
    assert np.array_equal(plain.run_batch(xs), expected)
    assert first_divergence(model, xs[0], fused) is None


def test_lut_fusion_respects_the_table_budget(tmp_path: Path) -> None:
    """With 1 KB per chain, only the scalar Mish chain becomes one 256-byte table."""
    model = _convert("mish_affine")
    result = generate_c(model, tmp_path, "mish_small", fuse_lut=True, lut_max_table_bytes=1024)
    (chain,) = result.fused_chains
    assert chain["channels"] == 1 and chain["opcodes"][-1] == "DIV"
    assert "mye_lut_s8" in result.kernels_used and "mye_mul_s8" in result.kernels_used
    aot = AotModel(tmp_path)
    xs = np.random.default_rng(7).integers(-128, 128, size=(50, 1, 6, 10), dtype=np.int8)
    assert np.array_equal(aot.run_batch(xs), _tflm_outputs(model, xs))


# ---- the generated C on an emulated Cortex-M4F (real DSP intrinsics) -----------------------

_STARTUP_C = r"""
#include <stdint.h>
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

static void semihosting_exit(int code)
{
    volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t r0 __asm__("r0") = 0x20u;
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
    }
}

void reset_handler(void)
{
    uint32_t *src = &_sidata;
    uint32_t *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0u;
    }
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20); /* enable the FPU */
    __asm__ volatile("dsb\n isb");
    semihosting_exit(main());
}

void fault_handler(void) { semihosting_exit(200); }

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack), reset_handler, fault_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler,
    fault_handler};
"""

_LINKER = """
MEMORY { FLASH (rx) : ORIGIN = 0x00000000, LENGTH = 4096K
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 4096K }
_estack = ORIGIN(RAM) + LENGTH(RAM);
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .ARM.exidx : { *(.ARM.exidx*) } > FLASH
  _sidata = LOADADDR(.data);
  .data : { _sdata = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT > FLASH
  .bss (NOLOAD) : { _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; } > RAM
}
"""


def _c_rows(values: np.ndarray) -> str:
    return ",\n".join("{" + ", ".join(str(int(v)) for v in row.reshape(-1)) + "}" for row in values)


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="arm-none-eabi-gcc and qemu-system-arm are needed (see the set-up script)")
@pytest.mark.parametrize("name,fuse", [("cnn", False), ("mlp_time", False), ("mish_affine", True)])
def test_generated_model_on_emulated_cortex_m4(name: str, fuse: bool, tmp_path: Path) -> None:
    """Built for a Cortex-M4F (SMLAD/SXTB16 path) and run in QEMU, the model gives TFLM's outputs."""
    model = _convert(name)
    result = generate_c(model, tmp_path, name, fuse_lut=fuse)
    n_windows = 20
    rng = np.random.default_rng(8)
    xs = rng.integers(-128, 128, size=(n_windows, *result.input_shape), dtype=np.int8)
    expected = _tflm_outputs(model, xs)
    n_in, n_out = int(np.prod(result.input_shape)), int(np.prod(result.output_shape))
    (tmp_path / "startup.c").write_text(_STARTUP_C)
    (tmp_path / "link.ld").write_text(_LINKER)
    (tmp_path / "main.c").write_text(f"""
#include <stdint.h>
#include "{result.name}_aot.h"
static const int8_t inputs[{n_windows}][{n_in}] = {{{_c_rows(xs)}}};
static const int8_t expected[{n_windows}][{n_out}] = {{{_c_rows(expected)}}};
int main(void)
{{
    static int8_t out[{n_out}];
    int bad = 0;
    int n;
    int i;
    for (n = 0; n < {n_windows}; ++n) {{
        if (mye_{result.name}_invoke(inputs[n], out) != 0) {{
            return 201;
        }}
        for (i = 0; i < {n_out}; ++i) {{
            bad += out[i] != expected[n][i];
        }}
    }}
    return bad > 199 ? 199 : bad;
}}
""")
    sources = [tmp_path / "startup.c", tmp_path / "main.c", result.c_path, *kernel_sources(result.kernels_used)]
    elf = tmp_path / "aot.elf"
    cmd = ["arm-none-eabi-gcc", "-std=c99", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
           "-O2", "-Wall", "-Wextra", "-Werror", "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
           f"-I{KERNELS_DIR / 'include'}", f"-I{tmp_path}", "-T", str(tmp_path / "link.ld"),
           *map(str, sources), "-o", str(elf)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
                          "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"{run.returncode} differing output elements (200+: fault/invoke error) {run.stderr}"


def test_variable_tensors_start_and_reset_at_their_zero_point() -> None:
    """Variable (state) tensors live outside the arena and start at their zero point, as in TFLM."""
    from tflite_micro.python.tflite_micro import runtime

    tensors = [Tensor((1, 6), "INT8", [0.1], [3]), Tensor((1, 6), "INT8", [0.05], [-7], is_variable=True),
               Tensor((1, 6), "INT8", [0.2], [5]), Tensor((1, 6), "INT8", [0.3], [1])]
    ops = [Op("QUANTIZE", [1], [2]), Op("ADD", [0, 2], [3], {"fusedActivationFunction": "NONE"})]
    model = build_model(tensors, ops, [0], [3])
    aot = AotModel(model, name="stateful")
    assert aot.result.state_bytes == 8
    interpreter = runtime.Interpreter.from_bytes(model)
    rng = np.random.default_rng(9)
    for _ in range(3):
        x = rng.integers(-128, 128, size=(1, 6), dtype=np.int8)
        interpreter.set_input(x, 0)
        interpreter.invoke()
        assert np.array_equal(aot.invoke(x, reset=False), interpreter.get_output(0))


# ---- the project's seed model families (random weights) --------------------------------------

SEED_MODELS = [("attention-compact", (38, 16), 53), ("sconvnet", (8, 16, 1), 8), ("allconvnet", (8, 16, 1), 8)]


@pytest.mark.slow
@pytest.mark.parametrize("name,shape,n_classes", SEED_MODELS)
@pytest.mark.parametrize("fuse", [False, True])
def test_seed_model_families_are_bit_exact(name: str, shape: tuple, n_classes: int, fuse: bool) -> None:
    """The training stage's models, int8-converted, match TFLM on 100 random windows (fused or not)."""
    models = pytest.importorskip("myoedge.training.models")
    from myoedge.quantize.convert import check_pure_int8, convert_int8

    model = models.build_model(name, shape, n_classes)
    rng = np.random.default_rng(10)
    for layer in model.layers:  # perturb (not replace) so batch-norm variances stay positive
        weights = layer.get_weights()
        if weights:
            layer.set_weights([(w + rng.normal(0, 0.05, w.shape)).astype(np.float32) for w in weights])
    tflite = convert_int8(model, rng.normal(0, 1, size=(32, *shape)).astype(np.float32), n_calibration=32)
    check_pure_int8(tflite)
    aot = AotModel(tflite, name=name, fuse_lut=fuse)
    xs = rng.integers(-128, 128, size=(100, 1, *shape), dtype=np.int8)
    expected = _tflm_outputs(tflite, xs)
    got = aot.run_batch(xs)
    bad = np.flatnonzero((expected.reshape(100, -1) != got.reshape(100, -1)).any(axis=1))
    assert bad.size == 0, f"{name}: {bad.size} windows differ; {first_divergence(tflite, xs[bad[0]], aot)}"
