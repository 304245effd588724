"""platformio.ini stays in step with the CMake build (PlatformIO itself cannot run here).

For each PlatformIO env (a real board), configure the CMake build for the
same board with a stand-in model and compare: the firmware sources compiled,
the compiler flags, the board's CPU flags, name, core and clock, and the
linker script. The CMSIS-DSP sources come from one list (cmsisdsp.cmake) for
both builds.
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from myoedge.boards import FIRMWARE_DIR, load_board
from myoedge.toolchain import tools_available

REPO = FIRMWARE_DIR.parent
PIO_INI = REPO / "platformio.ini"
# Deliberate differences, with the reason: on silicon the STM32F405 port runs
# from the 16 MHz HSI; board.cmake gives the 168 MHz QEMU models.
CLOCK_ON_SILICON = {"netduinoplus2": 16_000_000}


def pio_config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PIO_INI)
    return parser


def expand(parser: configparser.ConfigParser, value: str) -> str:
    """PlatformIO's ${section.option} references."""
    return re.sub(r"\$\{(\w+)\.(\w+)\}", lambda m: expand(parser, parser.get(m[1], m[2])), value)


def pio_envs() -> list[str]:
    return [s.split(":", 1)[1] for s in pio_config().sections() if s.startswith("env:")]


def pio_sources(parser: configparser.ConfigParser, env: str) -> set[str]:
    """Files under src_dir selected by build_src_filter (PlatformIO's +<glob> / -<glob> rules, in order)."""
    src_dir = REPO / parser.get("platformio", "src_dir")
    rules = re.findall(r"([+-])<([^>]*)>", expand(parser, parser.get(f"env:{env}", "build_src_filter")))
    selected: set[str] = set()
    every = [str(p.relative_to(src_dir)) for p in src_dir.rglob("*") if p.is_file()]
    for sign, pattern in rules:
        matched = {f for f in every if fnmatch.fnmatchcase(f, pattern)}
        selected = selected | matched if sign == "+" else selected - matched
    return {f for f in selected if f.endswith(".c")}


def pio_flags(parser: configparser.ConfigParser, env: str) -> list[str]:
    return shlex.split(expand(parser, parser.get(f"env:{env}", "build_flags")).replace("\n", " "))


@pytest.fixture(scope="module")
def stand_in_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_firmware_size import dummy_model

    return dummy_model(tmp_path_factory.mktemp("model"), weight_bytes=64, arena_bytes=64)


def cmake_compile_commands(board: str, model: Path, build: Path) -> list[dict]:
    subprocess.run(["cmake", "-S", str(FIRMWARE_DIR), "-B", str(build), f"-DMYOEDGE_BOARD={board}",
                    f"-DMYOEDGE_MODEL_DIR={model}", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"],
                   check=True, capture_output=True, text=True)
    return json.loads((build / "compile_commands.json").read_text())


def test_platformio_has_an_env_per_real_board() -> None:
    assert set(pio_envs()) == {"nucleo-f446re", "netduinoplus2"}
    assert load_board("nucleo-f446re").real


@pytest.mark.skipif(not tools_available(need_qemu=False), reason="cmake / arm-none-eabi-gcc missing")
@pytest.mark.parametrize("env", ["nucleo-f446re", "netduinoplus2"])
def test_platformio_env_matches_cmake_build(env: str, stand_in_model: Path, tmp_path: Path) -> None:
    parser = pio_config()
    spec = load_board(env)
    commands = cmake_compile_commands(env, stand_in_model, tmp_path / "build")
    firmware_units = [c for c in commands if "CMakeFiles/firmware.dir" in c["command"] or
                      c.get("output", "").startswith("CMakeFiles/firmware.dir")]
    cmake_sources = {str(Path(c["file"]).resolve().relative_to(FIRMWARE_DIR)) for c in firmware_units
                     if Path(c["file"]).resolve().is_relative_to(FIRMWARE_DIR)}
    model_sources = {Path(c["file"]).name for c in firmware_units if Path(c["file"]).resolve().is_relative_to(stand_in_model)}
    assert model_sources == {"dummy_aot.c"}  # PlatformIO adds the model dir's *.c through the pre-script
    assert pio_sources(parser, env) == cmake_sources

    flags = pio_flags(parser, env)
    cmake_flags = shlex.split(next(c["command"] for c in firmware_units if c["file"].endswith("src/preprocess.c")))
    wanted = [f for f in cmake_flags if f.startswith(("-std", "-O", "-g", "-f", "-W", "-m"))]
    assert wanted, cmake_flags
    for flag in wanted:
        assert flag in flags, f"platformio.ini env {env} lacks {flag} that CMake passes"
    assert set(spec.cpu_flags) <= set(flags)
    for flag in flags:
        if flag.startswith(("-f", "-W", "-std", "-O")) and not flag.startswith("-Wl,"):
            assert flag in cmake_flags, f"platformio.ini env {env} has {flag} that CMake does not pass"
    defines = dict(f[2:].split("=", 1) for f in flags if f.startswith("-D") and "=" in f)
    assert defines["MYOEDGE_BOARD_NAME"] == f'"{env}"'
    assert defines["MYOEDGE_BOARD_CORE"] == f'"{spec.core}"'
    assert int(defines["MYOEDGE_BOARD_CLOCK_HZ"].rstrip("u")) == CLOCK_ON_SILICON.get(env, spec.clock_hz)
    assert "-DARM_MATH_AUTOVECTORIZE" in flags and "-DARM_MATH_AUTOVECTORIZE" in cmake_flags
    assert not any(f.startswith("-DMYOEDGE_QEMU") for f in flags)  # real silicon paths

    linker_script = REPO / parser.get(f"env:{env}", "board_build.ldscript")
    assert linker_script == FIRMWARE_DIR / "boards" / env / "board.ld"
    link = (tmp_path / "build" / "CMakeFiles" / "firmware.dir" / "link.txt").read_text()
    for flag in ("--specs=nano.specs", "-nostartfiles", "-Wl,--gc-sections"):
        assert flag in link and flag in flags


def test_cmsisdsp_source_list_is_shared() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    import fetch_cmsisdsp

    sources = fetch_cmsisdsp.cmsisdsp_sources(FIRMWARE_DIR / "cmake" / "cmsisdsp.cmake")
    assert "Source/FilteringFunctions/arm_biquad_cascade_df2T_f32.c" in sources
    assert all(s.startswith("Source/") and s.endswith(".c") for s in sources)
    assert "extra_scripts" in pio_config()["myoedge"] and "fetch_cmsisdsp.py" in pio_config()["myoedge"]["extra_scripts"]
