"""Compile generated C with the host gcc and drive it from Python (parity tests).

``AotModel(model_bytes)`` generates the C for a model, compiles it together
with the kernel sources it needs (``firmware/kernels/src/*.c``) into a shared
library, and loads it with ctypes. Builds are cached in a folder keyed by the
SHA-256 of every source, header and flag, so a second run of the same model
costs only the ``dlopen``. The cache lives under ``$MYOEDGE_CACHE`` or
``~/.cache/myoedge`` (never in the repository).

Only the kernel source files that define the kernels a model uses (and the
``mye_`` functions those call) are compiled, so one broken kernel file does
not stop every model from building.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .generate import AotResult, c_identifier, generate_c

KERNELS_DIR = Path(__file__).resolve().parents[2] / "firmware" / "kernels"
HOST_CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC"]

_DTYPES = {"INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "INT32": np.int32,
           "INT64": np.int64, "FLOAT32": np.float32, "BOOL": np.uint8}


class HostBuildError(RuntimeError):
    """gcc failed on the generated C or the kernel library; the message holds its output."""


def cache_root() -> Path:
    """Where builds are cached: ``$MYOEDGE_CACHE/aot`` or ``~/.cache/myoedge/aot``."""
    base = os.environ.get("MYOEDGE_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "myoedge"
    return root / "aot"


def _definitions(sources: list[Path]) -> dict[str, Path]:
    """Function name -> the .c file that defines it (``name(...) {`` at file scope)."""
    defined: dict[str, Path] = {}
    pattern = re.compile(r"^[A-Za-z_][\w \t\*]*?\b(mye_\w+)\s*\([^;{]*\)\s*\{", re.MULTILINE)
    for path in sources:
        for match in pattern.finditer(path.read_text()):
            defined.setdefault(match.group(1), path)
    return defined


def kernel_sources(kernels: list[str], kernels_dir: Path = KERNELS_DIR) -> list[Path]:
    """The kernel .c files needed for ``kernels``, following calls to other ``mye_`` functions."""
    all_sources = sorted((kernels_dir / "src").glob("*.c"))
    defined = _definitions(all_sources)
    needed: set[Path] = set()
    pending = [k for k in kernels]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = defined.get(name)
        if path is None:
            raise HostBuildError(f"no kernel source in {kernels_dir / 'src'} defines {name}")
        if path not in needed:
            needed.add(path)
            pending.extend(set(re.findall(r"\b(mye_\w+)\s*\(", path.read_text())) & set(defined))
    return sorted(needed)


def _digest(paths: list[Path], flags: list[str]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.name).encode())
        h.update(path.read_bytes())
    h.update(" ".join(flags).encode())
    return h.hexdigest()[:20]


def _compile_object(source: Path, flags: list[str]) -> Path:
    """Compile one kernel source to a cached object file (keyed by source, headers, flags)."""
    headers = sorted((KERNELS_DIR / "include").glob("*.h"))
    key = _digest([source, *headers], flags)
    target = cache_root() / "obj" / key / f"{source.stem}.o"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".o")
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = ["gcc", *flags, f"-I{KERNELS_DIR / 'include'}", "-c", str(source), "-o", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise HostBuildError(f"gcc failed on {source}:\n{' '.join(cmd)}\n{proc.stderr[-6000:]}")
    os.replace(tmp, target)
    return target


def build_shared_library(result: AotResult, debug: bool = True, emulate_dsp: bool = False,
                         extra_flags: list[str] | None = None) -> Path:
    """Compile ``result``'s C and its kernels into a cached shared library; return its path."""
    flags = list(HOST_CFLAGS)
    if emulate_dsp:
        flags.append("-DMYE_EMULATE_DSP")
    flags += extra_flags or []
    objects = [_compile_object(src, flags) for src in kernel_sources(result.kernels_used)]
    model_flags = flags + (["-DMYE_AOT_DEBUG"] if debug else [])
    headers = sorted((KERNELS_DIR / "include").glob("*.h")) + [result.h_path]
    key = _digest([result.c_path, *headers, *objects], model_flags)
    target = cache_root() / "lib" / key / f"lib{result.name}_aot.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".so")
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = ["gcc", *model_flags, "-shared", f"-I{KERNELS_DIR / 'include'}", f"-I{result.c_path.parent}",
           str(result.c_path), *map(str, objects), "-o", str(tmp), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise HostBuildError(f"gcc failed building {result.name}:\n{' '.join(cmd)}\n{proc.stderr[-6000:]}")
    os.replace(tmp, target)
    return target


def generate_cached(model_bytes: bytes, name: str = "model", fuse_lut: bool = False) -> AotResult:
    """Generate the C for ``model_bytes`` into the cache (folder keyed by model, options and generator)."""
    gen_sources = sorted(Path(__file__).resolve().parent.glob("*.py"))
    h = hashlib.sha256(model_bytes)
    h.update(f"fuse_lut={fuse_lut}".encode())
    for path in gen_sources:
        h.update(path.read_bytes())
    out_dir = cache_root() / "gen" / f"{c_identifier(name)}_{h.hexdigest()[:20]}"
    return generate_c(model_bytes, out_dir, name, fuse_lut=fuse_lut)


def _result_from_dir(build_dir: Path) -> AotResult:
    """Rebuild an ``AotResult`` from a folder that ``generate_c`` wrote."""
    metas = sorted(Path(build_dir).glob("*_aot.json"))
    if len(metas) != 1:
        raise FileNotFoundError(f"{build_dir}: expected one *_aot.json, found {len(metas)}")
    meta = json.loads(metas[0].read_text())
    name = meta["name"]
    return AotResult(
        name=name, c_path=metas[0].with_name(f"{name}_aot.c"), h_path=metas[0].with_name(f"{name}_aot.h"),
        json_path=metas[0], arena_bytes=meta["arena_bytes"], state_bytes=meta["state_bytes"],
        const_bytes=meta["const_bytes"], kernels_used=meta["kernels_used"],
        input_shape=tuple(meta["input"]["shape"]), output_shape=tuple(meta["output"]["shape"]),
    )


_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int8), ctypes.c_int)


