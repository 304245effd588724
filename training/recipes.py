"""Training recipes: the hyper-parameters each model is trained with by default.

The seed recipe is the attention paper's (focal loss gamma 3 / alpha 6,
Ranger, lr 1e-3 flat for 5 of 55 epochs then cosine to 1e-5, batch 128, SNR
noise on movement windows). A recipe is a plain dataclass so that a run
records exactly what it trained with (``bundle.json`` -> ``train``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 55
    batch_size: int = 128
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-5
    flat_fraction: float = 5 / 55  # share of epochs at the flat learning rate before cosine decay
    optimizer: str = "ranger"  # "ranger" | "adam"
    loss: str = "focal"  # "focal" | "crossentropy"
    focal_gamma: float = 3.0
    focal_alpha: float = 6.0
    label_smoothing: float = 0.0  # crossentropy only
    augment_snr: bool = True
    snr_db_range: tuple[float, float] = (1.0, 30.0)
    early_stopping_patience: int = 12
    normalisation: str = "standardize"  # "none" | "standardize"
    test_repetitions: tuple[int, ...] = (5,)
    validation_repetitions: tuple[int, ...] = (3,)
    vote_frames: int = 0  # majority vote over this many frames (image models); 0 = off
    stream_from_disk: bool = False
    distribute: str = "none"  # "none" | "mirrored" | "multi-worker"

    def __post_init__(self) -> None:
        if self.optimizer not in ("ranger", "adam"):
            raise ValueError(f"optimizer must be 'ranger' or 'adam', got {self.optimizer!r}")
        if self.loss not in ("focal", "crossentropy"):
            raise ValueError(f"loss must be 'focal' or 'crossentropy', got {self.loss!r}")
        if self.normalisation not in ("none", "standardize"):
            raise ValueError(f"normalisation must be 'none' or 'standardize', got {self.normalisation!r}")
        if self.distribute not in ("none", "mirrored", "multi-worker"):
            raise ValueError(f"distribute must be none, mirrored or multi-worker, got {self.distribute!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be positive")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, **overrides: Any) -> "TrainConfig":
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown training settings: {sorted(unknown)}; known: {sorted(known)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


SEED_RECIPE = TrainConfig()

# Per-model defaults. The image models (S-ConvNet, All-ConvNet) are trained on
# single frames with plain cross-entropy and Adam, as GengNet-style models are;
# noise augmentation targets windows of a time series and is off for them.
RECIPES: dict[str, TrainConfig] = {
    "attention": SEED_RECIPE,
    "attention-compact": SEED_RECIPE,
    "sconvnet": TrainConfig(epochs=30, optimizer="adam", loss="crossentropy", augment_snr=False, vote_frames=40),
    "allconvnet": TrainConfig(epochs=30, optimizer="adam", loss="crossentropy", augment_snr=False, vote_frames=40),
    # The on-device model (issue 6, docs/EDGE_MODEL.md): plain cross-entropy and
    # Adam beat the seed recipe's focal loss and Ranger on validation repetition 3.
    "edge": TrainConfig(epochs=20, optimizer="adam", loss="crossentropy"),
}

# Per-model preprocessing defaults, merged under the user's --preprocess
# (the user's values win). The edge model reads the high-passed raw window,
# unrectified and unsmoothed: (52, 16) on NinaPro DB5.
PREPROCESS_OVERRIDES: dict[str, dict[str, Any]] = {
    "edge": {"rectify": False, "moving_average": 1},
}


def recipe_for(model_name: str) -> TrainConfig:
    return RECIPES.get(model_name, SEED_RECIPE)


def preprocess_overrides_for(model_name: str | None, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """The model's preprocessing defaults with the user's overrides on top (a new dict)."""
    return {**PREPROCESS_OVERRIDES.get(model_name or "", {}), **(user or {})}
