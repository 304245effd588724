"""The bench's checks: each turns collected results into one pass / fail verdict.

Every check returns a :class:`CheckResult` (one JUnit test case): a name, a
verdict (``True`` pass, ``False`` fail, ``None`` skipped with a reason), a
one-line summary and the figures behind it. Checks never talk to a board;
:mod:`.bench` collects, these judge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

MAX_NAMED = 20
"""Most offending windows named in a summary (all are in the details)."""


@dataclass
class CheckResult:
    """One check's verdict and the figures behind it."""

    name: str
    passed: bool | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def skipped(self) -> bool:
        return self.passed is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def skipped(name: str, reason: str) -> CheckResult:
    """A check that could not run, and why."""
    return CheckResult(name, None, reason)


def window_names(indices: Sequence[int], start: np.ndarray, subject: np.ndarray,
                 repetition: np.ndarray) -> list[str]:
    """Readable names of windows: index, and subject / repetition / first sample when known."""
    names = []
    for i in indices:
        i = int(i)
        if start[i] >= 0:
            names.append(f"#{i} (subject {subject[i]}, repetition {repetition[i]}, sample {start[i]})")
        else:
            names.append(f"#{i}")
    return names


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMED])
    return shown + (f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else "")


def check_model_hash(boards: dict[str, str], expected: str) -> CheckResult:
    """Every board runs the model the windows were exported for."""
    wrong = {name: got for name, got in boards.items() if got != expected}
    if wrong:
        listed = "; ".join(f"{name} runs {got!r}" for name, got in wrong.items())
        return CheckResult("model_hash", False, f"model hash differs from the windows file's "
                           f"{expected!r}: {listed}", {"expected": expected, "boards": boards})
    return CheckResult("model_hash", True, f"{len(boards)} board(s) run model {expected}",
                       {"expected": expected, "boards": boards})


def check_complete(n_windows: int, answered: Sequence[int], incidents: list[str],
                   aborts: list[str]) -> CheckResult:
    """Every window has exactly one verified answer (none lost, none counted twice)."""
    answered = list(answered)
    seen = set(answered)
    missing = [i for i in range(n_windows) if i not in seen]
    duplicates = len(answered) - len(seen)
    details = {"windows": n_windows, "answered": len(seen), "missing": missing[:1000],
               "n_missing": len(missing), "duplicates": duplicates, "incidents": incidents,
               "aborts": aborts}
    if missing or duplicates or aborts:
        why = "; ".join(aborts) if aborts else ""
        summary = (f"{len(seen)} of {n_windows} windows answered"
                   + (f", {duplicates} counted twice" if duplicates else "")
                   + (f": {why}" if why else ""))
        return CheckResult("complete", False, summary, details)
    extra = f" after {len(incidents)} link incident(s), each recovered" if incidents else ""
    return CheckResult("complete", True, f"all {n_windows} windows answered once{extra}", details)


def check_bit_exact(device_scores: np.ndarray, host_scores: np.ndarray, answered: np.ndarray,
                    names: Sequence[str]) -> CheckResult:
    """Device int8 scores equal the host TFLM reference's, window for window."""
    idx = np.flatnonzero(answered)
    if idx.size == 0:
        return CheckResult("bit_exact", False, "no window was answered")
    same = np.all(device_scores[idx] == host_scores[idx], axis=1)
    bad = idx[~same]
    worst = int(np.max(np.abs(device_scores[bad].astype(np.int32) - host_scores[bad].astype(np.int32)))) \
        if bad.size else 0
    details = {"compared": int(idx.size), "bit_exact": int(same.sum()),
               "mismatches": [int(i) for i in bad], "max_abs_difference_lsb": worst}
    if bad.size:
        return CheckResult("bit_exact", False,
                           f"{bad.size} of {idx.size} windows differ from the host reference "
                           f"(max {worst} LSB): {_listed([names[i] for i in bad])}", details)
    return CheckResult("bit_exact", True, f"{idx.size} of {idx.size} windows bit-exact", details)


def _core(metrics: dict[str, Any]) -> dict[str, Any]:
    return {key: metrics[key] for key in ("accuracy", "balanced_accuracy", "mcc", "per_class_recall",
                                          "confusion_matrix")}


def check_accuracy(device_pred: np.ndarray, host_pred: np.ndarray, labels: np.ndarray,
                   answered: np.ndarray, n_classes: int) -> CheckResult:
    """Device and host figures against the labels; they must be equal (same int8 model)."""
    from myoedge.training.metrics import classification_metrics

    idx = np.flatnonzero(answered)
    if idx.size == 0:
        return CheckResult("accuracy", False, "no window was answered")
    device = _core(classification_metrics(labels[idx], device_pred[idx], n_classes))
    host = _core(classification_metrics(labels[idx], host_pred[idx], n_classes))
    agreement = float(np.mean(device_pred[idx] == host_pred[idx]))
    details = {"device": device, "host": host, "windows": int(idx.size), "agreement": agreement}
    figures = (f"device accuracy {device['accuracy']:.4f} / balanced {device['balanced_accuracy']:.4f} "
               f"/ MCC {device['mcc']:.4f}; host {host['accuracy']:.4f} / "
               f"{host['balanced_accuracy']:.4f} / {host['mcc']:.4f}")
    if device["confusion_matrix"] != host["confusion_matrix"]:
        return CheckResult("accuracy", False, f"device and host differ ({agreement:.4f} agreement): "
                           f"{figures}", details)
    return CheckResult("accuracy", True, figures, details)


