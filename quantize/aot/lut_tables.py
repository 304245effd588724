"""Interpolation tables the int16 kernels need, computed from their formulas.

TFLM's int16 LOGISTIC and TANH (and its integer LSTM, which uses both) read a
256-entry uint16 table of ``sigmoid(i / 24)`` in Q0.16 and interpolate
linearly between neighbouring entries (``tanh(x) = 2 sigmoid(2x) - 1`` reuses
the same table). A table that stores plain rounded samples makes the
interpolated curve sag below the function between samples wherever the
function is concave; the table TFLM uses is built the documented way to cancel
that on average:

1. sample ``f`` at the 256 points ``x_i = i * step``;
2. at each segment's midpoint, measure the error of linear interpolation,
   ``e_i = (f(x_i) + f(x_{i+1})) / 2 - f(x_i + step / 2)``;
3. store ``round(f(x_i) - e_i / 2)``: the entry moves by half that error, so
   the interpolated midpoint lands halfway between the chord and the curve;
4. clamp to the uint16 range.

Here ``f(x) = 65536 * sigmoid(x)`` and ``step = 1 / 24``; rounding is half
away from zero (TFLM's ``TfLiteRound``), in double precision. The result
equals the table the kernel needs (``tests/test_aot_lstm.py`` checks every
entry against the LSTM's parity with TFLM) with one exception, handled as a
rule of its own: the last entry. The kernels never interpolate *from* it
(an index of 255 or more saturates) but do interpolate *towards* it from
entry 254, and there the table holds the function's limit, sigmoid(+inf) =
1.0, saturated to 65535, rather than the corrected sample (65534). So:
entries 0..254 by the method above, entry 255 = ``min(65536 * 1.0, 65535)``.
"""

from __future__ import annotations

import math

import numpy as np

SIGMOID_TABLE_SIZE = 256
SIGMOID_TABLE_STEP = 1.0 / 24.0  # the table covers sigmoid on [0, 255/24] ~ [0, 10.6]
Q16_ONE = 65536.0
UINT16_MAX = 65535


def round_half_away(value: float) -> float:
    """Round to the nearest integer, halves away from zero (C's ``round``, TFLM's ``TfLiteRound``)."""
    return math.copysign(math.floor(abs(value) + 0.5), value)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def midpoint_corrected_table(func, count: int, step: float, scale: float, low: int, high: int) -> np.ndarray:
    """``count`` samples of ``scale * func(i * step)``, each moved by half the linear-interpolation
    error at its segment's midpoint, rounded half away from zero and clamped to [low, high]."""
    table = np.empty(count, dtype=np.int64)
    for i in range(count):
        here = scale * func(i * step)
        after = scale * func((i + 1) * step)
        middle = scale * func((i + 0.5) * step)
        chord_error = (here + after) / 2.0 - middle
        table[i] = min(max(round_half_away(here - chord_error / 2.0), low), high)
    return table


def sigmoid_interpolation_table() -> np.ndarray:
    """The 256 uint16 entries of ``sigmoid(i / 24)`` in Q0.16 that the int16 sigmoid / tanh interpolate.

    Entries 0..254 come from :func:`midpoint_corrected_table`; entry 255 is
    sigmoid's limit 1.0, saturated to 65535 (see the module docstring).
    """
    table = midpoint_corrected_table(_sigmoid, SIGMOID_TABLE_SIZE, SIGMOID_TABLE_STEP, Q16_ONE, 0, UINT16_MAX)
    table[-1] = min(int(Q16_ONE * 1.0), UINT16_MAX)
    return table.astype(np.uint16)


def rounding_margins() -> np.ndarray:
    """How far each corrected value of entries 0..254 lies from a rounding boundary (0.5 = safest).

    A margin far above double-precision error shows the table does not hinge
    on how ``exp`` rounds on a given platform.
    """
    margins = np.empty(SIGMOID_TABLE_SIZE - 1)
    for i in range(SIGMOID_TABLE_SIZE - 1):
        here = Q16_ONE * _sigmoid(i * SIGMOID_TABLE_STEP)
        after = Q16_ONE * _sigmoid((i + 1) * SIGMOID_TABLE_STEP)
        middle = Q16_ONE * _sigmoid((i + 0.5) * SIGMOID_TABLE_STEP)
        value = here - ((here + after) / 2.0 - middle) / 2.0
        margins[i] = abs(abs(value - math.floor(value)) - 0.5)
    return margins
