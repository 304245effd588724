"""``build_firmware``: the full firmware with a (test-only) model, its size report and the fit check.

The model here is a stand-in written by the test: a manifest made by the
quantize stage's own macro generator and a C "network" whose weights are a
const array of a chosen size (it sums weights into the scores, so the linker
keeps them). It is never committed as a product.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from myoedge.board_preprocess import manifest_macros
from myoedge.boards import load_board
from myoedge.toolchain import tools_available
from myoedge.training.preprocess import PreprocessConfig

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not tools_available(need_qemu=False), reason="arm-none-eabi-gcc / cmake missing"),
]


def dummy_model(folder: Path, weight_bytes: int, arena_bytes: int, name: str = "dummy") -> Path:
    """Write model_manifest.h and dummy_aot.c/.h into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = PreprocessConfig.for_dataset("ninapro-db5")
    manifest = "\n".join([
        "#ifndef MYE_MODEL_MANIFEST_H", "#define MYE_MODEL_MANIFEST_H",
        f'#define MYE_MODEL_NAME "{name}"', '#define MYE_MODEL_HASH_HEX "0123456789abcdef"',
        "#define MYE_MODEL_HASH_U32 0x01234567u",
        "#define MYE_OUTPUT_SIZE 6", "#define MYE_OUTPUT_SCALE 0.00390625f", "#define MYE_OUTPUT_ZERO_POINT (-128)",
        "#define MYE_N_CLASSES 6",
        manifest_macros(cfg, 16, 0.05, -100), "#endif", ""])
    (folder / "model_manifest.h").write_text(manifest)
    (folder / "dummy_aot.h").write_text(
        f"#include <stdint.h>\n#define MYE_DUMMY_ARENA_BYTES {arena_bytes}\n"
        "int mye_model_invoke(const int8_t *input, int8_t *output);\n")
    if weight_bytes <= 100_000:  # random weights: dummy_scores() can predict the outputs
        weights = ", ".join(str(int(v)) for v in np.random.default_rng(0).integers(-128, 128, weight_bytes))
    else:  # only the size matters: a short initializer compiles fast, the rest is zero (still in flash)
        weights = "1, -2, 3"
    (folder / "dummy_aot.c").write_text(
        '#include "dummy_aot.h"\n'
        f"static const int8_t weights[{weight_bytes}] = {{{weights}}};\n"
        f"static volatile int8_t arena[MYE_DUMMY_ARENA_BYTES];\n"
        "int mye_model_invoke(const int8_t *input, int8_t *output)\n{\n"
        "    int32_t acc = 0;\n"
        f"    for (int32_t i = 0; i < {weight_bytes}; ++i) {{ acc += weights[i] * input[i % 608]; }}\n"
        "    arena[acc & (MYE_DUMMY_ARENA_BYTES - 1)] = (int8_t)acc;\n"
        "    for (int32_t k = 0; k < 6; ++k) { output[k] = (int8_t)(acc >> (4 * k)); }\n"
        "    return 0;\n}\n")
    return folder


def dummy_scores(weight_bytes: int, window: np.ndarray) -> np.ndarray:
    """What the stand-in network computes for an int8 input window (608 values)."""
    weights = np.random.default_rng(0).integers(-128, 128, weight_bytes).astype(np.int64)
    inputs = np.asarray(window, dtype=np.int64).reshape(-1)[np.arange(weight_bytes) % 608]
    acc = int(np.sum(weights * inputs))
    return np.array([((acc >> (4 * k)) & 0xFF) for k in range(6)], dtype=np.uint8).view(np.int8)


