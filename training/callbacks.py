"""A compact progress bar for ``model.fit``: one bar over epochs, metrics in the postfix."""

from __future__ import annotations

import keras
from tqdm.auto import tqdm


class ProgressBar(keras.callbacks.Callback):
    def __init__(self, epochs: int):
        super().__init__()
        self._epochs = epochs
        self._bar = None

    def on_train_begin(self, logs=None):
        self._bar = tqdm(total=self._epochs, desc="training", unit="epoch", dynamic_ncols=True)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        shown = {k: f"{v:.3f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        self._bar.set_postfix(shown)
        self._bar.update(1)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
