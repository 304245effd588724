"""Requantisation parameters computed exactly as TensorFlow Lite Micro computes them.

The AOT engine is bit-exact with TFLM only if every multiplier, shift, radius
and lookup table it bakes into the generated C is the number TFLM's kernel
``Prepare`` functions would have computed at run time. This module is the one
place those formulas live (the emitters call it; the C kernels only consume
the results):

* :func:`quantize_multiplier` - a real multiplier as a Q0.31 integer and a
  power-of-two exponent (``frexp`` + round-half-away-from-zero), shift > 0
  meaning a left shift, as TFLM's ``QuantizeMultiplier`` returns it;
* the softmax / logistic / tanh input-scaling helpers;
* :func:`mul_by_quantized_multiplier` and friends - numpy versions of the C
  primitives in ``firmware/kernels/include/mye_fixedpoint.h``, used to build
  lookup tables in Python and to cross-check the C.

Floating-point subtleties matter: TFLM stores tensor scales as ``float``
(float32), so emitters first round every scale to float32. TFLM's sources
write some scale ratios as float32 divisions, but the interpreter build that
serves as the oracle evaluates them in double (checked on HARD_SWISH, where
the difference survives the rounding to Q0.15), so emitters take ratios of
the float32 scales in double precision and pass Python floats in here.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def round_half_away(value: float) -> int:
    """``std::round``: nearest integer, halves away from zero."""
    if value >= 0:
        return int(math.floor(value + 0.5))
    return -int(math.floor(-value + 0.5))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """``real`` as ``(multiplier, shift)`` with real ~= multiplier * 2^(shift - 31).

    ``multiplier`` is in [2^30, 2^31) (or 0 for a zero multiplier or one below
    ~2^-31, which TFLM flushes to zero); ``shift`` > 0 is a left shift.
    """
    real = float(real)
    if real == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real)
    q_fixed = round_half_away(fraction * float(1 << 31))
    if q_fixed > (1 << 31):
        raise ValueError(f"quantize_multiplier({real!r}): fraction rounds above 1")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if q_fixed > INT32_MAX:
        raise ValueError(f"quantize_multiplier({real!r}): multiplier does not fit in int32")
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_smaller_than_one(real: float) -> tuple[int, int]:
    """``QuantizeMultiplierSmallerThanOneExp``: like :func:`quantize_multiplier`, 0 < real < 1."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"multiplier {real!r} is not in (0, 1)")
    multiplier, shift = quantize_multiplier(real)
    if shift > 0:
        raise ValueError(f"multiplier {real!r} gave a left shift {shift}")
    return multiplier, shift


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """``QuantizeMultiplierGreaterThanOne``: like :func:`quantize_multiplier`, real > 1."""
    if not real > 1.0:
        raise ValueError(f"multiplier {real!r} is not above 1")
    multiplier, shift = quantize_multiplier(real)
    if shift < 0:
        raise ValueError(f"multiplier {real!r} gave a right shift {shift}")
    return multiplier, shift


def preprocess_softmax_scaling(beta: float, input_scale: float, input_integer_bits: int) -> tuple[int, int]:
    """Softmax input multiplier and left shift (TFLM ``PreprocessSoftmaxScaling``, double rounding).

    The real multiplier beta * scale * 2^(31 - integer_bits) is capped at
    2^31 - 1 (differences that large round exp() to zero anyway).
    """
    max_real_multiplier = float((1 << 31) - 1)
    real = min(beta * input_scale * float(1 << (31 - input_integer_bits)), max_real_multiplier)
    return quantize_multiplier_greater_than_one(real)


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """TFLM ``CalculateInputRadius``: largest |input difference| before the function saturates."""
    max_input_rescaled = (
        1.0
        * ((1 << input_integer_bits) - 1)
        * float(1 << (total_signed_bits - input_integer_bits))
        / float(1 << input_left_shift)
    )
    return int(math.floor(max_input_rescaled))


def frexp_multiplier(real: float) -> tuple[int, int]:
    """``frexp`` + round without the ==2^31 fix-up: what TFLM's logistic/tanh int8 Prepare does.

    Returns ``(multiplier, left_shift)``; the multiplier may equal 2^31 only if
    the fraction rounds up, which TFLM would then store wrapped; we refuse it.
    """
    fraction, shift = math.frexp(float(real))
    q_fixed = round_half_away(fraction * float(1 << 31))
    if q_fixed > INT32_MAX:
        raise ValueError(f"multiplier {real!r} rounds to 2^31, which TFLM stores wrapped")
    return int(q_fixed), int(shift)


