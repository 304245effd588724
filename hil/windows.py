"""Recorded windows for the bench: ``myoedge windows export RUN_DIR --out FILE``.

A windows file is one ``.npz`` of plain arrays (read it with
``np.load(path, allow_pickle=False)``; :func:`load_windows` does and checks
every array). Arrays, one row per window unless said otherwise:

* ``x_int8`` (n, *model input) int8: the preprocessed window after the run's
  normalisation, quantised with the model's input scale and zero point; what
  the bench sends with INFER so the network is checked bit for bit;
* ``raw`` (n, window, channels) float32: the recorded samples of the same span
  (for boards that preprocess on their own); absent when the run kept none;
* ``y`` (n,) int64 labels; ``scores_int8`` (n, classes) int8: the host's TFLM
  outputs (``reference_test.npz`` of the build, else computed here);
* ``start``, ``subject``, ``repetition`` (n,) int64: first sample of the window
  in its recording, subject and repetition (-1 when the recordings were not
  found to look them up);
* ``metadata`` (1,) str: one JSON object (:data:`FORMAT`, ``model_hash``,
  ``model_name``, input/output scale and zero point, ``input_shape``,
  ``preprocess`` dict, ``normalisation_kind``, ``label_names``, ``split``,
  ``dataset``, ``subject``, ``raw_window``, ``channels``, ``hop``,
  ``sampling_rate_hz``, ``stream`` description or null);
* optional continuous stream for STREAM checks: ``stream_samples`` (m, C)
  float32 contiguous recorded samples; per hop ``stream_positions`` (samples
  consumed when the hop fires), ``stream_expected`` (host: training
  preprocessing + normalisation + quantisation + TFLM), ``stream_labels``
  (label of the hop window's first sample) and, when the build's
  ``model_manifest.h`` and ``cmsisdsp`` are at hand, ``stream_expected_board``
  (the board's own float32 CMSIS-DSP preprocessing computed on the host,
  which the firmware matches bit for bit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "myoedge-windows/1"
REFERENCE_FILE = "reference_test.npz"
MODEL_FILE = "model.tflite"
MANIFEST_FILE = "model_manifest.h"
STREAM_MAX_SECONDS = 30.0
"""Longest recorded stream an export keeps (the bench sends a part of it)."""

_REQUIRED = ("x_int8", "y", "scores_int8", "start", "subject", "repetition", "metadata")
_STREAM = ("stream_samples", "stream_positions", "stream_expected", "stream_labels")


class WindowsFileError(ValueError):
    """A windows file is missing an array or holds one of the wrong shape or type."""


@dataclass
class RecordedStream:
    """A contiguous recorded stream and what the host predicts at every hop."""

    samples: np.ndarray  # (m, C) float32
    positions: np.ndarray  # (k,) int64: samples consumed when hop i fires
    expected: np.ndarray  # (k,) int64: host (training preprocessing) predictions
    labels: np.ndarray  # (k,) int64
    expected_board: np.ndarray | None = None  # (k,) int64: board preprocessing on the host


@dataclass
class RecordedWindows:
    """Everything in a windows file, typed (see the module docstring)."""

    x_int8: np.ndarray
    y: np.ndarray
    scores_int8: np.ndarray
    start: np.ndarray
    subject: np.ndarray
    repetition: np.ndarray
    metadata: dict[str, Any]
    raw: np.ndarray | None = None
    stream: RecordedStream | None = None
    path: Path | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return int(self.x_int8.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.scores_int8.shape[1])

    @property
    def label_names(self) -> list[str]:
        names = self.metadata.get("label_names") or []
        return [str(n) for n in names] if len(names) == self.n_classes else \
            [str(k) for k in range(self.n_classes)]

    @property
    def host_predictions(self) -> np.ndarray:
        """The host reference's class per window (first largest int8 score)."""
        return self.scores_int8.argmax(axis=1).astype(np.int64)

    def check(self) -> None:
        """Raise :class:`WindowsFileError` naming the array whose shape or type is wrong."""
        where = f"{self.path}: " if self.path else ""
        n = len(self)
        if self.x_int8.dtype != np.int8 or self.x_int8.ndim < 2:
            raise WindowsFileError(f"{where}x_int8 must be int8 (n, ...), got {self.x_int8.dtype} "
                                   f"{self.x_int8.shape}")
        if self.scores_int8.dtype != np.int8 or self.scores_int8.shape[:1] != (n,) or \
                self.scores_int8.ndim != 2 or self.scores_int8.shape[1] < 1:
            raise WindowsFileError(f"{where}scores_int8 must be int8 ({n}, classes), got "
                                   f"{self.scores_int8.dtype} {self.scores_int8.shape}")
        for name in ("y", "start", "subject", "repetition"):
            value = getattr(self, name)
            if value.shape != (n,) or not np.issubdtype(value.dtype, np.integer):
                raise WindowsFileError(f"{where}{name} must be integers of shape ({n},), got "
                                       f"{value.dtype} {value.shape}")
        if n and (self.y.min() < 0 or self.y.max() >= self.n_classes):
            raise WindowsFileError(f"{where}y holds labels outside 0..{self.n_classes - 1}")
        if self.raw is not None and (self.raw.ndim != 3 or self.raw.shape[0] != n):
            raise WindowsFileError(f"{where}raw must be ({n}, window, channels), got {self.raw.shape}")
        if self.metadata.get("format") != FORMAT:
            raise WindowsFileError(f"{where}metadata format {self.metadata.get('format')!r} is not "
                                   f"{FORMAT!r}")
        stream = self.stream
        if stream is not None:
            k = stream.positions.shape[0]
            if stream.samples.ndim != 2:
                raise WindowsFileError(f"{where}stream_samples must be (samples, channels), got "
                                       f"{stream.samples.shape}")
            for name in ("expected", "labels"):
                if getattr(stream, name).shape != (k,):
                    raise WindowsFileError(f"{where}stream_{name} must have {k} entries (one per "
                                           f"hop), got {getattr(stream, name).shape}")
            if stream.expected_board is not None and stream.expected_board.shape != (k,):
                raise WindowsFileError(f"{where}stream_expected_board must have {k} entries")
            if k and (stream.positions.min() < 1 or stream.positions.max() > len(stream.samples)):
                raise WindowsFileError(f"{where}stream_positions lie outside the stream")

    def shard(self, first: int, stop: int) -> "RecordedWindows":
        """Windows ``first`` .. ``stop - 1`` (no stream), for one board of several."""
        return RecordedWindows(
            x_int8=self.x_int8[first:stop], y=self.y[first:stop],
            scores_int8=self.scores_int8[first:stop], start=self.start[first:stop],
            subject=self.subject[first:stop], repetition=self.repetition[first:stop],
            metadata=self.metadata, raw=None if self.raw is None else self.raw[first:stop],
            stream=None, path=self.path)


