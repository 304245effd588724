"""The run folder: what ``myoedge train`` leaves behind for the later stages.

A run folder (``RUN_DIR``) is the typed boundary between training and
quantisation. :class:`RunBundle` is its manifest (``bundle.json``); the
preprocessed splits the model saw are kept in ``splits.npz`` (plain arrays,
read with ``allow_pickle=False``) so that ``myoedge quantize`` draws its
representative data from the training split and scores the test split without
touching the raw recordings again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BUNDLE_FORMAT = "myoedge-run/1"

MODEL_FILE = "model.keras"
BUNDLE_FILE = "bundle.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"
SPLITS_FILE = "splits.npz"
CONFUSION_PNG = "confusion_matrix.png"
CURVES_PNG = "training_curves.png"


class RunFolderError(ValueError):
    """A run folder is missing a file or holds one that does not parse."""


@dataclass
class ModelSpec:
    name: str
    options: dict[str, Any]
    params: int
    input_shape: list[int]
    n_classes: int
    input_kind: str  # "sequence" | "image"


@dataclass
class RunBundle:
    dataset: str
    subject: int | list[int]  # a list when subjects are pooled
    exercise: int | None
    model: ModelSpec
    label_names: list[str]
    preprocess: dict[str, Any]
    normalisation: dict[str, Any]
    split: dict[str, list[int]]
    train: dict[str, Any]
    data_dir: str
    seed: int
    layout: str
    format: str = BUNDLE_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunBundle":
        if data.get("format") != BUNDLE_FORMAT:
            raise RunFolderError(f"bundle format {data.get('format')!r} is not {BUNDLE_FORMAT!r}")
        data = dict(data)
        data["model"] = ModelSpec(**data["model"])
        return cls(**data)

    def save(self, run_dir: Path) -> Path:
        path = Path(run_dir) / BUNDLE_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, run_dir: Path) -> "RunBundle":
        path = Path(run_dir) / BUNDLE_FILE
        if not path.is_file():
            raise RunFolderError(f"{path}: no bundle.json; is {run_dir} a folder written by `myoedge train`?")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise RunFolderError(f"{path}: not valid JSON ({err})") from err
        try:
            return cls.from_dict(data)
        except (TypeError, KeyError) as err:
            raise RunFolderError(f"{path}: missing or unexpected field ({err})") from err

    def normalise(self, x: np.ndarray) -> np.ndarray:
        """Apply the run's input normalisation to model-shaped inputs."""
        if self.normalisation.get("kind", "none") == "none":
            return x.astype(np.float32)
        mean = np.asarray(self.normalisation["mean"], dtype=np.float32)
        std = np.asarray(self.normalisation["std"], dtype=np.float32)
        return ((x - mean) / std).astype(np.float32)


def write_json(path: Path, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=json_value) + "\n")


def json_value(value: Any) -> Any:
    """numpy scalars and arrays, paths -> plain JSON values (``json.dumps(..., default=json_value)``)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def save_model_splits(run_dir: Path, splits: dict[str, dict[str, np.ndarray]]) -> Path:
    """Write each split's arrays as ``<split>_<kind>`` (kinds: x, y, raw).

    ``x`` holds model-shaped inputs before normalisation, ``y`` the labels and
    ``raw`` (optional) the unprocessed samples of the same windows, which the
    bench sends to a board that preprocesses on its own.
    """
    arrays: dict[str, np.ndarray] = {}
    for split, kinds in splits.items():
        for kind, values in kinds.items():
            dtype = np.int64 if kind == "y" else np.float32
            arrays[f"{split}_{kind}"] = np.ascontiguousarray(values, dtype=dtype)
    path = Path(run_dir) / SPLITS_FILE
    np.savez(path, **arrays)
    return path


def load_model_splits(run_dir: Path) -> dict[str, dict[str, np.ndarray]]:
    path = Path(run_dir) / SPLITS_FILE
    if not path.is_file():
        raise RunFolderError(f"{path}: missing; the run folder has no saved splits")
    splits: dict[str, dict[str, np.ndarray]] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                split, kind = key.rsplit("_", 1)
                splits.setdefault(split, {})[kind] = data[key]
    except (ValueError, OSError) as err:
        raise RunFolderError(f"{path}: cannot be read ({err})") from err
    for split, kinds in splits.items():
        if "x" not in kinds or "y" not in kinds:
            raise RunFolderError(f"{path}: split {split!r} lacks x or y")
    return splits
