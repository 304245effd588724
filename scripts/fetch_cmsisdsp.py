#!/usr/bin/env python3
"""Download and unpack the CMSIS-DSP C sources the firmware builds against.

CMSIS-DSP is third-party code, so it is never committed: the firmware build
(``firmware/cmake/cmsisdsp.cmake``) runs this script at configure time. It
takes the ``cmsisdsp`` source distribution from PyPI (which carries the whole
C library: Source/, Include/, PrivateInclude/), pinned by version and sha256,
and unpacks it into a cache outside git: ``$MYOEDGE_CACHE`` or
``~/.cache/myoedge``. Later runs reuse the cache and download nothing.

``pip download`` of this sdist fails while preparing metadata, so the file is
found on the registry's simple index page and fetched directly.

Offline: set ``MYOEDGE_CMSISDSP_SDIST`` to a local copy of the .tar.gz (its
sha256 is still checked).

Usage: ``python scripts/fetch_cmsisdsp.py`` prints the unpacked root folder.
As a PlatformIO pre-script (``extra_scripts`` in platformio.ini) it also adds
the CMSIS-DSP sources listed in ``firmware/cmake/cmsisdsp.cmake`` and the
model's C files (``$MYOEDGE_MODEL_DIR``) to the PlatformIO build.
"""

from __future__ import annotations

import argparse
import hashlib
import html.parser
import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

CMSISDSP_VERSION = "1.10.3"
CMSISDSP_SHA256 = "307d32298faa7c58db912851027fce35f886fec7eb1a27c4b309ce1a97f47519"
SIMPLE_INDEX_URL = "https://pypi.org/simple/cmsisdsp/"
SDIST_NAME = f"cmsisdsp-{CMSISDSP_VERSION}.tar.gz"
# Folders of the sdist the firmware needs; the rest (Python wrapper, tests) is not unpacked.
NEEDED_FOLDERS = ("Include/", "PrivateInclude/", "Source/")
DOWNLOAD_TIMEOUT_S = 120


class FetchError(RuntimeError):
    """CMSIS-DSP could not be obtained; the message says why and what to do."""


