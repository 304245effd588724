"""The HIL bench against the in-process fake board (myoedge.host.fake_board).

The windows file is written here from the fake board's own stub model and
stub preprocessor (host side), so a healthy board is bit-exact with it; the
faults a bench meets are injected on the fake board mid-run: garbage on the
line, lost replies, a dropped connection, a reboot, a hung board, a wrong
answer, another model.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("serial", reason="pyserial (the 'host' extra) is not installed")

from myoedge.hil.bench import run_bench  # noqa: E402
from myoedge.hil.multiboard import board_targets, shard_bounds  # noqa: E402
from myoedge.hil.windows import (FORMAT, RecordedStream, RecordedWindows, load_windows,  # noqa: E402
                                 save_windows)
from myoedge.host import protocol as p  # noqa: E402
from myoedge.host.fake_board import (STUB_CHANNELS, STUB_CLASSES, STUB_HOP, STUB_WINDOW,  # noqa: E402
                                     FakeBoard, FakeBoardServer, StubModel, StubPreprocessor,
                                     stub_info)

N_WINDOWS = 40
STEPS = 4  # stub input: 4 x 2 int8 = 8 values


def stub_windows(n: int = N_WINDOWS, seed: int = 0, stream_samples: int = 120) -> RecordedWindows:
    """Windows with the stub model's scores as the host reference, and a stub stream."""
    rng = np.random.default_rng(seed)
    model = StubModel()
    x = rng.integers(-40, 40, size=(n, STEPS, STUB_CHANNELS)).astype(np.int8)
    scores = np.stack([model(w.ravel()) for w in x])
    y = scores.argmax(axis=1)
    flip = rng.random(n) < 0.2
    y[flip] = rng.integers(0, STUB_CLASSES, size=int(flip.sum()))
    samples = (rng.normal(size=(stream_samples, STUB_CHANNELS)) * 30).astype(np.float32)
    pre, positions, expected = StubPreprocessor(), [], []
    for position, sample in enumerate(samples, start=1):
        window = pre.push(sample)
        if window is not None:
            positions.append(position)
            expected.append(p.predicted_class(model(window)))
    stream = RecordedStream(samples, np.array(positions), np.array(expected),
                            np.array(expected), None)
    metadata = {"format": FORMAT, "model_hash": stub_info().model_hash, "model_name": "stub-model",
                "label_names": [f"class{k}" for k in range(STUB_CLASSES)], "sampling_rate_hz": 200.0,
                "raw_window": STUB_WINDOW, "hop": STUB_HOP}
    raw = (rng.normal(size=(n, STUB_WINDOW, STUB_CHANNELS)) * 20).astype(np.float32)
    return RecordedWindows(x_int8=x, y=y.astype(np.int64), scores_int8=scores,
                           start=np.arange(n) * 5, subject=np.ones(n, dtype=np.int64),
                           repetition=np.full(n, 5), metadata=metadata, raw=raw, stream=stream)


@pytest.fixture()
def windows_file(tmp_path: Path) -> Path:
    return save_windows(tmp_path / "windows.npz", stub_windows())