class AotModel:
    """A generated model compiled for the host and callable from Python.

    ``source`` is the .tflite bytes (generated into the cache) or a folder
    written by ``generate_c``; ``fuse_lut`` turns on element-wise LUT fusion
    when generating from bytes. ``emulate_dsp`` builds the kernels' DSP path
    with the intrinsics emulated in C, to check it matches the portable path.
    """

    def __init__(self, source: bytes | Path | str, name: str = "model", emulate_dsp: bool = False,
                 fuse_lut: bool = False) -> None:
        if isinstance(source, (bytes, bytearray)):
            self.result = generate_cached(bytes(source), name, fuse_lut=fuse_lut)
        else:
            self.result = _result_from_dir(Path(source))
        self.meta = json.loads(self.result.json_path.read_text())
        self.library_path = build_shared_library(self.result, debug=True, emulate_dsp=emulate_dsp)
        self._lib = ctypes.CDLL(str(self.library_path))
        ident = self.result.name
        self._invoke = getattr(self._lib, f"mye_{ident}_invoke")
        self._invoke.argtypes = [ctypes.POINTER(ctypes.c_int8), ctypes.POINTER(ctypes.c_int8)]
        self._invoke.restype = ctypes.c_int
        self._reset = getattr(self._lib, f"mye_{ident}_reset")
        self._reset.restype = None
        self._set_hook = getattr(self._lib, f"mye_{ident}_set_tensor_hook")
        self._set_hook.argtypes = [_HOOK]
        self._set_hook.restype = None
        self.input_shape = tuple(self.meta["input"]["shape"])
        self.output_shape = tuple(self.meta["output"]["shape"])

    def reset(self) -> None:
        """Zero the variable tensors (recurrent state)."""
        self._reset()

    def invoke(self, x: np.ndarray, reset: bool = True) -> np.ndarray:
        """Run one inference on int8 ``x`` (any shape with the input's element count).

        ``reset`` zeroes the variable state first (one independent window per call);
        TFLM keeps state between invokes until ``reset()``, so compare like with like.
        """
        x = np.ascontiguousarray(x, dtype=np.int8)
        n_in = int(np.prod(self.input_shape))
        if x.size != n_in:
            raise ValueError(f"input has {x.size} values, the model takes {n_in} {self.input_shape}")
        out = np.zeros(self.output_shape, dtype=np.int8)
        if reset:
            self._reset()
        rc = self._invoke(x.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)),
                          out.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)))
        if rc != 0:
            raise RuntimeError(f"mye_{self.result.name}_invoke returned {rc}")
        return out

    def run_batch(self, xs: np.ndarray, reset: bool = True) -> np.ndarray:
        """``invoke`` on every window of ``xs`` (first axis); outputs stacked."""
        return np.stack([self.invoke(x, reset=reset) for x in np.asarray(xs)])

    def trace(self, x: np.ndarray, reset: bool = True) -> dict[int, np.ndarray]:
        """Every op output tensor of one inference: tensor index -> array (shape and dtype of the tensor)."""
        captured: dict[int, np.ndarray] = {}
        tensors = self.meta["tensors"]

        def hook(op_index: int, tensor_index: int, data: ctypes.POINTER(ctypes.c_int8), nbytes: int) -> None:
            raw = np.ctypeslib.as_array(data, shape=(nbytes,)).copy() if nbytes > 0 else np.zeros(0, np.int8)
            info = tensors.get(str(tensor_index))
            if info is not None and info["type"] in _DTYPES:
                raw = raw.view(_DTYPES[info["type"]]).reshape(info["shape"])
            captured[tensor_index] = raw

        callback = _HOOK(hook)
        self._set_hook(callback)
        try:
            self.invoke(x, reset=reset)
        finally:
            self._set_hook(_HOOK())
        return captured


