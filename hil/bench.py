"""``myoedge hil run``: recorded windows through real or emulated boards, checked.

:func:`run_bench` connects to the board(s) (``open_board``: ``qemu:BOARD``,
serial ports, ``socket://`` / ``rfc2217://`` URLs), checks with INFO that the
board runs the model the windows were exported for, sends every window's
int8 network input with INFER (so the network is checked bit for bit),
feeds the recorded stream through STREAM, times the board's own
preprocessing with BENCH on a raw window, and writes ``report.json``,
``junit.xml`` and ``report.html`` into ``out``. Checks (see :mod:`.checks`):
model_hash, complete, bit_exact, accuracy, latency, stream, energy,
throughput. ``Report.passed`` is the verdict (the CLI's exit code).

Faults never cost collected results: a board that resets, drops its link or
hangs is reconnected (QEMU: restarted) and resumed at the first window
without a verified answer (:mod:`.multiboard`); a board given up is named in
the report, which is written with everything collected so far.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import checks as ck
from .energy import estimate_energy
from .latency import latency_table
from .multiboard import BoardLink, Interrupted, WindowStore, board_targets, run_shards, run_stream
from .report import Report, write_report
from .windows import RecordedWindows, load_windows

DEFAULT_TIMEOUT_S = 5.0
QEMU_TIMEOUT_S = 15.0
MIN_STREAM_AGREEMENT = 0.98
"""Without the board-preprocessing reference, the share of hops that must agree with
the training preprocessing (float64 vs the board's float32 can move a window by one
quantisation step, which now and then flips a close decision)."""
BENCH_RUNS = 16


def _size_report(firmware: Path) -> dict[str, Any] | None:
    path = Path(firmware) / "size_report.json" if Path(firmware).is_dir() else \
        Path(firmware).with_name("size_report.json")
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _info_dict(info: Any) -> dict[str, Any]:
    return {key: (value.name if hasattr(value, "name") else value)
            for key, value in vars(info).items()}


def _stream_samples(recorded: RecordedWindows, seconds: float) -> np.ndarray | None:
    stream = recorded.stream
    if stream is None or seconds <= 0:
        return None
    rate = float(recorded.metadata.get("sampling_rate_hz") or 0.0)
    count = len(stream.samples) if rate <= 0 else min(len(stream.samples), int(round(seconds * rate)))
    return stream.samples[:count]


def _latency_stages(store: WindowStore, stream_hops: list[Any]) -> dict[str, np.ndarray]:
    answered = store.answered
    stages = {
        "network": store.cycles[answered, 1],
        "infer_total": store.cycles[answered, 2],
    }
    if stream_hops:
        stages["stream_preprocess_per_hop"] = np.array([h.preprocess_cycles for h in stream_hops])
        stages["stream_network_per_hop"] = np.array([h.network_cycles for h in stream_hops])
    return stages


def run_bench(board: str, firmware: Path, windows: Path, out: Path, boards: int = 1,
              ppk2_port: str | None = None, stream_seconds: float = 10.0, *,
              timeout: float | None = None, retries: int = 3, max_reconnects: int = 3,
              progress: bool = True, log_traffic: bool = False,
              min_stream_agreement: float = MIN_STREAM_AGREEMENT,
              bench_runs: int = BENCH_RUNS, opener: Callable[..., Any] | None = None) -> Report:
    """Run every window of ``windows`` through the board(s); write and return the report.

    ``board``: ``qemu:BOARD`` (``firmware`` is the FW_DIR or ELF it runs),
    a serial port or URL, or a comma-separated list of them. ``boards``: QEMU
    instances to run in parallel (or the number of ports listed).
    ``timeout``: seconds per command before a retry (default 15 under QEMU,
    5 otherwise). ``max_reconnects``: reconnects in a row without an answer
    before a board is given up. ``opener``: replaces ``open_board`` (tests,
    custom transports); called as ``opener(target, timeout=, retries=, log=)``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    recorded = load_windows(Path(windows))
    targets = board_targets(board, Path(firmware), boards)
    emulated = board.startswith("qemu:")
    wait = float(timeout) if timeout is not None else (QEMU_TIMEOUT_S if emulated else DEFAULT_TIMEOUT_S)
    expected_hash = str(recorded.metadata.get("model_hash") or "") or None
    extra = {"opener": opener} if opener is not None else {}
    links = [BoardLink(target, index, expected_hash, wait, retries,
                       log=out / f"traffic_board{index}.log" if log_traffic else None, **extra)
             for index, target in enumerate(targets)]
    store = WindowStore(len(recorded), recorded.n_classes)
    figures: dict[str, Any] = {"windows_file": str(recorded.path), "firmware": str(firmware),
                               "targets": targets, "size_report": _size_report(Path(firmware)),
                               "windows_metadata": recorded.metadata}
    stream_hops: list[Any] = []
    stream_error: str | None = None
    outcomes: list[Any] = []
    stream_sent = 0
    interrupted: Interrupted | None = None
    try:
        try:
            outcomes = run_shards(links, recorded, store, max_reconnects, progress)
        except Interrupted as stop:  # write what was collected, then stop
            interrupted, outcomes = stop, stop.outcomes
            raise
        healthy = [link for link, o in zip(links, outcomes) if o.abort is None and link.info]
        main = healthy[0] if healthy else None
        samples = _stream_samples(recorded, stream_seconds)
        if samples is not None and main is None:
            stream_error = "no board left to run STREAM"
        elif samples is not None and len(samples):
            stream_sent = len(samples)
            try:
                stream_hops, incidents = main.call(run_stream, main, samples, max_reconnects,
                                                   chunk_timeout=wait * 4)
                figures["stream_incidents"] = incidents
            except Exception as err:  # noqa: BLE001 - reported as the stream check's failure
                stream_error = f"{type(err).__name__}: {err}"
        figures["bench"] = main.call(_bench_figures, main, recorded, bench_runs, ppk2_port, wait) \
            if main is not None else {}
    except Interrupted:
        stream_error = "interrupted before STREAM"
    finally:
        for link in links:
            link.shutdown()

    infos = {link.name: link.info for link in links if link.info is not None}
    figures["boards"] = {name: _info_dict(info) for name, info in infos.items()}
    figures["link"] = {link.name: {"connects": link.connects, "recoveries": link.recoveries}
                       for link in links}
    figures["shards"] = [vars(o) for o in outcomes]
    report = _judge(recorded, store, outcomes, infos, stream_hops, stream_sent, stream_error,
                    figures, min_stream_agreement)
    first_info = next(iter(infos.values()), None)
    unit = first_info.cycle_unit.name.lower() if first_info is not None else "cycles"
    confusion = None
    if store.answered.any():
        accuracy = report.check("accuracy")
        confusion = np.asarray(accuracy.details.get("device", {}).get("confusion_matrix")) \
            if accuracy.details else None
    title = f"myoedge HIL bench: {first_info.model_name if first_info else '?'} on " \
            f"{first_info.board if first_info else board}"
    write_report(report, out, confusion=confusion, label_names=recorded.label_names,
                 latency_stages=_latency_stages(store, stream_hops), unit=unit, title=title)
    if progress:
        for item in report.checks:
            word = {True: "PASS", False: "FAIL", None: "SKIP"}[item.passed]
            print(f"  {word:4} {item.name:11} {item.summary}")
        print(f"HIL bench {'PASSED' if report.passed else 'FAILED'}; report: {out / 'report.html'}")
    if interrupted is not None:
        raise KeyboardInterrupt(f"interrupted; partial report in {out}")
    return report


