"""MAX_POOL_2D and AVERAGE_POOL_2D: the portable and the DSP (SIMD) path of pooling.c against TFLM.

Each model holds many independent pooling ops with random shapes (depths
that are and are not multiples of four, so both the four-channel words and
the leftover channels run), windows, strides, padding, fused activation and
quantisation, plus a few windows of more than 255 taps, where the DSP average
falls back to the portable loop. The same generated C is compiled twice:
plain, and with MYE_EMULATE_DSP (the SSUB8/SEL and SXTB16/SADD16 path with
the intrinsics written out in C). Both must equal TFLM on every element;
inputs include all-minimum and all-maximum tensors, the worst case for the
halfword sums.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

from aot_single_op import CaseModel, ModelWriter, build_library, check_parity, emit_model  # noqa: E402

import myoedge.quantize.aot.ops_conv  # noqa: E402,F401  (registers the pooling emitter)
from myoedge.quantize.aot.ops_conv import compute_padding  # noqa: E402

KERNEL_FILES = ["pooling.c"]
OPS_PER_MODEL = 25
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _random_pool_geometry(rng: np.random.Generator) -> dict:
    """Shape and window of one pooling op (always a non-empty output)."""
    while True:
        if rng.random() < 0.1:  # a global pool of 196..400 taps: either side of the DSP path's 255-tap limit
            h, w = int(rng.integers(14, 21)), int(rng.integers(14, 21))
            geometry = dict(n=1, h=h, w=w, c=int(rng.integers(1, 13)), fh=h, fw=w, sh=1, sw=1, padding="VALID")
        else:
            geometry = dict(n=int(rng.integers(1, 3)), h=int(rng.integers(1, 13)), w=int(rng.integers(1, 13)),
                            c=int(rng.choice([1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 31, 32, 40])),
                            fh=int(rng.integers(1, 6)), fw=int(rng.integers(1, 6)),
                            sh=int(rng.integers(1, 4)), sw=int(rng.integers(1, 4)),
                            padding=str(rng.choice(["SAME", "VALID"])))
        oh, _ = compute_padding(geometry["h"], geometry["fh"], geometry["sh"], 1, geometry["padding"])
        ow, _ = compute_padding(geometry["w"], geometry["fw"], geometry["sw"], 1, geometry["padding"])
        if oh > 0 and ow > 0:
            return {**geometry, "oh": oh, "ow": ow}


def add_random_pool(writer: ModelWriter, k: int, rng: np.random.Generator, opcode: str) -> None:
    """One MAX_POOL_2D / AVERAGE_POOL_2D with its own graph input and output."""
    schema = writer.schema
    g = _random_pool_geometry(rng)
    scale, zero_point = float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128))
    x = writer.tensor(f"x{k}", (g["n"], g["h"], g["w"], g["c"]), "INT8", scale, zero_point)
    y = writer.tensor(f"y{k}", (g["n"], g["oh"], g["ow"], g["c"]), "INT8", scale, zero_point)
    options = {
        "padding": getattr(schema.Padding, g["padding"]),
        "strideH": g["sh"], "strideW": g["sw"], "filterHeight": g["fh"], "filterWidth": g["fw"],
        "fusedActivationFunction": getattr(schema.ActivationFunctionType, str(rng.choice(ACTIVATIONS))),
    }
    writer.op(opcode, [x], [y], "Pool2DOptions", options)
    writer.inputs.append(x)
    writer.outputs.append(y)


def _cases(opcode: str, models: int, seed: int) -> list[CaseModel]:
    rng = np.random.default_rng(seed)
    cases = []
    for m in range(models):
        writer = ModelWriter()
        for k in range(OPS_PER_MODEL):
            add_random_pool(writer, k, rng, opcode)
        case = CaseModel(name=f"{opcode.lower()}{m}", model_bytes=writer.finish(pad_bytes=1 << 16))
        emit_model(case)
        cases.append(case)
    return cases


def _inputs_with_extremes(graph, rng: np.random.Generator) -> list[np.ndarray]:
    """Random int8 inputs; one in four runs is all -128 or all 127 instead."""
    fill = rng.integers(0, 8)
    shapes = [graph.tensors[i].shape for i in graph.inputs]
    if fill == 0:
        return [np.full(s, -128, dtype=np.int8) for s in shapes]
    if fill == 1:
        return [np.full(s, 127, dtype=np.int8) for s in shapes]
    return [rng.integers(-128, 128, size=s, dtype=np.int64).astype(np.int8) for s in shapes]


@pytest.mark.parametrize("opcode", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("emulate_dsp", [False, True], ids=["portable", "dsp"])
def test_pooling_matches_tflm(opcode: str, emulate_dsp: bool) -> None:
    """200 random pooling ops per path and kind, 4 inputs each, equal to TFLM on every element."""
    cases = _cases(opcode, 8, seed=31 + int(opcode == "AVERAGE_POOL_2D"))
    lib = build_library(cases, KERNEL_FILES, ["-DMYE_EMULATE_DSP"] if emulate_dsp else [])
    counts = check_parity(cases, lib, runs=4, seed=5, draw_inputs=_inputs_with_extremes)
    assert counts[opcode] == 8 * OPS_PER_MODEL


@pytest.mark.slow
@pytest.mark.parametrize("opcode", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("emulate_dsp", [False, True], ids=["portable", "dsp"])
def test_pooling_matches_tflm_sweep(opcode: str, emulate_dsp: bool) -> None:
    """The long sweep: 1000 more random ops per path and kind."""
    cases = _cases(opcode, 40, seed=131 + int(opcode == "AVERAGE_POOL_2D"))
    lib = build_library(cases, KERNEL_FILES, ["-DMYE_EMULATE_DSP"] if emulate_dsp else [])
    check_parity(cases, lib, runs=3, seed=6, draw_inputs=_inputs_with_extremes)


def test_dsp_and_portable_paths_agree_on_one_long_random_tensor() -> None:
    """Both builds of the same ops give identical bytes, including on windows of more than 255 taps."""
    from aot_single_op import run_aot

    cases = _cases("AVERAGE_POOL_2D", 2, seed=77) + _cases("MAX_POOL_2D", 2, seed=78)
    portable = build_library(cases, KERNEL_FILES)
    dsp = build_library(cases, KERNEL_FILES, ["-DMYE_EMULATE_DSP"])
    rng = np.random.default_rng(9)
    big = 0
    for case in cases:
        big += sum(op.options["filter_height"] * op.options["filter_width"] > 255 for op in case.graph.ops)
        inputs = [rng.integers(-128, 128, size=case.graph.tensors[i].shape, dtype=np.int64).astype(np.int8)
                  for i in case.graph.inputs]
        for a, b in zip(run_aot(portable, case, inputs), run_aot(dsp, case, inputs)):
            assert np.array_equal(a, b), case.name
    assert big > 0, "no window above the SIMD tap limit was drawn"


# ---- the real SSUB8/SEL and SXTB16/SADD16 instructions, on an emulated Cortex-M4 -------------------

_STARTUP = """
#include <stdint.h>
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
static void semihosting_exit(int code)
{
    static uint32_t block[2];
    register uint32_t r0 __asm__("r0") = 0x20u;
    register uint32_t *r1 __asm__("r1") = block;
    block[0] = 0x20026u;
    block[1] = (uint32_t)code;
    __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
    }
}
void reset_handler(void)
{
    uint32_t *src = &_sidata;
    uint32_t *dst;
    for (dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0u;
    }
    semihosting_exit(main());
}
void fault_handler(void) { semihosting_exit(250); }
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack), reset_handler, fault_handler, fault_handler, fault_handler, fault_handler,
    fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler, fault_handler};
