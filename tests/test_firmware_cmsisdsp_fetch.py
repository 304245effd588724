"""scripts/fetch_cmsisdsp.py: pinned sha256, cache outside git, offline copy, clear errors (no network used)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_fetcher():
    spec = importlib.util.spec_from_file_location("fetch_cmsisdsp_under_test", REPO / "scripts" / "fetch_cmsisdsp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pinned_sdist() -> Path:
    """The real pinned sdist from the user's cache (downloaded by an earlier build); skip when absent."""
    fetcher = load_fetcher()
    candidate = fetcher.cache_dir() / fetcher.SDIST_NAME
    if not candidate.is_file():
        pytest.skip(f"{candidate} not cached yet (a firmware build downloads it)")
    return candidate


def test_offline_copy_is_checked_and_unpacked_into_the_cache(tmp_path: Path, pinned_sdist: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fetcher = load_fetcher()
    monkeypatch.setenv("MYOEDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MYOEDGE_CMSISDSP_SDIST", str(pinned_sdist))
    monkeypatch.setattr(fetcher, "find_sdist_url", lambda *a: pytest.fail("must not touch the network"))
    root = fetcher.fetch()
    assert root == tmp_path / "cache" / f"cmsisdsp-{fetcher.CMSISDSP_VERSION}"
    assert (root / "Include" / "arm_math.h").is_file()
    assert (root / "Source" / "FilteringFunctions" / "arm_biquad_cascade_df2T_f32.c").is_file()
    assert not (root / "cmsisdsp").exists()  # only the C library folders are unpacked
    assert fetcher.fetch() == root  # second call: from the cache
    assert not str(root).startswith(str(REPO))  # never inside the repository


def test_tampered_sdist_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetcher = load_fetcher()
    bad = tmp_path / fetcher.SDIST_NAME
    bad.write_bytes(b"not the pinned archive")
    monkeypatch.setenv("MYOEDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MYOEDGE_CMSISDSP_SDIST", str(bad))
    with pytest.raises(fetcher.FetchError, match="does not match the pinned"):
        fetcher.fetch()
    assert fetcher.main([]) == 1  # the command line reports it and fails


def test_missing_offline_copy_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetcher = load_fetcher()
    monkeypatch.setenv("MYOEDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MYOEDGE_CMSISDSP_SDIST", str(tmp_path / "nowhere.tar.gz"))
    with pytest.raises(fetcher.FetchError, match="nowhere.tar.gz, which does not exist"):
        fetcher.fetch()


def test_index_page_link_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fetcher = load_fetcher()
    page = (b'<html><body><a href="https://files.example/x/cmsisdsp-1.10.2.tar.gz#sha256=aa">old</a>'
            b'<a href="../../packages/ab/cmsisdsp-1.10.3.tar.gz#sha256=bb">new</a></body></html>')

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def read(self):
            return page

    monkeypatch.setattr(fetcher.urllib.request, "urlopen", lambda url, timeout: Response())
    url = fetcher.find_sdist_url("https://index.example/simple/cmsisdsp/")
    assert url == "https://index.example/packages/ab/cmsisdsp-1.10.3.tar.gz"
