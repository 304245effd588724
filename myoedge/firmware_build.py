"""Build the firmware for a board and a quantised model, and report its size.

``build_firmware(board, model_build_dir, out_dir)`` runs CMake on
``firmware/`` with the Debian Arm toolchain, copies ``firmware.elf`` (and
``.bin`` / ``.hex`` for real boards) and ``firmware.map`` into ``out_dir``,
and writes ``size_report.json`` (see :class:`SizeReport`). A model that does
not fit the board's flash or RAM is refused with :class:`ModelDoesNotFit`,
naming the region and by how much it overflows: the linker script reserves
the stack, so the linker's own region check is the fit check.

``out_dir/build`` keeps CMake's build tree, so a second build is incremental.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from myoedge.boards import FIRMWARE_DIR, BoardSpec, load_board
from myoedge.toolchain import require_tools

BUILD_TIMEOUT_S = 600
SIZE_REPORT_FORMAT = "myoedge-size/1"
_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")
_ARENA = re.compile(r"^\s*#\s*define\s+MYE_(\w+)_ARENA_BYTES\s+\(?\s*(\d+)u?\s*\)?", re.MULTILINE)
_MODEL_NAME = re.compile(r'^\s*#\s*define\s+MYE_MODEL_NAME\s+"([^"]*)"', re.MULTILINE)

# Output sections -> report category (section names of boards/common_sections.ld).
_SECTION_KIND = {
    ".isr_vector": "text", ".text": "text", ".ARM.extab": "text", ".ARM.exidx": "text",
    ".rodata": "rodata", ".data": "data", ".bss": "bss", ".stack": "stack",
}


class FirmwareBuildError(RuntimeError):
    """CMake or the compiler failed; the message carries the tail of the build log."""


class ModelDoesNotFit(FirmwareBuildError):
    """The firmware with this model is larger than the board's flash or RAM."""


@dataclass(frozen=True)
class SizeReport:
    """Bytes per category of one firmware image (``size_report.json``).

    text: code and vectors (flash); rodata: constants, model weights included
    (flash); data: initialised RAM (its initial values also take flash); bss:
    zeroed RAM, the model arena included; arena: the model's activation arena
    (part of bss); stack: the reserved main stack (RAM); model_flash: flash
    bytes of the model's own objects (its generated code and constants);
    code_without_model: flash used by everything else; weights: the model's
    constants (weights, biases, requantisation tables: its rodata);
    code_without_weights: flash used by everything but those constants (the
    figure the "firmware code under 32 KB" target is about).
    """

    board: str
    model: str
    text: int
    rodata: int
    data: int
    bss: int
    arena: int
    stack: int
    flash_used: int
    flash_size: int
    ram_used: int
    ram_size: int
    model_flash: int
    code_without_model: int
    weights: int
    code_without_weights: int
    by_component: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"format": SIZE_REPORT_FORMAT, **asdict(self)}


@dataclass(frozen=True)
class FirmwareBuild:
    """What :func:`build_firmware` produced."""

    board: str
    out_dir: Path
    elf: Path
    bin: Path | None
    hex: Path | None
    map: Path
    size_report_path: Path
    size: SizeReport

    def summary(self) -> str:
        s = self.size
        lines = [
            f"firmware for {self.board} (model {s.model}): {self.elf}",
            f"  flash {s.flash_used} / {s.flash_size} B ({100.0 * s.flash_used / s.flash_size:.1f} %): "
            f"text {s.text}, rodata {s.rodata}, data {s.data}; weights {s.weights}, "
            f"everything else {s.code_without_weights}",
            f"  RAM   {s.ram_used} / {s.ram_size} B ({100.0 * s.ram_used / s.ram_size:.1f} %): "
            f"data {s.data}, bss {s.bss} (arena {s.arena}), stack {s.stack}",
            f"  size report: {self.size_report_path}",
        ]
        return "\n".join(lines)