def check_latency(rows: list[dict[str, Any]], unit: str) -> CheckResult:
    """Cycle counts came back for the network on every window, in a known unit."""
    by_stage = {row["stage"]: row for row in rows}
    network = by_stage.get("network")
    if network is None or network["min"] <= 0:
        return CheckResult("latency", False, "the board reported no network cycles",
                           {"unit": unit, "stages": rows})
    us = network["us"]["median"]
    summary = (f"network median {network['median']} {unit}"
               + (f" ({us} us at the board clock)" if us is not None else "")
               + f", p95 {network['p95']}, max {network['max']}")
    return CheckResult("latency", True, summary, {"unit": unit, "stages": rows})


def check_stream(device: list[tuple[int, int]], expected_positions: np.ndarray,
                 expected_host: np.ndarray, expected_board: np.ndarray | None,
                 labels: np.ndarray, min_host_agreement: float,
                 samples_sent: int | None = None) -> CheckResult:
    """STREAM predictions against the host's, hop by hop.

    ``samples_sent``: how much of the recorded stream went to the board; every
    hop the host expects within it must come back (default: the whole stream).

    With the board-preprocessing reference (bit-exact with the firmware) every
    hop must match it; without it, agreement with the training preprocessing
    (float64, so a hop may differ by one quantisation step) must reach
    ``min_host_agreement``.
    """
    positions = np.array([p for p, _ in device], dtype=np.int64)
    predicted = np.array([c for _, c in device], dtype=np.int64)
    k = len(device)
    due = len(expected_positions) if samples_sent is None else \
        int(np.sum(expected_positions <= samples_sent))
    details: dict[str, Any] = {"hops": k, "expected_hops": due, "positions_match": False}
    if k == 0:
        return CheckResult("stream", False, "the board returned no STREAM predictions", details)
    if k != due or not np.array_equal(positions, expected_positions[:k]):
        details["first_positions"] = positions[:10].tolist()
        return CheckResult("stream", False, f"the board returned {k} hops, the host expects {due}; "
                           f"first positions {positions[:5].tolist()} vs "
                           f"{expected_positions[:5].tolist()}", details)
    details["positions_match"] = True
    host_agree = float(np.mean(predicted == expected_host[:k]))
    details.update(host_agreement=host_agree,
                   device_label_accuracy=float(np.mean(predicted == labels[:k])),
                   host_label_accuracy=float(np.mean(expected_host[:k] == labels[:k])),
                   host_mismatch_hops=np.flatnonzero(predicted != expected_host[:k]).tolist()[:1000])
    if expected_board is not None:
        board_bad = np.flatnonzero(predicted != expected_board[:k])
        details["board_reference_mismatch_hops"] = board_bad.tolist()[:1000]
        if board_bad.size:
            return CheckResult("stream", False, f"{board_bad.size} of {k} hops differ from the host's "
                               f"board-preprocessing reference (first at hop {int(board_bad[0])}, "
                               f"sample {int(positions[board_bad[0]])})", details)
        return CheckResult("stream", True, f"{k} hops equal the board-preprocessing reference; "
                           f"{host_agree:.4f} agreement with the training preprocessing", details)
    if host_agree < min_host_agreement:
        return CheckResult("stream", False, f"{host_agree:.4f} of {k} hops agree with the host "
                           f"(needs {min_host_agreement})", details)
    return CheckResult("stream", True, f"{k} hops, {host_agree:.4f} agreement with the host", details)


def check_energy(estimate: dict[str, Any] | None, measured: dict[str, Any] | None,
                 board: str) -> CheckResult:
    """Energy per inference is reported (estimated from cycles, or measured with a PPK2)."""
    if estimate is None and measured is None:
        return skipped("energy", f"no power profile for board {board!r} and no PPK2 attached")
    details = {"estimate": estimate, "measured": measured}
    parts = []
    if measured is not None:
        parts.append(f"measured {measured['uj_per_inference']} uJ per inference")
    if estimate is not None:
        per = estimate["uj_per_inference"]
        parts.append("estimated " + ", ".join(f"{stage} {value} uJ" for stage, value in per.items()))
        if not estimate.get("source_checked", False):
            parts.append("power profile not yet checked against its datasheet (hil/power_profiles.json)")
    return CheckResult("energy", True, "; ".join(parts), details)


def check_throughput(windows: int, seconds: float, per_board: dict[str, float]) -> CheckResult:
    """Windows per second through the link(s) during the INFER phase."""
    if windows == 0 or seconds <= 0:
        return CheckResult("throughput", False, "no window went through the link")
    rate = windows / seconds
    return CheckResult("throughput", True, f"{rate:.1f} windows/s ({windows} windows in {seconds:.2f} s)",
                       {"windows_per_s": rate, "windows": windows, "seconds": seconds,
                        "per_board_windows_per_s": per_board})