def save_windows(path: Path, windows: RecordedWindows) -> Path:
    """Write ``windows`` as plain arrays (no pickled objects)."""
    windows.check()
    arrays: dict[str, np.ndarray] = {
        "x_int8": np.ascontiguousarray(windows.x_int8, dtype=np.int8),
        "y": np.asarray(windows.y, dtype=np.int64),
        "scores_int8": np.ascontiguousarray(windows.scores_int8, dtype=np.int8),
        "start": np.asarray(windows.start, dtype=np.int64),
        "subject": np.asarray(windows.subject, dtype=np.int64),
        "repetition": np.asarray(windows.repetition, dtype=np.int64),
        "metadata": np.array([json.dumps(windows.metadata, sort_keys=True)]),
    }
    if windows.raw is not None:
        arrays["raw"] = np.ascontiguousarray(windows.raw, dtype=np.float32)
    if windows.stream is not None:
        s = windows.stream
        arrays.update(stream_samples=np.ascontiguousarray(s.samples, dtype=np.float32),
                      stream_positions=np.asarray(s.positions, dtype=np.int64),
                      stream_expected=np.asarray(s.expected, dtype=np.int64),
                      stream_labels=np.asarray(s.labels, dtype=np.int64))
        if s.expected_board is not None:
            arrays["stream_expected_board"] = np.asarray(s.expected_board, dtype=np.int64)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:  # np.savez would append .npz to other suffixes
        np.savez(handle, **arrays)
    return path