def cache_dir() -> Path:
    """Where downloads and unpacked trees live: $MYOEDGE_CACHE or ~/.cache/myoedge."""
    root = os.environ.get("MYOEDGE_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "myoedge"


def unpacked_root(cache: Path | None = None) -> Path:
    """The folder holding Include/ and Source/ once unpacked."""
    return (cache or cache_dir()) / f"cmsisdsp-{CMSISDSP_VERSION}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _LinkParser(html.parser.HTMLParser):
    """Collects the href of every <a> on a PEP 503 simple index page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.links.append(value)


def find_sdist_url(index_url: str = SIMPLE_INDEX_URL) -> str:
    """The download URL of the pinned sdist, read from the simple index page."""
    try:
        with urllib.request.urlopen(index_url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            page = response.read().decode("utf-8", errors="replace")
    except OSError as error:
        raise FetchError(
            f"cannot read the package index {index_url}: {error}. Without network, download "
            f"{SDIST_NAME} elsewhere and set MYOEDGE_CMSISDSP_SDIST to its path."
        ) from error
    parser = _LinkParser()
    parser.feed(page)
    for link in parser.links:
        path = urllib.parse.urlparse(link).path
        if path.rsplit("/", 1)[-1] == SDIST_NAME:
            return urllib.parse.urljoin(index_url, link.split("#", 1)[0])
    raise FetchError(f"{index_url} lists no {SDIST_NAME}")


def download(url: str, target: Path) -> None:
    """Download url to target through a temporary file (no half-written target)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            shutil.copyfileobj(response, out)
        os.replace(temp_name, target)
    except OSError as error:
        raise FetchError(f"cannot download {url}: {error}") from error
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


def verified_sdist(cache: Path) -> Path:
    """Path of the pinned sdist in the cache (or MYOEDGE_CMSISDSP_SDIST), sha256 checked."""
    local = os.environ.get("MYOEDGE_CMSISDSP_SDIST")
    sdist = Path(local) if local else cache / SDIST_NAME
    if not sdist.exists():
        if local:
            raise FetchError(f"MYOEDGE_CMSISDSP_SDIST points at {sdist}, which does not exist")
        download(find_sdist_url(), sdist)
    actual = sha256_of(sdist)
    if actual != CMSISDSP_SHA256:
        raise FetchError(
            f"{sdist}: sha256 {actual} does not match the pinned {CMSISDSP_SHA256} "
            f"for cmsisdsp {CMSISDSP_VERSION}; delete the file to download it again"
        )
    return sdist


def unpack(sdist: Path, destination: Path) -> None:
    """Unpack the C library folders of the sdist into destination (atomically)."""
    prefix = f"cmsisdsp-{CMSISDSP_VERSION}/"
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=".unpack-"))
    try:
        with tarfile.open(sdist, "r:gz") as archive:
            members = [
                member
                for member in archive.getmembers()
                if member.name.startswith(prefix)
                and member.name[len(prefix):].startswith(NEEDED_FOLDERS)
                and (member.isfile() or member.isdir())
            ]
            archive.extractall(staging, members=members, filter="data")
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(staging / prefix.rstrip("/"), destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch(cache: Path | None = None) -> Path:
    """Make sure the pinned CMSIS-DSP tree is unpacked; return its root folder."""
    cache = cache or cache_dir()
    root = unpacked_root(cache)
    marker = root / ".myoedge-sha256"
    if marker.exists() and marker.read_text().strip() == CMSISDSP_SHA256:
        return root
    cache.mkdir(parents=True, exist_ok=True)
    unpack(verified_sdist(cache), root)
    if not (root / "Include" / "arm_math.h").exists():
        raise FetchError(f"{root}: the unpacked sdist has no Include/arm_math.h")
    marker.write_text(CMSISDSP_SHA256 + "\n")
    return root


_CMAKE_SOURCES = re.compile(r"set\(MYOEDGE_CMSISDSP_SOURCES\s+(.*?)\)", re.DOTALL)


def cmsisdsp_sources(cmake_file: Path) -> list[str]:
    """The CMSIS-DSP source files the firmware builds, as listed in cmsisdsp.cmake."""
    match = _CMAKE_SOURCES.search(cmake_file.read_text())
    if not match:
        raise FetchError(f"{cmake_file}: no set(MYOEDGE_CMSISDSP_SOURCES ...)")
    return [line.split("#", 1)[0].strip() for line in match.group(1).splitlines() if line.split("#", 1)[0].strip()]


def platformio_hook(env) -> None:  # pragma: no cover - runs inside PlatformIO's SCons
    """Add CMSIS-DSP and the model to a PlatformIO build (called when run as an extra script)."""
    project = Path(env.subst("$PROJECT_DIR"))
    root = fetch()
    env.Append(CPPPATH=[str(root / "Include"), str(root / "PrivateInclude")])
    sources = cmsisdsp_sources(project / "firmware" / "cmake" / "cmsisdsp.cmake")
    env.BuildSources("$BUILD_DIR/cmsisdsp", str(root), src_filter=["-<*>"] + [f"+<{s}>" for s in sources])
    model = os.environ.get("MYOEDGE_MODEL_DIR")
    if not model or not (Path(model) / "model_manifest.h").is_file():
        raise FetchError("set MYOEDGE_MODEL_DIR to a quantize BUILD_DIR (with model_manifest.h)")
    env.Append(CPPPATH=[str(Path(model).resolve())])
    env.BuildSources("$BUILD_DIR/model", str(Path(model).resolve()), src_filter=["-<*>", "+<*.c>"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default $MYOEDGE_CACHE or ~/.cache/myoedge)")
    args = parser.parse_args(argv)
    try:
        root = fetch(args.cache)
    except FetchError as error:
        print(f"fetch_cmsisdsp: {error}", file=sys.stderr)
        return 1
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
elif "Import" in globals():  # pragma: no cover - PlatformIO runs extra scripts through SCons
    Import("env")  # noqa: F821 - SCons' global
    platformio_hook(env)  # noqa: F821
