"""``myoedge quantize RUN_DIR --out BUILD_DIR``: from a trained run to an int8 build folder.

Steps, each a module of this package:

1. read the run folder (``bundle.json``, ``splits.npz``, ``model.keras``);
2. convert to full-integer int8 with calibration data drawn from the
   normalised training split, activation ranges chosen as
   ``calibration.CalibrationConfig`` says (default ``auto``: percentile
   ranges, or min/max or another percentile when that scores clearly better
   in TFLM on the validation split), and
   refuse graphs that are not pure int8 (``convert.check_pure_int8``);
3. score the test split with the float Keras model and with the int8 model
   in the TFLM Python interpreter (``tflm_reference``), using
   ``myoedge.training.metrics.classification_metrics`` for both;
4. probe the smallest TFLM arena in child processes;
5. write the C headers (``headers``) and the report (``report``).

BUILD_DIR afterwards holds:

* ``model.tflite`` - the int8 model;
* ``model_data.h``, ``model_data.c``, ``model_manifest.h`` - generated C;
* ``reference_test.npz`` - TFLM's outputs on the test split, for the parity
  and HIL stages: ``x_int8`` (n, *input) int8, ``scores_int8`` (n, classes)
  int8, ``y`` (n,) int64, ``scores_float`` (n, classes) float32 (the Keras
  model's outputs on the same windows);
* ``quant_report.json`` - ``float`` and ``int8`` (each ``accuracy``,
  ``balanced_accuracy``, ``mcc``, ``per_class_recall``, ``confusion_matrix``),
  ``int8_float_agreement`` (fraction of windows with the same argmax),
  ``macs``, ``macs_by_op``, ``elementwise_outputs``, ``weights_bytes``,
  ``tflite_bytes``, ``tflm_arena_bytes``, ``tflm_arena_recorded_bytes`` (TFLM's
  own allocation total, which can be below the smallest arena that works),
  ``tflm_arena_probe`` (``trials``, ``seconds``),
  ``ops`` (opcode histogram), ``test_windows``, ``calibration_samples``,
  ``calibration`` (``method``, ``chosen``, ``percentile``,
  ``square_percentile``, ``samples``, ``clipped_tensors``, ``selection_split``,
  ``selection_windows``, ``selection_margin`` and the ``candidates`` scored:
  ``name``, ``percentile``, ``square_percentile``, ``accuracy``,
  ``balanced_accuracy``, ``float_agreement``),
  ``model``, ``model_hash``, ``metrics_source``, ``seconds``; and, written as
  null here for the ahead-of-time stage to fill in: ``aot_arena_bytes``,
  ``parity`` (``{"windows", "mismatches"}``) and ``flash_estimate_bytes``.
* ``confusion_int8.png`` - the int8 model's confusion matrix on the test split.

A graph that is not pure int8 is saved as ``model_rejected.tflite`` (for
inspection) before the error is raised.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .ahead_of_time import ParityError, generate_and_check
from .calibration import METHODS as CALIBRATION_METHODS
from .calibration import CalibrationConfig, calibrate_int8
from .convert import NotPureInt8Error, check_pure_int8
from .headers import model_hash, write_headers
from .report import costs_as_dict, format_report_table, graph_costs, write_quant_report
from .tflite_graph import load_graph
from .tflm_reference import TflmReference, probe_arena

__all__ = ["QuantizeError", "RunData", "load_run", "quantize_run", "main"]

MODEL_TFLITE = "model.tflite"
REJECTED_TFLITE = "model_rejected.tflite"
REFERENCE_FILE = "reference_test.npz"
CONFUSION_PNG = "confusion_int8.png"
METRICS_SOURCE = "myoedge.training.metrics.classification_metrics"


class QuantizeError(RuntimeError):
    """The run folder cannot be quantised (names the file or field at fault)."""


@dataclass(frozen=True)
class RunData:
    """What quantisation needs from a run folder, with inputs already normalised."""

    model: Any
    model_name: str
    label_names: list[str]
    preprocess: dict[str, Any]
    normalisation: dict[str, Any]
    train_x: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    train_y: np.ndarray | None = None  # labels of train_x (calibration is scored on them when there is no validation split)
    validation_x: np.ndarray | None = None
    validation_y: np.ndarray | None = None
    channel_order: list[int] | None = None  # image models: arriving channel of each grid element


def _load_keras_model(path: Path) -> Any:
    """Load ``model.keras`` safely (no code from the file): Keras 3 first, then ``tf_keras``."""
    if not path.is_file():
        raise QuantizeError(f"{path}: missing; the run folder has no trained model")
    try:  # registers the project's custom layers for safe_mode loading
        import myoedge.training.models  # noqa: F401
    except ImportError:
        pass
    import keras

    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as keras3_error:  # noqa: BLE001 - report both loaders' reasons
        try:
            import tf_keras

            return tf_keras.models.load_model(path, safe_mode=True, compile=False)
        except Exception as keras2_error:  # noqa: BLE001
            raise QuantizeError(
                f"{path}: cannot load the model (Keras 3: {keras3_error}; tf_keras: {keras2_error})"
            ) from keras3_error


def load_run(run_dir: Path) -> RunData:
    """Read a run folder written by ``myoedge train`` and normalise its inputs as the bundle says."""
    from myoedge.training.run import RunBundle, RunFolderError, load_model_splits

    run_dir = Path(run_dir)
    try:
        bundle = RunBundle.load(run_dir)
        splits = load_model_splits(run_dir)
    except RunFolderError as exc:
        raise QuantizeError(str(exc)) from exc
    for split, kind in (("train", "x"), ("train", "y"), ("test", "x"), ("test", "y")):
        if kind not in splits.get(split, {}):
            raise QuantizeError(f"{run_dir / 'splits.npz'}: missing array '{split}_{kind}'")
    kind = bundle.normalisation.get("kind", "none")
    if kind not in ("none", "standardize"):
        raise QuantizeError(f"{run_dir / 'bundle.json'}: normalisation.kind {kind!r} is unknown")
    test_x, test_y = splits["test"]["x"], splits["test"]["y"]
    if len(test_x) != len(test_y) or len(test_x) == 0:
        raise QuantizeError(
            f"{run_dir / 'splits.npz'}: test_x has {len(test_x)} windows, test_y {len(test_y)} labels"
        )
    validation = splits.get("validation", {})
    has_validation = "x" in validation and "y" in validation and len(validation["x"]) > 0
    return RunData(
        channel_order=_image_channel_order(bundle, run_dir),
        model=_load_keras_model(run_dir / "model.keras"),
        model_name=bundle.model.name,
        label_names=[str(n) for n in bundle.label_names],
        preprocess=dict(bundle.preprocess),
        normalisation=dict(bundle.normalisation),
        train_x=bundle.normalise(splits["train"]["x"]),
        train_y=np.asarray(splits["train"]["y"], dtype=np.int64),
        test_x=bundle.normalise(test_x),
        test_y=np.asarray(test_y, dtype=np.int64),
        validation_x=bundle.normalise(validation["x"]) if has_validation else None,
        validation_y=np.asarray(validation["y"], dtype=np.int64) if has_validation else None,
    )


def _image_channel_order(bundle: Any, run_dir: Path) -> list[int] | None:
    """For image models, the electrode layout's grid order (the board reorders arriving channels so)."""
    if bundle.model.input_kind != "image":
        return None
    from myoedge.training.recording import LAYOUTS

    layout = LAYOUTS.get(bundle.layout)
    if layout is None or layout.grid is None:
        raise QuantizeError(f"{run_dir / 'bundle.json'}: image model on layout {bundle.layout!r}, which is not a grid")
    return [int(c) for c in layout.channel_order]