def load_windows(path: Path) -> RecordedWindows:
    """Read and check a windows file; errors name the file and the array."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no windows file; write one with `myoedge windows export`")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (ValueError, OSError) as err:
        raise WindowsFileError(f"{path}: not a readable .npz of plain arrays ({err})") from err
    missing = [name for name in _REQUIRED if name not in arrays]
    if missing:
        raise WindowsFileError(f"{path}: missing array(s) {', '.join(missing)}")
    try:
        metadata = json.loads(str(arrays["metadata"].reshape(-1)[0]))
    except (json.JSONDecodeError, IndexError) as err:
        raise WindowsFileError(f"{path}: metadata is not a JSON string ({err})") from err
    if not isinstance(metadata, dict):
        raise WindowsFileError(f"{path}: metadata must be a JSON object")
    stream = None
    if all(name in arrays for name in _STREAM):
        stream = RecordedStream(
            samples=arrays["stream_samples"].astype(np.float32),
            positions=arrays["stream_positions"].astype(np.int64),
            expected=arrays["stream_expected"].astype(np.int64),
            labels=arrays["stream_labels"].astype(np.int64),
            expected_board=arrays["stream_expected_board"].astype(np.int64)
            if "stream_expected_board" in arrays else None)
    windows = RecordedWindows(
        x_int8=arrays["x_int8"], y=arrays["y"], scores_int8=arrays["scores_int8"],
        start=arrays["start"], subject=arrays["subject"], repetition=arrays["repetition"],
        metadata=metadata, raw=arrays.get("raw"), stream=stream, path=path)
    windows.check()
    return windows


# ---- export from a run folder ------------------------------------------------------

def _model_hash_hex(model_bytes: bytes) -> str:
    from myoedge.quantize.headers import model_hash

    return model_hash(model_bytes).hex16


def _resolve_build_dir(run_dir: Path, build_dir: Path | None) -> Path:
    """BUILD_DIR as given, else ``RUN_DIR/../build`` (the CLI's documented default)."""
    folder = Path(build_dir) if build_dir is not None else run_dir.parent / "build"
    if not (folder / MODEL_FILE).is_file():
        hint = "" if build_dir is not None else " (no --build given; looked beside the run folder)"
        raise FileNotFoundError(f"{folder / MODEL_FILE}: no int8 model{hint}; run "
                                f"`myoedge quantize {run_dir} --out BUILD_DIR` first")
    return folder


def _split_repetitions(bundle: Any, split: str) -> list[int]:
    reps = bundle.split.get(split)
    if not reps:
        raise ValueError(f"{bundle.dataset}: bundle.json names no repetitions for split {split!r}")
    return [int(r) for r in reps]


def _recordings(bundle: Any) -> list[Any] | None:
    """The run's recordings from its data_dir, or None when they are not there."""
    from myoedge.training.loaders import load_dataset

    data_dir = Path(str(bundle.data_dir))
    if not data_dir.is_dir():
        return None
    subjects = [bundle.subject] if isinstance(bundle.subject, int) else list(bundle.subject)
    try:
        return [rec for s in subjects for rec in load_dataset(bundle.dataset, data_dir, int(s),
                                                              bundle.exercise)]
    except (FileNotFoundError, ValueError):
        return None


def _window_bookkeeping(bundle: Any, recordings: list[Any] | None, split: str,
                        x_saved: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """(start, subject, repetition) of the split's windows, recomputed from the recordings.

    The windows are cut again exactly as training cut them; they are used only
    when they reproduce the saved split (same count, same values).
    """
    if recordings is None:
        return None
    from myoedge.training.preprocess import PreprocessConfig
    from myoedge.training.windows import split_by_repetition

    cfg = PreprocessConfig.from_dict(bundle.preprocess)
    windows = _cut_windows(bundle, recordings, cfg)
    if windows is None:
        return None
    splits = split_by_repetition(windows, test=_split_repetitions(bundle, "test"),
                                 validation=_split_repetitions(bundle, "validation"))
    ws = splits[split]
    if len(ws) != len(x_saved):
        return None
    if bundle.model.input_kind == "sequence" and not np.allclose(ws.x, x_saved, rtol=1e-5, atol=1e-6):
        return None
    return ws.start, ws.subject, ws.repetition


def _rest_excluded(bundle: Any) -> bool:
    """True for runs that dropped rest and numbered the movements from 0 (lstm-fin)."""
    return bool((bundle.extra or {}).get("fin", {}).get("rest_excluded", False))


def _cut_windows(bundle: Any, recordings: list[Any], cfg: Any) -> Any:
    """The windows training cut from ``recordings``: every window, or for lstm-fin runs the
    movement segments' windows (low-latency pairing applied, rest dropped); None if none."""
    from myoedge.training.windows import concat, make_windows

    if not _rest_excluded(bundle):
        return concat([make_windows(rec, cfg) for rec in recordings])
    from myoedge.training.fin import drop_rest, label_ahead, movement_windows

    ahead = int((bundle.train or {}).get("predict_ahead", 0) or 0)
    sets = [label_ahead(ws, ahead, cfg.step) for ws in (movement_windows(rec, cfg) for rec in recordings)
            if ws is not None]
    return drop_rest(concat(sets)) if sets else None


def _longest_span(mask: np.ndarray) -> tuple[int, int]:
    """(first, stop) of the longest run of True in ``mask``; (0, 0) if none."""
    best = (0, 0)
    first = None
    for index, flag in enumerate(np.append(mask, False)):
        if flag and first is None:
            first = index
        elif not flag and first is not None:
            if index - first > best[1] - best[0]:
                best = (first, index)
            first = None
    return best


def _to_model_input(x: np.ndarray, bundle: Any, recording: Any) -> np.ndarray:
    from myoedge.training.train import to_model_input

    return to_model_input(x, bundle.model.input_kind, recording.layout)


def _recorded_stream(bundle: Any, recordings: list[Any] | None, split: str, reference: Any,
                     build_dir: Path, max_seconds: float) -> RecordedStream | None:
    """The longest contiguous stretch of the split in the first recording that holds one at
    least a window long (one file per trial, as in CapgMyo, puts the split in later files),
    with host predictions."""
    if not recordings:
        return None
    from myoedge.training.preprocess import PreprocessConfig, StreamingPreprocessor

    cfg = PreprocessConfig.from_dict(bundle.preprocess)
    for rec in recordings:
        if split == "train":
            excluded = set(_split_repetitions(bundle, "test")) | set(_split_repetitions(bundle, "validation"))
            mask = ~np.isin(rec.repetitions, sorted(excluded))
        else:
            mask = np.isin(rec.repetitions, _split_repetitions(bundle, split))
        first, stop = _longest_span(mask)
        stop = min(stop, first + int(max_seconds * cfg.sampling_rate_hz))
        if stop - first >= cfg.window:
            break
    else:
        return None
    samples = np.asarray(rec.emg[first:stop], dtype=np.float32)
    host_windows = StreamingPreprocessor(cfg, samples.shape[1]).push(samples)
    x = reference.quantize_input(bundle.normalise(_to_model_input(host_windows, bundle, rec)))
    expected = reference.run_batch(x).reshape(len(x), -1).argmax(axis=1).astype(np.int64)
    hops = np.arange(len(expected), dtype=np.int64)
    positions = cfg.window + cfg.step * hops
    labels = np.asarray(rec.labels[first + cfg.step * hops], dtype=np.int64)
    if _rest_excluded(bundle):  # the model's classes are the movements 1..M as 0..M-1; rest is -1
        labels = labels - 1
    return RecordedStream(samples, positions, expected, labels,
                          _board_stream_expected(build_dir, bundle, samples, reference, len(expected)))


def _board_stream_expected(build_dir: Path, bundle: Any, samples: np.ndarray, reference: Any,
                           hops: int) -> np.ndarray | None:
    """Per-hop predictions through the board's own preprocessing (cmsisdsp), if possible."""
    manifest = build_dir / MANIFEST_FILE
    if not manifest.is_file() or bundle.model.input_kind != "sequence":
        return None
    try:
        from myoedge.board_preprocess import BoardPreprocessor, params_from_manifest

        _, windows = BoardPreprocessor(params_from_manifest(manifest)).push(samples)
    except (ImportError, ValueError):
        return None
    if len(windows) != hops:
        return None
    x = windows.reshape(len(windows), *reference.input_shape[1:])
    return reference.run_batch(x).reshape(hops, -1).argmax(axis=1).astype(np.int64)


def export_windows(run_dir: Path, split: str, out: Path, build_dir: Path | None,
                   *, stream_seconds: float = STREAM_MAX_SECONDS, progress: bool = True) -> Path:
    """Write the ``split`` windows of a run, with the host's int8 reference, to ``out``.

    ``build_dir`` is the quantize stage's BUILD_DIR (``model.tflite``,
    ``reference_test.npz``, ``model_manifest.h``); None means
    ``RUN_DIR/../build``. Returns the path written.
    """
    from myoedge.quantize.tflm_reference import TflmReference
    from myoedge.training.run import RunBundle, load_model_splits

    run_dir = Path(run_dir)
    bundle = RunBundle.load(run_dir)
    splits = load_model_splits(run_dir)
    if split not in splits:
        raise ValueError(f"{run_dir / 'splits.npz'}: no split {split!r} (has {sorted(splits)})")
    build = _resolve_build_dir(run_dir, build_dir)
    model_bytes = (build / MODEL_FILE).read_bytes()
    reference = TflmReference(model_bytes)
    x_saved = np.asarray(splits[split]["x"], dtype=np.float32)
    y = np.asarray(splits[split]["y"], dtype=np.int64)
    x_int8 = reference.quantize_input(bundle.normalise(x_saved))
    if tuple(x_int8.shape[1:]) != tuple(reference.input_shape[1:]):
        raise ValueError(f"{run_dir / 'splits.npz'}: {split}_x windows are {x_saved.shape[1:]}, the "
                         f"model in {build / MODEL_FILE} takes {reference.input_shape[1:]}")
    scores = _reference_scores(build, split, x_int8, y, reference, progress)

    recordings = _recordings(bundle)
    books = _window_bookkeeping(bundle, recordings, split, x_saved)
    unknown = np.full(len(y), -1, dtype=np.int64)
    start, subject, repetition = books if books is not None else (unknown, unknown, unknown)
    stream = _recorded_stream(bundle, recordings, split, reference, build, stream_seconds)
    cfg = bundle.preprocess
    raw = splits[split].get("raw")
    metadata = {
        "format": FORMAT,
        "model_hash": _model_hash_hex(model_bytes),
        "model_name": bundle.model.name,
        "input_shape": [int(v) for v in reference.input_shape[1:]],
        "input_scale": float(reference.input_scale),
        "input_zero_point": int(reference.input_zero_point),
        "output_scale": float(reference.output_scale),
        "output_zero_point": int(reference.output_zero_point),
        "preprocess": dict(cfg),
        "normalisation_kind": bundle.normalisation.get("kind", "none"),
        "label_names": [str(n) for n in bundle.label_names],
        "split": split,
        "dataset": bundle.dataset,
        "subject": bundle.subject,
        "run_dir": str(run_dir.resolve()),
        "build_dir": str(build.resolve()),
        "raw_window": int(cfg.get("window", 0)),
        "channels": int(raw.shape[2]) if raw is not None else None,
        "hop": int(cfg.get("step", 0)),
        "sampling_rate_hz": float(cfg.get("sampling_rate_hz", 0.0)),
        "bookkeeping": "recomputed from the recordings" if books is not None else "unknown (-1)",
        "stream": None if stream is None else {
            "samples": int(len(stream.samples)), "hops": int(len(stream.positions)),
            "board_reference": stream.expected_board is not None},
        "stream_note": _stream_note(bundle, recordings, stream),
    }
    windows = RecordedWindows(x_int8=x_int8, y=y, scores_int8=scores, start=start, subject=subject,
                              repetition=repetition, metadata=metadata,
                              raw=None if raw is None else np.asarray(raw, dtype=np.float32),
                              stream=stream)
    return save_windows(Path(out), windows)


def _stream_note(bundle: Any, recordings: list[Any] | None, stream: RecordedStream | None) -> str:
    """Why the file holds a stream, or why not (shown when the bench skips STREAM)."""
    if recordings is None:
        return (f"no recorded stream: the run's recordings were not found in data_dir "
                f"{bundle.data_dir!r}")
    if stream is None:
        return "no recorded stream: the split has no contiguous stretch as long as one window"
    if stream.expected_board is None:
        return ("recorded stream; per-hop predictions from the training preprocessing only "
                "(no model_manifest.h or no cmsisdsp for the board-preprocessing reference)")
    return "recorded stream with training and board-preprocessing references"


def _reference_scores(build: Path, split: str, x_int8: np.ndarray, y: np.ndarray, reference: Any,
                      progress: bool) -> np.ndarray:
    """TFLM's int8 scores: the build's reference file when it covers these windows, else run now."""
    path = build / REFERENCE_FILE
    if split == "test" and path.is_file():
        with np.load(path, allow_pickle=False) as data:
            saved_x, saved_scores, saved_y = data["x_int8"], data["scores_int8"], data["y"]
        if saved_x.shape == x_int8.shape and np.array_equal(saved_x, x_int8) and \
                np.array_equal(saved_y, y):
            return np.asarray(saved_scores, dtype=np.int8).reshape(len(y), -1)
    return reference.run_batch(x_int8, progress=progress).reshape(len(x_int8), -1)
