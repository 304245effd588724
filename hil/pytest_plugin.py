"""pytest plugin: HIL fixtures for tests of your own, against real or emulated boards.

Installed with myoedge (entry point ``pytest11: myoedge_hil``). It adds
three command-line options and three fixtures, in the manner of
pytest-embedded, and does nothing else: without ``--hil-board`` the fixtures
skip the tests that ask for them, and importing the plugin imports nothing
heavier than pytest.

Options::

    --hil-board qemu:mps2-an386 | /dev/ttyACM0 | socket://host:port | rfc2217://...
    --hil-firmware FW_DIR        (the firmware folder or ELF; needed for qemu:)
    --hil-windows windows.npz    (written by `myoedge windows export`)
    --hil-timeout SECONDS        (per command, default 5; 15 under QEMU)

Fixtures:

* ``board`` (session): a connected :class:`myoedge.hil.multiboard.BoardLink`;
  ``board.info`` is the INFO reply. With ``--hil-windows`` it refuses a
  board whose model hash differs from the windows file's.
* ``client`` (per test): the board's :class:`myoedge.host.client.BoardClient`,
  soft-reset (RESET) before the test, reconnected first if the last test
  left the link broken.
* ``windows`` (session): the :class:`myoedge.hil.windows.RecordedWindows`.

Example::

    def test_first_window_is_bit_exact(client, windows):
        reply = client.infer(windows.x_int8[0], preprocessed=True)
        assert reply.scores.tolist() == windows.scores_int8[0].tolist()
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("myoedge-hil", "myoedge hardware-in-the-loop fixtures")
    group.addoption("--hil-board", default=None,
                    help="board to test: qemu:BOARD, a serial port, socket:// or rfc2217:// URL")
    group.addoption("--hil-firmware", default=None,
                    help="firmware folder (FW_DIR) or ELF; needed for qemu:BOARD")
    group.addoption("--hil-windows", default=None,
                    help="windows file (.npz) from `myoedge windows export`")
    group.addoption("--hil-timeout", type=float, default=None,
                    help="seconds per command before a retry (default 5; 15 under QEMU)")


def _option(config: pytest.Config, name: str) -> Any:
    return config.getoption(name, default=None)


@pytest.fixture(scope="session")
def windows(pytestconfig: pytest.Config) -> Any:
    """The recorded windows named by --hil-windows."""
    path = _option(pytestconfig, "--hil-windows")
    if not path:
        pytest.skip("no --hil-windows given (a windows file from `myoedge windows export`)")
    from pathlib import Path

    from myoedge.hil.windows import load_windows

    return load_windows(Path(path))


@pytest.fixture(scope="session")
def board(pytestconfig: pytest.Config) -> Iterator[Any]:
    """A connected board (BoardLink) named by --hil-board; closed after the session."""
    target = _option(pytestconfig, "--hil-board")
    if not target:
        pytest.skip("no --hil-board given (qemu:BOARD, a serial port or a socket:// URL)")
    from pathlib import Path

    from myoedge.hil.bench import DEFAULT_TIMEOUT_S, QEMU_TIMEOUT_S
    from myoedge.hil.multiboard import BoardLink, board_targets

    firmware = _option(pytestconfig, "--hil-firmware")
    if target.startswith("qemu:") and not firmware and target.count(":") < 2:
        raise pytest.UsageError("--hil-board qemu:BOARD needs --hil-firmware FW_DIR")
    expected = None
    windows_path = _option(pytestconfig, "--hil-windows")
    if windows_path:
        from myoedge.hil.windows import load_windows

        expected = load_windows(Path(windows_path)).metadata.get("model_hash")
    timeout = _option(pytestconfig, "--hil-timeout") or (
        QEMU_TIMEOUT_S if target.startswith("qemu:") else DEFAULT_TIMEOUT_S)
    resolved = board_targets(target, Path(firmware or "."), 1)[0]
    link = BoardLink(resolved, 0, expected, timeout)
    try:
        link.call(link.connect)
        yield link
    finally:
        link.shutdown()


@pytest.fixture()
def client(board: Any) -> Any:
    """The board's client, soft-reset; the link is reopened first if it broke."""
    def ready() -> Any:
        if board.client is None:
            board.connect()
        try:
            board.client.reset()
        except Exception:  # noqa: BLE001 - a broken link from the last test: reopen it
            board.recover()
            board.client.reset()
        return board.client

    return board.call(ready)