class CountingModel(StubModel):
    """The stub model, with a hook run before the n-th inference (fault injection)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.hooks: dict[int, object] = {}

    def __call__(self, window: np.ndarray) -> np.ndarray:
        self.calls += 1
        hook = self.hooks.pop(self.calls, None)
        if hook is not None:
            hook()
        return super().__call__(window)


def _serve(info=None, model=None):
    board = FakeBoard(info or stub_info(), StubPreprocessor(), model or StubModel())
    return board, FakeBoardServer(board)


def _bench(url: str, windows_file: Path, out: Path, **options):
    options = {"timeout": 0.5, "retries": 1, "max_reconnects": 2, "progress": False, **options}
    return run_bench(url, out / "no-firmware", windows_file, out, **options)


def test_windows_file_round_trip(tmp_path: Path) -> None:
    windows = stub_windows()
    path = save_windows(tmp_path / "w.npz", windows)
    with np.load(path, allow_pickle=False) as data:  # plain arrays only
        assert data["x_int8"].dtype == np.int8 and data["metadata"].dtype.kind == "U"
    back = load_windows(path)
    assert np.array_equal(back.x_int8, windows.x_int8)
    assert np.array_equal(back.stream.positions, windows.stream.positions)
    assert back.metadata["model_hash"] == stub_info().model_hash


def test_a_broken_windows_file_names_the_array(tmp_path: Path) -> None:
    windows = stub_windows()
    path = save_windows(tmp_path / "w.npz", windows)
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "scores_int8"}
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="scores_int8"):
        load_windows(tmp_path / "bad.npz")
    arrays["scores_int8"] = np.zeros((3, 5), dtype=np.int8)
    np.savez(tmp_path / "bad2.npz", **arrays)
    with pytest.raises(ValueError, match=r"scores_int8 must be int8 \(40, classes\)"):
        load_windows(tmp_path / "bad2.npz")


def test_healthy_board_passes_every_check(windows_file: Path, tmp_path: Path) -> None:
    board, server = _serve()
    with server:
        report = _bench(server.url, windows_file, tmp_path / "report")
    assert report.passed, [c.summary for c in report.checks]
    names = {c.name: c for c in report.checks}
    assert names["bit_exact"].summary.startswith(f"{N_WINDOWS} of {N_WINDOWS}")
    accuracy = names["accuracy"].details
    assert accuracy["device"] == accuracy["host"]
    windows = load_windows(windows_file)
    expected_acc = float(np.mean(windows.host_predictions == windows.y))
    assert accuracy["device"]["accuracy"] == pytest.approx(expected_acc)
    assert names["stream"].passed and names["stream"].details["hops"] == len(windows.stream.positions)
    assert names["energy"].passed is None  # the stub board has no power profile
    latency = {row["stage"]: row for row in report.figures["latency"]["stages"]}
    assert latency["network"]["median"] == FakeBoard.network_cost
    assert latency["network"]["us"]["median"] == pytest.approx(FakeBoard.network_cost)  # 1 MHz clock
    assert report.figures["bench"]["raw_window"]["preprocess"]["median"] == \
        FakeBoard.preprocess_cost * STUB_WINDOW
    assert names["throughput"].details["windows_per_s"] > 0

    out = tmp_path / "report"
    saved = json.loads((out / "report.json").read_text())
    assert saved["passed"] is True and len(saved["checks"]) == len(report.checks)
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert int(suite.get("tests")) == len(report.checks) and suite.get("failures") == "0"
    assert suite.get("skipped") == "1"
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "PASSED" in page


def test_garbage_and_lost_replies_cost_nothing(windows_file: Path, tmp_path: Path) -> None:
    model = CountingModel()
    board, server = _serve(model=model)
    model.hooks[5] = lambda: setattr(board, "garbage", b"\x13\x37 noise \x00\xff\x00")
    model.hooks[9] = lambda: setattr(board, "drop_replies", 1)
    model.hooks[14] = lambda: setattr(board, "corrupt_requests", 1)
    with server:
        report = _bench(server.url, windows_file, tmp_path / "r", retries=2)
    assert report.passed, [c.summary for c in report.checks]
    assert report.check("complete").details["duplicates"] == 0


def test_a_dropped_connection_is_reopened_and_resumed(windows_file: Path, tmp_path: Path) -> None:
    model = CountingModel()
    board, server = _serve(model=model)

    def pull_the_cable() -> None:
        board.drop_replies = 1  # this answer is lost with the link
        threading.Thread(target=server.disconnect, daemon=True).start()

    model.hooks[17] = pull_the_cable
    with server:
        url = server.url
        report = _bench(url, windows_file, tmp_path / "r")
    complete = report.check("complete")
    assert report.passed, [c.summary for c in report.checks]
    assert complete.details["answered"] == N_WINDOWS and complete.details["duplicates"] == 0
    assert any("window #16" in text for text in complete.details["incidents"])
    assert report.figures["link"][f"board 0 ({url})"]["recoveries"] == 1


def test_a_reboot_mid_run_is_absorbed(windows_file: Path, tmp_path: Path) -> None:
    model = CountingModel()
    board, server = _serve(model=model)
    model.hooks[11] = lambda: threading.Thread(target=server.reboot, daemon=True).start()
    with server:
        report = _bench(server.url, windows_file, tmp_path / "r", retries=2)
    assert report.passed, [c.summary for c in report.checks]


def test_a_hung_board_is_named_and_results_are_kept(windows_file: Path, tmp_path: Path) -> None:
    model = CountingModel()
    board, server = _serve(model=model)
    model.hooks[23] = lambda: setattr(board, "hung", True)
    with server:
        url = server.url
        report = _bench(url, windows_file, tmp_path / "r", timeout=0.2, retries=0,
                        max_reconnects=1)
    assert not report.passed
    complete = report.check("complete")
    assert complete.details["answered"] == 22  # windows 0..21 answered before the hang
    assert url in complete.summary and "window #22" in complete.summary
    assert "after 1 reconnect" in complete.summary
    # What was collected is still judged and written.
    assert report.check("bit_exact").summary.startswith("22 of 22")
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    assert saved["passed"] is False
    failures = ET.parse(tmp_path / "r" / "junit.xml").getroot().iter("failure")
    assert any("window #22" in f.get("message") for f in failures)


def test_a_wrong_answer_fails_naming_the_window(windows_file: Path, tmp_path: Path) -> None:
    class OffByOne(StubModel):
        def __call__(self, window: np.ndarray) -> np.ndarray:
            scores = super().__call__(window)
            if int(window[0]) == int(load_windows(windows_file).x_int8[7].ravel()[0]):
                scores = scores.copy()
                scores[0] = np.int8(max(-128, int(scores[0]) - 1))
            return scores

    board, server = _serve(model=OffByOne())
    with server:
        report = _bench(server.url, windows_file, tmp_path / "r")
    bit_exact = report.check("bit_exact")
    assert bit_exact.passed is False and 7 in bit_exact.details["mismatches"]
    assert "#7 (subject 1, repetition 5, sample 35)" in bit_exact.summary
    assert not report.passed


def test_another_model_is_refused(windows_file: Path, tmp_path: Path) -> None:
    info = dataclasses.replace(stub_info(), model_hash="ffffffffffffffff")
    board, server = _serve(info=info)
    with server:
        report = _bench(server.url, windows_file, tmp_path / "r")
    assert not report.passed
    assert report.check("model_hash").passed is False
    assert "ffffffffffffffff" in report.check("model_hash").summary
    assert board.commands_run <= 2  # INFO only: no window was sent to the wrong model


def test_energy_estimate_from_the_power_profile(windows_file: Path, tmp_path: Path) -> None:
    from myoedge.hil.energy import power_profile

    info = dataclasses.replace(stub_info(), board="netduinoplus2", clock_hz=168_000_000)
    board, server = _serve(info=info)
    with server:
        report = _bench(server.url, windows_file, tmp_path / "r")
    energy = report.check("energy")
    assert energy.passed
    profile = power_profile("netduinoplus2")
    expected = FakeBoard.network_cost * profile.supply_v * profile.run_current_ua_per_mhz * 1e-6
    assert energy.details["estimate"]["uj_per_inference"]["network"] == pytest.approx(expected, rel=1e-3)
    assert "DS8626" in energy.details["estimate"]["source"]


def test_two_boards_split_the_windows_and_merge_in_order(windows_file: Path, tmp_path: Path) -> None:
    board_a, server_a = _serve()
    board_b, server_b = _serve()
    with server_a, server_b:
        report = _bench(f"{server_a.url},{server_b.url}", windows_file, tmp_path / "r", boards=2)
    assert report.passed, [c.summary for c in report.checks]
    shards = report.figures["shards"]
    assert [(s["first"], s["stop"]) for s in shards] == [(0, 20), (20, 40)]
    assert all(s["answered"] == 20 for s in shards)
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    assert len(saved["figures"]["boards"]) == 2


def test_board_targets_and_shards(tmp_path: Path) -> None:
    (tmp_path / "firmware.elf").write_bytes(b"\x7fELF")
    assert board_targets("qemu:mps2-an386", tmp_path, 3) == [f"qemu:mps2-an386:{tmp_path / 'firmware.elf'}"] * 3
    assert board_targets("/dev/ttyACM0,/dev/ttyACM1", tmp_path, 2) == ["/dev/ttyACM0", "/dev/ttyACM1"]
    with pytest.raises(ValueError, match="comma-separated ports"):
        board_targets("/dev/ttyACM0", tmp_path, 2)
    with pytest.raises(FileNotFoundError, match="no firmware ELF"):
        board_targets("qemu:mps2-an386", tmp_path / "missing", 1)
    assert shard_bounds(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert shard_bounds(2, 5) == [(0, 1), (1, 2)]


def test_ctrl_c_keeps_the_collected_results(windows_file: Path, tmp_path: Path) -> None:
    import os
    import signal

    class InterruptingModel(StubModel):
        """Presses Ctrl-C (SIGINT to this process) while the board works on window 10: tied to the
        bench's progress, not to a wall-clock delay that a loaded machine can outrun or lag behind."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def __call__(self, window: np.ndarray) -> np.ndarray:
            self.calls += 1
            if self.calls == 10:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the main thread handles the signal while this window is in flight
            return super().__call__(window)

    board, server = _serve(model=InterruptingModel())
    # Ctrl-C as a terminal delivers it: SIGINT raising KeyboardInterrupt in the main thread,
    # whatever handler another test or a library left installed in this worker process.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with server:
            with pytest.raises(KeyboardInterrupt, match="partial report"):
                _bench(server.url, windows_file, tmp_path / "r")
    finally:
        signal.signal(signal.SIGINT, previous)
    saved = json.loads((tmp_path / "r" / "report.json").read_text())
    complete = next(c for c in saved["checks"] if c["name"] == "complete")
    assert saved["passed"] is False and "interrupted at window" in complete["summary"]
    assert 0 < complete["details"]["answered"] < N_WINDOWS


def test_a_missing_ppk2_package_fails_the_energy_check_clearly(windows_file: Path, tmp_path: Path,
                                                               monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ppk2_api", None)
    monkeypatch.setitem(sys.modules, "ppk2_api.ppk2_api", None)
    board, server = _serve()
    with server:
        report = _bench(server.url, windows_file, tmp_path / "r", ppk2_port="/dev/ttyACM7")
    energy = report.check("energy")
    assert energy.passed is False and "pip install 'myoedge[ppk2]'" in energy.summary
    assert report.check("bit_exact").passed  # the rest of the bench still ran
    page = (tmp_path / "r" / "report.html").read_text()
    assert "balanced accuracy" in page