def _bench_figures(link: BoardLink | None, recorded: RecordedWindows, runs: int,
                   ppk2_port: str | None, wait: float) -> dict[str, Any]:
    """BENCH on a raw window (the board's preprocessing time) and, with a PPK2, measured current."""
    result: dict[str, Any] = {}
    if link is None or link.client is None:
        return result
    info = link.info
    raw = recorded.raw
    if raw is not None and raw.shape[1:] == (info.raw_window, info.raw_channels):
        try:
            reply = link.client.bench(runs, window=raw[0], preprocessed=False, timeout=wait * 4)
            result["raw_window"] = {"runs": reply.runs, "unit": reply.unit.name.lower(),
                                    **{stage: vars(getattr(reply, stage))
                                       for stage in ("preprocess", "network", "total")}}
        except Exception as err:  # noqa: BLE001 - a figure, not a verdict
            result["raw_window_error"] = f"{type(err).__name__}: {err}"
    if ppk2_port:
        result["ppk2"] = _measure_ppk2(link, recorded, ppk2_port, wait)
    return result


def _measure_ppk2(link: BoardLink, recorded: RecordedWindows, port: str, wait: float) -> dict[str, Any]:
    from .energy import power_profile
    from .ppk2 import energy_per_inference_uj, measure_current

    info = link.info
    profile = power_profile(info.board)
    supply_mv = int(round((profile.supply_v if profile else 3.3) * 1000))
    runs = min(info.max_bench_runs or 128, 128)
    try:
        measurement, reply = measure_current(port, lambda: link.client.bench(
            runs, window=recorded.x_int8[0], preprocessed=True, timeout=wait * 8), supply_mv=supply_mv)
    except Exception as err:  # noqa: BLE001 - the energy check reports it
        return {"error": f"{type(err).__name__}: {err}"}
    return {"mean_current_ua": measurement.mean_ua, "samples": measurement.samples,
            "seconds": measurement.seconds, "supply_mv": measurement.supply_mv, "runs": runs,
            "uj_per_inference": round(energy_per_inference_uj(measurement, reply.total.median,
                                                              info.clock_hz), 4)}