def build_firmware(board: str, model_build_dir: Path | None, out_dir: Path, *,
                   main_source: Path | None = None, extra_sources: list[Path] | None = None,
                   extra_includes: list[Path] | None = None, jobs: int = 2) -> FirmwareBuild:
    """Build the firmware for ``board`` with the model in ``model_build_dir``.

    ``model_build_dir`` is the quantize stage's BUILD_DIR (``model_manifest.h``
    and the AOT C), or None for the bare firmware (boot banner and link
    check only). ``main_source`` / ``extra_sources`` / ``extra_includes``
    replace main.c and add files (test programs).
    """
    spec = load_board(board)
    tools = require_tools(need_qemu=False)
    out_dir = Path(out_dir).resolve()
    build_dir = out_dir / "build"
    build_dir.mkdir(parents=True, exist_ok=True)
    if model_build_dir is not None:
        model_build_dir = Path(model_build_dir).resolve()
        if not (model_build_dir / "model_manifest.h").is_file():
            raise FirmwareBuildError(f"{model_build_dir}: no model_manifest.h (run `myoedge quantize` first)")

    configure = [
        tools.cmake, "-S", str(FIRMWARE_DIR), "-B", str(build_dir),
        f"-DMYOEDGE_BOARD={spec.name}",
        f"-DMYOEDGE_MODEL_DIR={model_build_dir or ''}",
        f"-DMYOEDGE_MAIN_SOURCE={Path(main_source).resolve() if main_source else FIRMWARE_DIR / 'src' / 'main.c'}",
        f"-DMYOEDGE_EXTRA_SOURCES={';'.join(str(Path(p).resolve()) for p in extra_sources or [])}",
        f"-DMYOEDGE_EXTRA_INCLUDES={';'.join(str(Path(p).resolve()) for p in extra_includes or [])}",
        "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
    ]
    _run(configure, "configure", spec)
    _run([tools.cmake, "--build", str(build_dir), "--", f"-j{jobs}"], "build", spec, model_build_dir)

    elf = out_dir / "firmware.elf"
    shutil.copyfile(build_dir / "firmware.elf", elf)
    map_path = out_dir / "firmware.map"
    shutil.copyfile(build_dir / "firmware.map", map_path)
    bin_path = hex_path = None
    if spec.real:
        bin_path, hex_path = out_dir / "firmware.bin", out_dir / "firmware.hex"
        shutil.copyfile(build_dir / "firmware.bin", bin_path)
        shutil.copyfile(build_dir / "firmware.hex", hex_path)

    report = size_report(spec, elf, map_path, model_build_dir, tools.size)
    report_path = out_dir / "size_report.json"
    report_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    plot_size_report(report, out_dir / "size_report.png")
    _check_fit(spec, report)
    return FirmwareBuild(spec.name, out_dir, elf, bin_path, hex_path, map_path, report_path, report)


def _run(command: list[str], step: str, spec: BoardSpec, model_dir: Path | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if result.returncode == 0:
        return
    output = result.stdout + result.stderr
    overflows = _OVERFLOW.findall(output)
    if overflows:
        details = ", ".join(
            f"{region} overflowed by {int(n)} bytes (the board has {_region_size(spec, region)} bytes)"
            for region, n in overflows
        )
        raise ModelDoesNotFit(
            f"the model in {model_dir} does not fit board {spec.name}: {details}. "
            f"Choose a smaller model or a board with more memory."
        )
    raise FirmwareBuildError(f"firmware {step} for {spec.name} failed:\n{output.strip()[-3000:]}")


def _region_size(spec: BoardSpec, region: str) -> int:
    from myoedge.boards import BOARDS_DIR, read_linker_regions

    regions, _rom_data, _stack = read_linker_regions(BOARDS_DIR / spec.name / "board.ld")
    return regions.get(region, (0, 0))[1]


def _check_fit(spec: BoardSpec, report: SizeReport) -> None:
    # The linker already refuses overflows; this guards a linker script edit
    # that forgot a region.
    problems = []
    if report.flash_used > spec.flash_bytes:
        problems.append(f"flash {report.flash_used} > {spec.flash_bytes} bytes")
    if report.ram_used > spec.ram_bytes:
        problems.append(f"RAM {report.ram_used} > {spec.ram_bytes} bytes")
    if problems:
        raise ModelDoesNotFit(f"model {report.model} does not fit board {spec.name}: {'; '.join(problems)}")


def section_sizes(elf: Path, size_tool: str) -> dict[str, int]:
    """Section name -> bytes, from ``arm-none-eabi-size -A``."""
    result = subprocess.run([size_tool, "-A", str(elf)], capture_output=True, text=True, check=True)
    sizes: dict[str, int] = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def component_sizes(map_path: Path, model_dir: Path | None) -> dict[str, dict[str, int]]:
    """Bytes per component (model, kernels, cmsisdsp, firmware, libc) and kind, from the map file.

    Reads the input-section lines of the linker map ("<section> <address>
    <size> <object>"), after discarded sections.
    """
    text = map_path.read_text(errors="replace")
    start = text.find("Linker script and memory map")
    lines = text[start:].splitlines() if start >= 0 else []
    result: dict[str, dict[str, int]] = {}
    pending: str | None = None
    for line in lines:
        parts = line.split()
        if not parts or not line.startswith(" "):
            pending = None  # blank, or an output-section line (column 0): not an object's input section
            continue
        if len(parts) == 1 and parts[0].startswith(".") and line.startswith(" ."):
            pending = parts[0]  # long section name; address, size, object on the next line
            continue
        if pending is not None and len(parts) >= 3 and parts[0].startswith("0x"):
            parts = [pending, *parts]
        elif not line.startswith(" .") and not line.startswith(" COMMON"):
            pending = None
            continue
        pending = None
        if len(parts) < 4 or not parts[1].startswith("0x") or not parts[2].startswith("0x"):
            continue
        kind = _input_kind(parts[0])
        if kind is None:
            continue
        size = int(parts[2], 16)
        if size == 0:
            continue
        component = _component(" ".join(parts[3:]), model_dir)
        bucket = result.setdefault(component, {"text": 0, "rodata": 0, "data": 0, "bss": 0})
        bucket[kind] += size
    return result


def _input_kind(section: str) -> str | None:
    for prefix, kind in ((".text", "text"), (".isr_vector", "text"), (".ARM.exidx", "text"), (".ARM.extab", "text"),
                         (".rodata", "rodata"), (".data", "data"), (".bss", "bss"), ("COMMON", "bss")):
        if section == prefix or section.startswith(prefix + "."):
            return kind
    return None


def _component(obj: str, model_dir: Path | None) -> str:
    if model_dir is not None and (str(model_dir) in obj or "_aot.c" in obj):
        return "model"
    if "/kernels/" in obj:
        return "kernels"
    if "cmsisdsp" in obj or "libcmsisdsp" in obj:
        return "cmsisdsp"
    if "CMakeFiles/firmware.dir" in obj:
        return "firmware"
    return "libc"


def size_report(spec: BoardSpec, elf: Path, map_path: Path, model_dir: Path | None, size_tool: str) -> SizeReport:
    """Measure an image: section totals from ``size -A``, components from the map file."""
    sections = section_sizes(elf, size_tool)
    totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0, "stack": 0}
    for name, size in sections.items():
        kind = _SECTION_KIND.get(name)
        if kind is not None:
            totals[kind] += size
    components = component_sizes(map_path, model_dir)
    model = components.get("model", {})
    model_flash = model.get("text", 0) + model.get("rodata", 0) + model.get("data", 0)
    flash_used = totals["text"] + totals["rodata"] + totals["data"]
    return SizeReport(
        board=spec.name,
        model=_model_name(model_dir),
        text=totals["text"], rodata=totals["rodata"], data=totals["data"], bss=totals["bss"],
        arena=_arena_bytes(model_dir), stack=totals["stack"],
        flash_used=flash_used, flash_size=spec.flash_bytes,
        ram_used=totals["data"] + totals["bss"] + totals["stack"], ram_size=spec.ram_bytes,
        model_flash=model_flash, code_without_model=flash_used - model_flash,
        weights=model.get("rodata", 0), code_without_weights=flash_used - model.get("rodata", 0),
        by_component=components,
    )


