"""The pytest plugin's fixtures (board, client, windows), run in a child pytest
against the fake board, and its silence when no option is given."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("serial", reason="pyserial (the 'host' extra) is not installed")

from myoedge.hil.windows import save_windows  # noqa: E402
from myoedge.host.fake_board import FakeBoard, FakeBoardServer, StubModel, StubPreprocessor, stub_info  # noqa: E402

USER_TESTS = '''
def test_windows_are_bit_exact(client, windows):
    for index in range(5):
        reply = client.infer(windows.x_int8[index], preprocessed=True)
        assert reply.scores.tolist() == windows.scores_int8[index].tolist()

def test_board_info(board):
    assert board.info.board == "host-stub"

def test_client_survives_a_broken_link(client):
    client.port.close()  # the next test's client must be reopened

def test_after_a_broken_link(client, windows):
    assert client.info().model_hash == windows.metadata["model_hash"]
'''


def _plugin_args() -> list[str]:
    installed = any(ep.name == "myoedge_hil" for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "myoedge.hil.pytest_plugin"]


def _run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
               *_plugin_args(), *args, str(folder)]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)


def test_fixtures_drive_the_fake_board(tmp_path: Path) -> None:
    from test_hil_bench import stub_windows

    windows = save_windows(tmp_path / "w.npz", stub_windows())
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_user_hil.py").write_text(USER_TESTS)
    board = FakeBoard(stub_info(), StubPreprocessor(), StubModel())
    with FakeBoardServer(board) as server:
        done = _run_pytest(suite, "--hil-board", server.url, "--hil-windows", str(windows),
                           "--hil-timeout", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_without_options_the_fixtures_skip(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_user_hil.py").write_text(USER_TESTS)
    done = _run_pytest(suite, "-rs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 skipped" in done.stdout and "no --hil-board given" in done.stdout


def test_the_plugin_imports_only_pytest() -> None:
    code = ("import sys; import myoedge.hil.pytest_plugin; "
            "heavy = [m for m in ('numpy', 'serial', 'tensorflow', 'myoedge.hil.bench') if m in sys.modules]; "
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
