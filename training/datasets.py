"""tf.data input pipelines: from memory, or streamed from shards on disk.

For data sets larger than memory, the windows are written once as fixed-size
``.npy`` shards and read back through memory maps, one shard at a time, with a
bounded shuffle buffer: training memory stays at a few shards whatever the data
set's size. ``.npy`` files are plain arrays, read with ``allow_pickle=False``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .recipes import TrainConfig

SHARD_WINDOWS = 8192


def write_shards(x: np.ndarray, y: np.ndarray, directory: Path, shard_windows: int = SHARD_WINDOWS) -> list[Path]:
    """Write (x, y) as numbered shard pairs; returns the x shard paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, start in enumerate(range(0, len(y), shard_windows)):
        stop = start + shard_windows
        x_path = directory / f"x_{index:05d}.npy"
        np.save(x_path, np.ascontiguousarray(x[start:stop], dtype=np.float32), allow_pickle=False)
        np.save(directory / f"y_{index:05d}.npy", np.ascontiguousarray(y[start:stop], dtype=np.int64), allow_pickle=False)
        paths.append(x_path)
    return paths


def shard_generator(directory: Path, shuffle: bool, seed: int):
    """Yield (x, y) windows shard by shard; shard order and in-shard order shuffled per pass."""
    x_paths = sorted(Path(directory).glob("x_*.npy"))
    if not x_paths:
        raise FileNotFoundError(f"{directory}: no x_*.npy shards")
    epoch = 0

    def generate():
        nonlocal epoch
        rng = np.random.default_rng(seed + epoch)
        epoch += 1
        order = rng.permutation(len(x_paths)) if shuffle else np.arange(len(x_paths))
        for i in order:
            xs = np.load(x_paths[i], mmap_mode="r", allow_pickle=False)
            ys = np.load(x_paths[i].with_name(x_paths[i].name.replace("x_", "y_")), allow_pickle=False)
            if len(xs) != len(ys):
                raise ValueError(f"{x_paths[i]}: {len(xs)} windows but {len(ys)} labels")
            inner = rng.permutation(len(ys)) if shuffle else np.arange(len(ys))
            for j in inner:
                yield np.asarray(xs[j]), ys[j]

    return generate


def make_dataset(x: np.ndarray, y: np.ndarray, config: TrainConfig, training: bool,
                 normalisation: dict | None = None, seed: int = 0, cache_dir: Path | None = None):
    """Batched tf.data pipeline over model-shaped inputs that are not yet normalised.

    When training, SNR-noise augmentation is applied to movement windows first
    (the noise is defined relative to the signal's own power, so it must see
    the signal before standardisation), then the run's normalisation.
    """
    import tensorflow as tf

    if cache_dir is not None:
        write_shards(x, y, cache_dir)
        spec = (tf.TensorSpec(x.shape[1:], tf.float32), tf.TensorSpec((), tf.int64))
        ds = tf.data.Dataset.from_generator(shard_generator(cache_dir, training, seed), output_signature=spec)
        # A generator's length is unknown to tf.data; Keras needs it to end each epoch cleanly.
        ds = ds.apply(tf.data.experimental.assert_cardinality(len(y)))
        if training:
            ds = ds.shuffle(4096, seed=seed)
    else:
        ds = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y.astype(np.int64)))
        if training:
            ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(config.batch_size)
    if training and config.augment_snr:
        from .augment import snr_noise_map

        ds = ds.map(snr_noise_map(tuple(config.snr_db_range)), num_parallel_calls=tf.data.AUTOTUNE)
    if normalisation and normalisation.get("kind") == "standardize":
        mean = tf.constant(np.asarray(normalisation["mean"], dtype=np.float32))
        std = tf.constant(np.asarray(normalisation["std"], dtype=np.float32))
        ds = ds.map(lambda xb, yb: ((xb - mean) / std, yb), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