# ---- numpy versions of the C fixed-point primitives (int64 arrays in, int64 out) ----


def _as_i64(x: np.ndarray | int) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def sat_rounding_doubling_high_mul(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """Vectorised ``mye_sat_rounding_doubling_high_mul`` (values must be int32-ranged)."""
    a = _as_i64(a)
    b = _as_i64(b)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    # a*b fits in int64 except for the overflow case; use Python-style care there.
    product = np.where(overflow, 0, a) * b
    nudge = np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    total = product + nudge
    # Truncating division toward zero by 2^31.
    quotient = np.where(total >= 0, total >> 31, -((-total) >> 31))
    return np.where(overflow, INT32_MAX, quotient).astype(np.int64)


def rounding_divide_by_pot(x: np.ndarray | int, exponent: int) -> np.ndarray:
    """Vectorised ``mye_rounding_divide_by_pot``: x / 2^exponent, ties away from zero."""
    x = _as_i64(x)
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def wrap_int32(x: np.ndarray | int) -> np.ndarray:
    """Two's complement wrap of int64 values into the int32 range."""
    x = _as_i64(x)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def mul_by_quantized_multiplier(x: np.ndarray | int, multiplier: int, shift: int) -> np.ndarray:
    """Vectorised ``mye_mul_by_quantized_multiplier`` (TFLM double rounding)."""
    left_shift = shift if shift > 0 else 0
    right_shift = 0 if shift > 0 else -shift
    shifted = wrap_int32(_as_i64(x) << left_shift)
    return rounding_divide_by_pot(sat_rounding_doubling_high_mul(shifted, multiplier), right_shift)


def saturating_left_shift(x: np.ndarray | int, shift: int) -> np.ndarray:
    """Vectorised ``mye_shl_sat``: x * 2^shift clamped to int32."""
    return np.clip(_as_i64(x) << shift, INT32_MIN, INT32_MAX)


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray) -> np.ndarray:
    """Vectorised gemmlowp exp on [-1/4, 0) in Q0.31 (Taylor series around -1/8)."""
    a = _as_i64(a)
    constant_term = 1895147668  # exp(-1/8) in Q0.31
    one_third = 715827883  # 1/3 in Q0.31
    x = a + (1 << 28)
    x2 = sat_rounding_doubling_high_mul(x, x)
    x3 = sat_rounding_doubling_high_mul(x2, x)
    x4 = sat_rounding_doubling_high_mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(sat_rounding_doubling_high_mul(x4_over_4 + x3, one_third) + x2, 1)
    return constant_term + sat_rounding_doubling_high_mul(constant_term, x + poly)


# exp(-2^k) in Q0.31 for k = -2 .. 4 (gemmlowp's barrel-shifter constants).
_EXP_NEG_POW2 = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)


def exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """Vectorised ``mye_exp_on_negative_values``: exp(a) for a <= 0 with ``integer_bits``, result Q0.31."""
    a = _as_i64(a)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_left_shift(a_mod_quarter_minus_one_quarter, integer_bits)
    )
    remainder = a_mod_quarter_minus_one_quarter - a
    for k, constant in enumerate(_EXP_NEG_POW2):
        exponent = k - 2
        if integer_bits > exponent:
            bit = fractional_bits + exponent
            result = np.where((remainder & (1 << bit)) != 0, sat_rounding_doubling_high_mul(result, constant), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (fractional_bits + 5)), 0, result)
    return np.where(a == 0, INT32_MAX, result).astype(np.int64)


def softmax_exp_table(input_multiplier: int, input_left_shift: int, diff_min: int,
                      integer_bits: int = 5) -> np.ndarray:
    """exp(beta * scale * -d) in Q0.31 for d = 0..255, as int8 SOFTMAX computes it (0 below diff_min).

    Lets the kernel replace its per-element fixed-point exp by one table read.
    """
    diff = -np.arange(256, dtype=np.int64)
    rescaled = sat_rounding_doubling_high_mul(wrap_int32(diff << input_left_shift), input_multiplier)
    table = exp_on_negative_values(rescaled, integer_bits)
    return np.where(diff >= diff_min, table, 0).astype(np.int64)