"""

_LINK = """
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


def _c_array(name: str, values: np.ndarray) -> str:
    body = ", ".join(str(int(v)) for v in np.asarray(values).reshape(-1))
    return f"static const int8_t {name}[{max(1, values.size)}] = {{{body or '0'}}};"


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="arm-none-eabi-gcc and qemu-system-arm are needed (see the set-up script)")
def test_pooling_on_emulated_cortex_m4_matches_tflm(tmp_path) -> None:
    """Built for a Cortex-M4F (the ACLE intrinsics, not their C emulation) and run in QEMU: every random
    max and average pooling op gives TFLM's bytes."""
    from aot_single_op import KERNELS, run_tflm

    cases = _cases("MAX_POOL_2D", 1, seed=201) + _cases("AVERAGE_POOL_2D", 1, seed=202)
    rng = np.random.default_rng(12)
    lines = ["#include <stdint.h>", "#include <string.h>", '#include "mye_kernels.h"']
    checks = []
    for case in cases:
        graph = case.graph
        inputs = _inputs_with_extremes(graph, rng) if rng.random() < 0.3 else [
            rng.integers(-128, 128, size=graph.tensors[i].shape, dtype=np.int64).astype(np.int8)
            for i in graph.inputs]
        expected = run_tflm(case.model_bytes, inputs, len(graph.outputs))
        lines.append(case.c_source)
        for k, x in enumerate(inputs):
            lines.append(_c_array(f"{case.name}_in{k}", x))
        for k, y in enumerate(expected):
            lines.append(_c_array(f"{case.name}_want{k}", y))
            lines.append(f"static int8_t {case.name}_got{k}[{max(1, y.size)}];")
        in_ptrs = ", ".join(f"{case.name}_in{k}" for k in range(len(inputs)))
        out_ptrs = ", ".join(f"{case.name}_got{k}" for k in range(len(expected)))
        checks.append(f"""    {{
        const int8_t *const ins[] = {{{in_ptrs}}};
        int8_t *const outs[] = {{{out_ptrs}}};
        (void){case.function}(ins, outs);
""" + "".join(f"        bad += memcmp({case.name}_got{k}, {case.name}_want{k}, {y.size}) != 0;\n"
              for k, y in enumerate(expected)) + "    }")
    lines.append("int main(void)\n{\n    int bad = 0;\n" + "\n".join(checks) + "\n    return bad;\n}\n")
    (tmp_path / "cases.c").write_text("\n".join(lines))
    (tmp_path / "startup.c").write_text(_STARTUP)
    (tmp_path / "link.ld").write_text(_LINK)
    elf = tmp_path / "pool.elf"
    build = subprocess.run(
        ["arm-none-eabi-gcc", "-std=c99", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
         "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-variable", "-nostartfiles", "--specs=nano.specs",
         "--specs=nosys.specs", f"-I{KERNELS / 'include'}", "-T", str(tmp_path / "link.ld"),
         str(tmp_path / "startup.c"), str(tmp_path / "cases.c"), str(KERNELS / "src" / "pooling.c"),
         "-o", str(elf)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True).stdout
    assert "ssub8" in disassembly and "sadd16" in disassembly, "the DSP path was not compiled in"
    run = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
                          "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"{run.returncode} of {len(cases)} models differ from TFLM (250: fault) {run.stderr}"