def _throughput(outcomes: list[Any]) -> ck.CheckResult:
    """Windows per second from the first INFER sent to the last answer (QEMU start-up and
    the first connection left out; recoveries mid-run included)."""
    timed = [o for o in outcomes if o.first_sent is not None and o.last_answer is not None]
    per_board = {f"board {o.board}": round(o.answered / (o.last_answer - o.first_sent), 3)
                 for o in timed if o.last_answer > o.first_sent}
    if not timed:
        return ck.check_throughput(0, 0.0, per_board)
    seconds = max(o.last_answer for o in timed) - min(o.first_sent for o in timed)
    return ck.check_throughput(sum(o.answered for o in timed), seconds, per_board)


def _judge(recorded: RecordedWindows, store: WindowStore, outcomes: list[Any], infos: dict[str, Any],
           stream_hops: list[Any], stream_sent: int, stream_error: str | None,
           figures: dict[str, Any], min_stream_agreement: float) -> Report:
    """Every check on what was collected; figures gathered for the report."""
    aborts = [o.abort for o in outcomes if o.abort]
    incidents = [text for o in outcomes for text in o.incidents]
    names = ck.window_names(range(len(recorded)), recorded.start, recorded.subject, recorded.repetition)
    results: list[ck.CheckResult] = []

    expected = str(recorded.metadata.get("model_hash") or "")
    if infos:
        results.append(ck.check_model_hash({n: i.model_hash for n, i in infos.items()}, expected))
    else:
        results.append(ck.CheckResult("model_hash", False, "no board answered INFO: " +
                                      ("; ".join(aborts) or "no connection"), {"expected": expected}))
    results.append(ck.check_complete(len(recorded), store.answers, incidents, aborts))
    results.append(ck.check_bit_exact(store.scores, recorded.scores_int8, store.answered, names))
    results.append(ck.check_accuracy(store.predicted, recorded.host_predictions, recorded.y,
                                     store.answered, recorded.n_classes))

    info = next(iter(infos.values()), None)
    unit = info.cycle_unit.name.lower() if info is not None else "cycles"
    clock = int(info.clock_hz) if info is not None else 0
    stages = _latency_stages(store, stream_hops)
    rows = [row.to_dict() for row in latency_table(stages, unit, clock)]
    figures["latency"] = {"unit": unit, "clock_hz": clock, "stages": rows,
                          "note": "instructions counted under QEMU -icount; microseconds assume "
                                  "one instruction per cycle" if unit == "instructions" else ""}
    results.append(ck.check_latency(rows, unit) if store.answered.any() else
                   ck.CheckResult("latency", False, "no window was answered", {}))

    stream = recorded.stream
    if stream is None:
        note = recorded.metadata.get("stream_note") or "the windows file holds no recorded stream"
        results.append(ck.skipped("stream", str(note)))
    elif stream_error is not None:
        results.append(ck.CheckResult("stream", False, f"STREAM failed: {stream_error}"))
    elif stream_sent == 0:
        results.append(ck.skipped("stream", "stream_seconds is 0: no STREAM sent"))
    else:
        results.append(ck.check_stream([(h.position, h.predicted) for h in stream_hops],
                                       stream.positions, stream.expected, stream.expected_board,
                                       stream.labels, min_stream_agreement, stream_sent))

    board_name = info.board if info is not None else "?"
    medians = {row["stage"]: row["median"] for row in rows}
    per_inference = {key: medians[key] for key in ("network", "infer_total") if key in medians}
    if "stream_preprocess_per_hop" in medians:
        per_inference["preprocess_per_hop"] = medians["stream_preprocess_per_hop"]
    estimate = estimate_energy(board_name, per_inference) if per_inference else None
    ppk2 = figures.get("bench", {}).get("ppk2")
    if ppk2 is not None and "error" in ppk2:
        results.append(ck.CheckResult("energy", False, f"PPK2 measurement failed: {ppk2['error']}",
                                      {"estimate": estimate}))
    else:
        results.append(ck.check_energy(estimate, ppk2, board_name))
    figures["energy"] = {"estimate": estimate, "measured": ppk2}

    results.append(_throughput(outcomes))
    figures["throughput"] = results[-1].details
    return Report(results, figures)