def plot_size_report(report: SizeReport, path: Path) -> Path:
    """Memory map as a PNG: flash and RAM use per component against the board's sizes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    flash_parts = {name: p["text"] + p["rodata"] + p["data"] for name, p in report.by_component.items()}
    ram_parts = {name: p["data"] + p["bss"] for name, p in report.by_component.items()}
    ram_parts["stack"] = report.stack
    fig, axes = plt.subplots(2, 1, figsize=(8, 3.6))
    for axis, title, parts, capacity in ((axes[0], "flash", flash_parts, report.flash_size),
                                         (axes[1], "RAM", ram_parts, report.ram_size)):
        left = 0
        for name, size in sorted(parts.items(), key=lambda item: -item[1]):
            if size <= 0:
                continue
            axis.barh(0, size / 1024, left=left / 1024, label=f"{name} {size / 1024:.1f} KiB")
            left += size
        axis.set_xlim(0, max(capacity, left) / 1024)
        axis.set_yticks([])
        axis.set_title(f"{title}: {left / 1024:.1f} of {capacity / 1024:.0f} KiB", fontsize=9)
        axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[1].set_xlabel("KiB")
    fig.suptitle(f"{report.model} on {report.board}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _model_name(model_dir: Path | None) -> str:
    if model_dir is None:
        return "none"
    match = _MODEL_NAME.search((model_dir / "model_manifest.h").read_text())
    return match.group(1) if match else model_dir.name


def _arena_bytes(model_dir: Path | None) -> int:
    """The model's arena size from its AOT header (``MYE_<NAME>_ARENA_BYTES`` in ``*_aot.h``), 0 without a model.

    Only the AOT headers count: the manifest's ``MYE_TFLM_ARENA_BYTES`` is
    TFLM's arena for comparison, not memory this firmware uses.
    """
    if model_dir is None:
        return 0
    total = 0
    for header in sorted(model_dir.glob("*_aot.h")):
        for _name, value in _ARENA.findall(header.read_text(errors="replace")):
            total = max(total, int(value))
    return total