def test_build_with_model_writes_size_report(tmp_path: Path) -> None:
    from myoedge.firmware_build import build_firmware

    model = dummy_model(tmp_path / "model", weight_bytes=40_000, arena_bytes=8192)
    build = build_firmware("mps2-an386", model, tmp_path / "fw")
    assert build.elf.is_file() and build.map.is_file() and build.bin is None
    report = json.loads(build.size_report_path.read_text())
    assert report["format"] == "myoedge-size/1"
    assert report["board"] == "mps2-an386" and report["model"] == "dummy"
    spec = load_board("mps2-an386")
    assert report["flash_size"] == spec.flash_bytes and report["ram_size"] == spec.ram_bytes
    assert report["stack"] == spec.stack_bytes
    assert report["arena"] == 8192
    assert report["by_component"]["model"]["rodata"] >= 40_000
    assert report["by_component"]["model"]["bss"] >= 8192
    assert 40_000 <= report["model_flash"] < 42_000
    assert report["flash_used"] == report["text"] + report["rodata"] + report["data"]
    assert report["ram_used"] == report["data"] + report["bss"] + report["stack"]
    assert report["code_without_model"] == report["flash_used"] - report["model_flash"]
    assert report["weights"] == report["by_component"]["model"]["rodata"]
    assert report["code_without_weights"] == report["flash_used"] - report["weights"]
    assert report["code_without_weights"] < 32 * 1024  # the firmware's own code stays small
    # Components (from the map file) add up to the section totals (from size -A), up to alignment fill.
    for kind in ("text", "rodata", "data", "bss"):
        total = sum(part[kind] for part in report["by_component"].values())
        assert 0 <= report[kind] - total <= 128, kind
    # The ring buffer and filter state of preprocess.c are in bss too.
    assert report["by_component"]["firmware"]["bss"] >= 52 * 16 * 4
    assert "dummy" in build.summary()
    assert (tmp_path / "fw" / "size_report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_real_board_build_gives_flashable_images(tmp_path: Path) -> None:
    from myoedge.firmware_build import build_firmware

    model = dummy_model(tmp_path / "model", weight_bytes=2_000, arena_bytes=1024)
    build = build_firmware("nucleo-f446re", model, tmp_path / "fw")
    assert build.bin is not None and build.hex is not None
    image = build.bin.read_bytes()
    stack_top, reset = int.from_bytes(image[0:4], "little"), int.from_bytes(image[4:8], "little")
    spec = load_board("nucleo-f446re")
    assert stack_top == spec.ram_origin + spec.stack_bytes  # the stack comes first in RAM
    assert spec.flash_origin <= reset < spec.flash_origin + spec.flash_bytes and reset & 1  # Thumb
    assert build.hex.read_text().startswith(":")


def test_model_too_big_for_flash_is_refused(tmp_path: Path) -> None:
    from myoedge.firmware_build import ModelDoesNotFit, build_firmware

    model = dummy_model(tmp_path / "model", weight_bytes=600_000, arena_bytes=1024, name="huge")
    with pytest.raises(ModelDoesNotFit, match=r"does not fit board nucleo-f446re: FLASH overflowed by \d+ bytes"):
        build_firmware("nucleo-f446re", model, tmp_path / "fw")


def test_arena_too_big_for_ram_is_refused(tmp_path: Path) -> None:
    from myoedge.firmware_build import ModelDoesNotFit, build_firmware

    model = dummy_model(tmp_path / "model", weight_bytes=1_000, arena_bytes=131072, name="wide")
    with pytest.raises(ModelDoesNotFit, match=r"RAM overflowed by \d+ bytes \(the board has 131072 bytes\)"):
        build_firmware("netduinoplus2", model, tmp_path / "fw")


def test_missing_manifest_and_unknown_board_are_clear_errors(tmp_path: Path) -> None:
    from myoedge.firmware_build import FirmwareBuildError, build_firmware

    with pytest.raises(FirmwareBuildError, match="no model_manifest.h"):
        build_firmware("mps2-an386", tmp_path, tmp_path / "fw")
    with pytest.raises(ValueError, match="unknown board 'pdp-11'; known boards: mps2-an386"):
        build_firmware("pdp-11", None, tmp_path / "fw")


def test_cli_builds_and_refuses_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from myoedge.cli import main

    small = dummy_model(tmp_path / "small", weight_bytes=1_000, arena_bytes=256)
    assert main(["firmware", "build", "--board", "mps2-an386", "--model", str(small), "--out", str(tmp_path / "fw")]) == 0
    assert "size report" in capsys.readouterr().out
    assert (tmp_path / "fw" / "size_report.json").is_file() and (tmp_path / "fw" / "firmware.elf").is_file()
    huge = dummy_model(tmp_path / "huge", weight_bytes=600_000, arena_bytes=256, name="huge")
    code = main(["firmware", "build", "--board", "nucleo-f446re", "--model", str(huge), "--out", str(tmp_path / "fw2")])
    assert code != 0
    assert "does not fit board nucleo-f446re" in capsys.readouterr().err