ARM_CFLAGS = ["-std=c99", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2",
              "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections"]


def _arm_section_sizes(obj: Path) -> dict[str, int]:
    """text / data / bss byte counts of one object (``arm-none-eabi-size``, Berkeley format)."""
    proc = subprocess.run(["arm-none-eabi-size", str(obj)], capture_output=True, text=True, check=True)
    text, data, bss = (int(v) for v in proc.stdout.splitlines()[1].split()[:3])
    return {"text": text, "data": data, "bss": bss}


def estimate_flash(result: AotResult) -> dict[str, int]:
    """Flash and static RAM of a generated model built for a Cortex-M4F (arm-none-eabi-gcc -O2).

    ``kernels_text``: code of the kernel files the model uses; ``model_text``:
    the generated invoke function plus its constants (weights, multipliers,
    tables); ``flash_bytes`` their sum; ``ram_bytes`` the arena and state.
    Raises ``HostBuildError`` when the ARM toolchain is missing or fails.
    """
    if shutil.which("arm-none-eabi-gcc") is None:
        raise HostBuildError("arm-none-eabi-gcc is not installed: cannot estimate flash")
    with tempfile.TemporaryDirectory(prefix="mye_flash_") as tmp:
        sizes = []
        for source in [result.c_path, *kernel_sources(result.kernels_used)]:
            obj = Path(tmp) / f"{source.stem}.o"
            cmd = ["arm-none-eabi-gcc", *ARM_CFLAGS, f"-I{KERNELS_DIR / 'include'}", f"-I{result.c_path.parent}",
                   "-c", str(source), "-o", str(obj)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise HostBuildError(f"arm-none-eabi-gcc failed on {source}:\n{proc.stderr[-4000:]}")
            sizes.append(_arm_section_sizes(obj))
    model, kernels = sizes[0], sizes[1:]
    kernels_text = sum(s["text"] for s in kernels)
    return {
        "kernels_text": kernels_text,
        "model_text": model["text"] + model["data"],
        "flash_bytes": kernels_text + model["text"] + model["data"],
        "ram_bytes": model["bss"] + sum(s["bss"] + s["data"] for s in kernels),
    }
