"""The board's streaming preprocessing, computed on the host bit for bit.

The firmware (``firmware/src/preprocess.c``) preprocesses in float32, one
sample at a time: rectify (``fabsf``), high-pass with CMSIS-DSP's
``arm_biquad_cascade_df2T_f32`` (one instance per channel, second-order
sections from :func:`myoedge.training.preprocess.highpass_sos`), a ring
buffer of the last ``window`` filtered samples, and every ``step`` samples a
window: moving average (sum of ``moving_average`` samples in time order,
divided by the width), optional z-score per channel, optional per-channel
normalisation ``(x - mean) / std``, and quantisation to the model's int8
input (``round(x / scale) + zero_point``, halves away from zero, clamped).

:class:`BoardPreprocessor` does the same operations in the same order and
precision with the ``cmsisdsp`` Python package (the same C filter code) and
numpy float32, so its int8 windows equal the firmware's exactly. It differs
from the training transform (:mod:`myoedge.training.preprocess`, float64)
only by float32 rounding: see :data:`TRAINING_TOLERANCE`.

The parameters reach the firmware as C macros in the model manifest that
the quantize stage writes (``myoedge.quantize.headers``);
:func:`params_from_manifest` reads them back, so the host reference always
uses exactly what the firmware was compiled with. :func:`manifest_macros`
writes the same macros without a model (tests, bring-up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myoedge.training.preprocess import PreprocessConfig, highpass_sos

# Documented bound on max |board - training| over a stream's preprocessed
# windows, relative to the largest |training| value (float32 filter and sums
# against float64). Measured on NinaPro DB5 S1 E1 (whole recording, 26 044
# windows, DB5 attention preprocessing): 6.4e-7 relative (6.5e-6 absolute);
# quantised at a full-range scale the int8 windows differ by at most 1 LSB in
# 2e-6 of the values. The bound keeps a 15x margin.
TRAINING_TOLERANCE = 1e-5
ZSCORE_MIN_STD = np.float32(1e-12)


@dataclass(frozen=True)
class BoardPreprocessParams:
    """Everything the firmware's preprocessing needs, as the firmware holds it (float32)."""

    channels: int
    window: int
    step: int
    moving_average: int
    rectify: bool
    zscore_window: bool
    hp_coeffs: np.ndarray  # (stages * 5,) float32: b0, b1, b2, -a1, -a2 per section (CMSIS order)
    norm_mean: np.ndarray | None  # float32, (channels,) or (output_steps * channels,), or None
    norm_std: np.ndarray | None
    input_scale: float  # a float32 value
    input_zero_point: int
    channel_order: np.ndarray | None = None  # image models: model element i = arriving channel channel_order[i]

    @property
    def output_steps(self) -> int:
        return self.window - self.moving_average + 1

    @property
    def hp_stages(self) -> int:
        return int(self.hp_coeffs.size // 5)

    def __post_init__(self) -> None:
        if self.channels < 1 or self.window < 1 or self.step < 1:
            raise ValueError("board preprocess: channels, window and step must be >= 1")
        if not 1 <= self.moving_average <= self.window:
            raise ValueError(f"board preprocess: moving_average must be in 1..{self.window}")
        if self.hp_coeffs.size % 5:
            raise ValueError("board preprocess: hp_coeffs must hold 5 numbers per section")
        if (self.norm_mean is None) != (self.norm_std is None):
            raise ValueError("board preprocess: give both norm_mean and norm_std, or neither")
        sizes = (self.channels, self.channels * self.output_steps)
        if self.norm_mean is not None and (self.norm_mean.size not in sizes or self.norm_std.size != self.norm_mean.size):
            raise ValueError(f"board preprocess: norm_mean / norm_std need {sizes[0]} (per channel) "
                             f"or {sizes[1]} (per input element) values")
        if not (np.isfinite(self.input_scale) and self.input_scale > 0):
            raise ValueError(f"board preprocess: input_scale must be > 0, got {self.input_scale}")
        if not -128 <= self.input_zero_point <= 127:
            raise ValueError(f"board preprocess: input_zero_point must be an int8, got {self.input_zero_point}")
        if self.channel_order is not None and sorted(self.channel_order.tolist()) != list(range(self.channels)):
            raise ValueError(f"board preprocess: channel_order must be a permutation of 0..{self.channels - 1}")


def cmsis_coefficients(sos: np.ndarray | None) -> np.ndarray:
    """scipy second-order sections (n, 6) -> CMSIS df2T coefficients (n * 5,) float32.

    CMSIS adds the feedback terms, scipy subtracts them, hence -a1, -a2.
    """
    if sos is None:
        return np.zeros(0, dtype=np.float32)
    sos = np.asarray(sos, dtype=np.float64)
    if np.any(sos[:, 3] != 1.0):
        raise ValueError("board preprocess: sections must be normalised (a0 = 1)")
    return np.stack([sos[:, 0], sos[:, 1], sos[:, 2], -sos[:, 4], -sos[:, 5]], axis=1).reshape(-1).astype(np.float32)


def params_from_config(cfg: PreprocessConfig, channels: int, input_scale: float, input_zero_point: int,
                       norm_mean: np.ndarray | None = None, norm_std: np.ndarray | None = None,
                       channel_order: np.ndarray | None = None) -> BoardPreprocessParams:
    """The board parameters for a training PreprocessConfig and the model's input quantisation."""
    if cfg.frames and (cfg.window != 1 or cfg.step != 1):
        raise ValueError("board preprocess: frames need window = step = 1")
    return BoardPreprocessParams(
        channels=int(channels), window=cfg.window, step=cfg.step, moving_average=cfg.moving_average,
        rectify=cfg.rectify, zscore_window=cfg.zscore_window,
        hp_coeffs=cmsis_coefficients(highpass_sos(cfg)),
        norm_mean=None if norm_mean is None else np.asarray(norm_mean, dtype=np.float32),
        norm_std=None if norm_std is None else np.asarray(norm_std, dtype=np.float32),
        input_scale=float(np.float32(input_scale)), input_zero_point=int(input_zero_point),
        channel_order=None if channel_order is None else np.asarray(channel_order, dtype=np.int64),
    )


# ---- the C macros (model manifest) ------------------------------------------

def manifest_macros(cfg: PreprocessConfig, channels: int, input_scale: float, input_zero_point: int,
                    norm_mean: np.ndarray | None = None, norm_std: np.ndarray | None = None,
                    channel_order: np.ndarray | None = None) -> str:
    """The manifest macros preprocess.c compiles against, without a model.

    The preprocessing and normalisation blocks come from the quantize stage's
    own generator (``myoedge.quantize.headers``), so they are exactly what
    ``model_manifest.h`` holds for a real model; the input tensor's size,
    scale and zero point are added the same way. Used by tests and board
    bring-up, where no .tflite exists.
    """
    from myoedge.quantize import headers

    steps = cfg.output_steps
    if norm_mean is None:
        normalisation: dict = {"kind": "none"}
    else:
        normalisation = {"kind": "standardize", "mean": [float(v) for v in np.asarray(norm_mean).ravel()],
                         "std": [float(v) for v in np.asarray(norm_std).ravel()]}
    lines = [
        "/* Board preprocessing macros (myoedge.board_preprocess.manifest_macros) */",
        f"#define MYE_INPUT_SIZE {steps * int(channels)}",
        f"#define MYE_INPUT_SCALE {headers.c_float32(input_scale)}",
        f"#define MYE_INPUT_ZERO_POINT {headers.c_int(input_zero_point)}",
        *headers.preprocess_block(cfg.to_dict()),
        *headers.normalisation_block(normalisation),
        *headers.channel_order_block(None if channel_order is None else list(channel_order), int(channels)),
    ]
    return "\n".join(lines) + "\n"


_DEFINE = re.compile(r"^\s*#\s*define\s+(MYE_\w+)[ \t]+(.+?)\s*$", re.MULTILINE)


def _parse_float(text: str) -> float:
    return float(text.strip().rstrip("fF"))


def params_from_manifest(path: str | Path) -> BoardPreprocessParams:
    """Read the board's preprocessing parameters from a manifest header.

    The same macros preprocess.h maps (see its comment): the host reference
    always uses exactly what the firmware was compiled with.
    """
    text = Path(path).read_text().replace("\\\n", " ")  # join continuation lines
    values = {name: value for name, value in _DEFINE.findall(text)}

    def need(name: str) -> str:
        if name not in values:
            raise ValueError(f"{path}: no #define {name}")
        return values[name]

    def integer(name: str, default: int | None = None) -> int:
        if default is not None and name not in values:
            return default
        return int(need(name).strip().strip("()").rstrip("uUlL"))

    def floats(name: str) -> np.ndarray:
        body = need(name).strip()
        if not (body.startswith("{") and body.endswith("}")):
            raise ValueError(f"{path}: {name} is not a {{...}} list")
        # A double literal rounds to float32 the way the compiler rounds it.
        return np.array([float(v.strip().rstrip("fF")) for v in body[1:-1].split(",") if v.strip()],
                        dtype=np.float64).astype(np.float32)

    steps = integer("MYE_PP_OUTPUT_STEPS")
    input_size = integer("MYE_INPUT_SIZE")
    channels = integer("MYE_PP_CHANNELS", default=input_size // steps if steps else 0)
    stages = integer("MYE_PP_HIGHPASS_SECTIONS", default=0)
    normalise = integer("MYE_NORM_STANDARDIZE", default=0)
    reorder = integer("MYE_PP_REORDER", default=0)
    params = BoardPreprocessParams(
        channels=channels, window=integer("MYE_PP_WINDOW"), step=integer("MYE_PP_STEP"),
        moving_average=integer("MYE_PP_MOVING_AVERAGE"), rectify=bool(integer("MYE_PP_RECTIFY", default=0)),
        zscore_window=bool(integer("MYE_PP_ZSCORE_WINDOW", default=0)),
        hp_coeffs=floats("MYE_PP_HIGHPASS_CMSIS_DF2T") if stages else np.zeros(0, dtype=np.float32),
        norm_mean=floats("MYE_NORM_MEAN") if normalise else None,
        norm_std=floats("MYE_NORM_STD") if normalise else None,
        input_scale=float(np.float32(_parse_float(need("MYE_INPUT_SCALE")))),
        input_zero_point=integer("MYE_INPUT_ZERO_POINT"),
        channel_order=floats("MYE_PP_CHANNEL_ORDER").astype(np.int64) if reorder else None,
    )
    if params.output_steps != steps or params.hp_stages != stages or channels * steps != input_size:
        raise ValueError(f"{path}: MYE_PP_OUTPUT_STEPS / MYE_PP_HIGHPASS_SECTIONS / MYE_INPUT_SIZE disagree")
    return params


# ---- the arithmetic ------------------------------------------------------------

def round_half_away(values: np.ndarray) -> np.ndarray:
    """C's roundf() on float32 values (halves away from zero), exactly.

    float64 holds every float32 plus 0.5 exactly, so trunc(x + 0.5 sign(x))
    makes no rounding error of its own.
    """
    wide = np.asarray(values, dtype=np.float32).astype(np.float64)
    return np.trunc(wide + np.copysign(0.5, wide))


def quantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float32 -> int8 as preprocess.c: clamp(roundf(x / scale) + zero_point)."""
    x = np.asarray(values, dtype=np.float32)
    scaled = np.divide(x, np.float32(scale), dtype=np.float32)
    q = round_half_away(scaled) + float(zero_point)
    q = np.where(np.isnan(q), float(zero_point), q)
    return np.clip(q, -128, 127).astype(np.int8)


def _window_values(params: BoardPreprocessParams, filtered: np.ndarray) -> np.ndarray:
    """One window (window, C) float32 of filtered samples -> (output_steps, C) float32."""
    width = params.moving_average
    t = params.output_steps
    acc = filtered[0:t].astype(np.float32).copy()
    for k in range(1, width):
        acc = np.add(acc, filtered[k:k + t], dtype=np.float32)
    out = np.divide(acc, np.float32(width), dtype=np.float32)
    if params.zscore_window:
        total = out[0].copy()
        for i in range(1, t):
            total = np.add(total, out[i], dtype=np.float32)
        mean = np.divide(total, np.float32(t), dtype=np.float32)
        centred = np.subtract(out, mean, dtype=np.float32)
        squares = np.multiply(centred, centred, dtype=np.float32)
        total = squares[0].copy()
        for i in range(1, t):
            total = np.add(total, squares[i], dtype=np.float32)
        std = np.sqrt(np.divide(total, np.float32(t), dtype=np.float32), dtype=np.float32)
        std = np.where(std < ZSCORE_MIN_STD, np.float32(1.0), std).astype(np.float32)
        out = np.divide(centred, std, dtype=np.float32)
    if params.channel_order is not None:  # image models: the electrode grid's order (preprocess.c)
        out = out[:, params.channel_order]
    if params.norm_mean is not None:
        mean = params.norm_mean.reshape(-1, params.channels)  # (1, C) or (T, C)
        std = params.norm_std.reshape(-1, params.channels)
        out = np.divide(np.subtract(out, mean, dtype=np.float32), std, dtype=np.float32)
    return out


class BoardPreprocessor:
    """The firmware's streaming preprocessing on the host: push samples, get windows.

    ``push(samples)`` takes (n, C) float32 samples and returns the windows
    they completed as ``(float32 (m, T, C), int8 (m, T, C))``; a window
    completes after ``window`` samples and then every ``step`` samples.
    """

    def __init__(self, params: BoardPreprocessParams) -> None:
        import cmsisdsp  # the 'dsp' extra; imported here so the module loads without it

        self._dsp = cmsisdsp
        self.params = params
        self.reset()

    def reset(self) -> None:
        """Zero the filter state and forget the window (as mye_pp_reset)."""
        p = self.params
        self._filters = []
        for _ in range(p.channels if p.hp_stages else 0):
            instance = self._dsp.arm_biquad_cascade_df2T_instance_f32()
            state = np.zeros(2 * p.hp_stages, dtype=np.float32)
            self._dsp.arm_biquad_cascade_df2T_init_f32(instance, p.hp_stages, p.hp_coeffs, state)
            self._filters.append((instance, state))
        self._recent = np.zeros((0, p.channels), dtype=np.float32)
        self._seen = 0

    @property
    def samples_seen(self) -> int:
        return self._seen

    def filter(self, samples: np.ndarray) -> np.ndarray:
        """Rectify and high-pass a chunk (n, C), carrying the filter state."""
        x = np.asarray(samples, dtype=np.float32)
        if self.params.rectify:
            x = np.abs(x)
        if not self._filters or x.shape[0] == 0:
            return x.copy()
        out = np.empty_like(x)
        for c, (instance, _state) in enumerate(self._filters):
            out[:, c] = self._dsp.arm_biquad_cascade_df2T_f32(instance, np.ascontiguousarray(x[:, c]))
        return out

    def push(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        samples = np.asarray(samples)
        if samples.ndim != 2 or samples.shape[1] != p.channels:
            raise ValueError(f"board preprocess: samples must be (n, {p.channels}), got shape {samples.shape}")
        if samples.size and not np.all(np.isfinite(samples)):
            raise ValueError("board preprocess: samples hold NaN or infinity (the firmware rejects them)")
        filtered = self.filter(samples)
        history = np.concatenate([self._recent, filtered], axis=0)
        first = self._seen - self._recent.shape[0]  # stream index of history[0]
        windows = []
        for end in range(self._seen + 1, self._seen + samples.shape[0] + 1):  # end = samples seen after this one
            if end >= p.window and (end - p.window) % p.step == 0:
                start = end - p.window - first
                windows.append(_window_values(p, history[start:start + p.window]))
        self._seen += samples.shape[0]
        self._recent = history[max(0, history.shape[0] - (p.window - 1)):] if p.window > 1 else history[:0]
        if not windows:
            empty = np.zeros((0, p.output_steps, p.channels), dtype=np.float32)
            return empty, empty.astype(np.int8)
        values = np.stack(windows).astype(np.float32)
        return values, quantize(values, p.input_scale, p.input_zero_point)


def preprocess_raw_window(params: BoardPreprocessParams, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One raw window (window, C) from a reset state, as the firmware's INFER raw mode.

    Returns ``(float32 (T, C), int8 (T, C))``.
    """
    raw = np.asarray(raw)
    if raw.shape != (params.window, params.channels):
        raise ValueError(f"board preprocess: a raw window is ({params.window}, {params.channels}), got {raw.shape}")
    values, q = BoardPreprocessor(params).push(raw)
    return values[0], q[0]
