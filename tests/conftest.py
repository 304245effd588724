"""Shared test fixtures: where the real recordings live.

Real data stays outside the repository, in ``../shared/data/`` next to the
repository root (or wherever ``MYOEDGE_SHARED_DATA`` points); tests that need
it skip with a message saying where they looked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared/data"


def shared_data_root() -> Path:
    """``$MYOEDGE_SHARED_DATA`` when set, else ``../shared/data`` beside the repository."""
    override = os.environ.get("MYOEDGE_SHARED_DATA")
    return Path(override).expanduser() if override else DEFAULT_SHARED_DATA


def find_ninapro_db5() -> Path | None:
    """The folder holding the shared NinaPro DB5 files, or None.

    ``MYOEDGE_SHARED_DATA`` may name the shared data folder (holding
    ``ninapro-db5/``) or the DB5 folder itself.
    """
    root = shared_data_root()
    for candidate in (root / "ninapro-db5", root):
        if candidate.is_dir() and any(candidate.glob("S*_E*_A1.mat")):
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """Path of the real NinaPro DB5 files (subjects 1, 3, 4, exercise 1); skips when absent."""
    found = find_ninapro_db5()
    if found is None:
        pytest.skip(
            f"../shared/data/ninapro-db5 not found: looked in {shared_data_root() / 'ninapro-db5'} "
            "(set MYOEDGE_SHARED_DATA to the folder holding ninapro-db5/ to run the real-data tests)"
        )
    return found