def _metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, Any]:
    """accuracy, balanced accuracy, MCC, per-class recall and confusion matrix."""
    from myoedge.training.metrics import classification_metrics

    return classification_metrics(y_true, y_pred, n_classes)


def _plot_confusion(cm: list[list[int]], label_names: list[str], path: Path, title: str) -> None:
    """Confusion matrix PNG via the training stage's plotter."""
    from myoedge.training.metrics import plot_confusion_matrix

    plot_confusion_matrix(np.asarray(cm), label_names, path, title=title)


def quantize_run(
    run_dir: Path,
    build_dir: Path,
    progress: bool = True,
    n_calibration: int | None = None,
    probe: bool = True,
    calibration: str = "auto",
) -> dict[str, Any]:
    """Quantise the run in ``run_dir`` into ``build_dir``; returns the report dict.

    ``n_calibration``: calibration samples (None: 2000, or 500 for
    ``calibration="minmax"``, the earlier default).  ``calibration``: how
    activation ranges are chosen, one of ``calibration.METHODS``; ``auto``
    scores its candidates on the run's validation split (on the training
    split when the run has none).  ``probe=False`` skips the arena probe
    (``tflm_arena_bytes`` is then null).
    Raises ``QuantizeError`` for a broken run folder and ``NotPureInt8Error``
    (after saving ``model_rejected.tflite``) for a graph the board cannot run.
    """
    started = time.perf_counter()
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    run = load_run(Path(run_dir))
    n_classes = len(run.label_names)

    config = CalibrationConfig(method=calibration, samples=n_calibration)
    if run.validation_x is not None:
        select_x, select_y, select_split = run.validation_x, run.validation_y, "validation"
    else:
        select_x, select_y, select_split = run.train_x, run.train_y, "train"
    chosen = calibrate_int8(run.model, run.train_x, config, select_x, select_y,
                            select_split=select_split, progress=progress)
    model_bytes = chosen.model_bytes
    graph = load_graph(model_bytes)
    try:
        check_pure_int8(graph)
    except NotPureInt8Error:
        (build_dir / REJECTED_TFLITE).write_bytes(model_bytes)
        raise
    (build_dir / MODEL_TFLITE).write_bytes(model_bytes)

    scores_float = np.asarray(run.model.predict(run.test_x, batch_size=256, verbose=0), dtype=np.float32)
    reference = TflmReference(model_bytes)
    if reference.n_outputs != n_classes:
        raise QuantizeError(
            f"model outputs {reference.n_outputs} scores but bundle.json names {n_classes} labels"
        )
    x_int8 = reference.quantize_input(run.test_x)
    scores_int8 = reference.run_batch(x_int8, progress=progress).reshape(len(x_int8), n_classes)
    pred_float = scores_float.reshape(len(scores_float), -1).argmax(axis=1)
    pred_int8 = scores_int8.argmax(axis=1)
    np.savez(
        build_dir / REFERENCE_FILE,
        x_int8=x_int8,
        scores_int8=scores_int8,
        y=run.test_y,
        scores_float=scores_float.reshape(len(scores_float), -1),
    )

    arena = probe_arena(model_bytes) if probe else None
    write_headers(
        model_bytes,
        build_dir,
        model_name=run.model_name,
        label_names=run.label_names,
        preprocess=run.preprocess,
        normalisation=run.normalisation,
        tflm_arena_bytes=arena.arena_bytes if arena else None,
        source=f"run folder '{Path(run_dir).resolve().name}'",
        channel_order=run.channel_order,
    )

    aot = generate_and_check(model_bytes, build_dir, x_int8, scores_int8, progress=progress)

    costs = costs_as_dict(graph_costs(graph))
    int8_metrics = _metrics(run.test_y, pred_int8, n_classes)
    report: dict[str, Any] = {
        "model": run.model_name,
        "model_hash": model_hash(model_bytes).hex16,
        "float": _metrics(run.test_y, pred_float, n_classes),
        "int8": int8_metrics,
        "int8_float_agreement": float(np.mean(pred_float == pred_int8)),
        "metrics_source": METRICS_SOURCE,
        "test_windows": int(len(run.test_y)),
        "calibration_samples": chosen.samples,
        "calibration": chosen.to_dict(),
        **costs,
        "tflite_bytes": len(model_bytes),
        "tflm_arena_bytes": arena.arena_bytes if arena else None,
        "tflm_arena_recorded_bytes": arena.recorded_bytes if arena else None,
        "tflm_arena_probe": {"trials": arena.trials, "seconds": round(arena.seconds, 2)} if arena else None,
        **aot,
        "seconds": round(time.perf_counter() - started, 2),
    }
    write_quant_report(build_dir, report)
    _plot_confusion(int8_metrics["confusion_matrix"], run.label_names, build_dir / CONFUSION_PNG,
                    title=f"{run.model_name} int8 (TFLM), test split")
    if progress:
        print()
        print(format_report_table(report))
    parity = report["parity"]
    if parity["mismatches"]:
        raise ParityError(
            f"generated C differs from TFLM on {parity['mismatches']} of {parity['windows']} test windows "
            f"(first: {parity['mismatched_windows'][:5]}); {parity['first_divergence']}"
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry: ``python -m myoedge.quantize.pipeline RUN_DIR --out BUILD_DIR``."""
    parser = argparse.ArgumentParser(prog="myoedge quantize", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--calibration", type=int, default=None,
                        help="calibration samples (default 2000; 500 with --calibration-method minmax)")
    parser.add_argument("--calibration-method", choices=CALIBRATION_METHODS, default="auto",
                        help="activation ranges: auto (default: percentile ranges unless min/max or another "
                             "percentile scores clearly better on the validation split), "
                             "percentile (99.9 %%, squares 98 %%), minmax (the converter's own)")
    parser.add_argument("--no-probe", action="store_true", help="skip the TFLM arena probe")
    args = parser.parse_args(argv)
    quantize_run(args.run_dir, args.out, n_calibration=args.calibration, probe=not args.no_probe,
                 calibration=args.calibration_method)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
