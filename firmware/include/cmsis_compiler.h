/*
 * cmsis_compiler.h - myoedge's own minimal stand-in for CMSIS-Core's compiler
 * header, enough for the CMSIS-DSP sources the firmware builds.
 *
 * CMSIS-DSP's arm_math_types.h includes "cmsis_compiler.h" for the attribute
 * macros and the Cortex-M intrinsics. We map them onto GCC attributes and the
 * ACLE intrinsics of <arm_acle.h>; the few with no ACLE equivalent (PKHBT,
 * PKHTB, SMMLA) are spelled out in C with the instruction's arithmetic.
 * Host builds define __GNUC_PYTHON__ instead (CMSIS-DSP's own portable
 * path, the one the cmsisdsp Python package uses) and never include this.
 */
#ifndef MYOEDGE_CMSIS_COMPILER_H
#define MYOEDGE_CMSIS_COMPILER_H

#include <stdint.h>

#if !defined(__GNUC__) || !defined(__arm__)
#error "cmsis_compiler.h: only for GCC targeting Arm (host builds define __GNUC_PYTHON__)"
#endif

#include <arm_acle.h>

#define __ASM __asm
#define __INLINE inline
#define __STATIC_INLINE static inline
#define __STATIC_FORCEINLINE static inline __attribute__((always_inline))
#define __NO_RETURN __attribute__((noreturn))
#define __USED __attribute__((used))
#define __WEAK __attribute__((weak))
#define __PACKED __attribute__((packed, aligned(1)))
#define __PACKED_STRUCT struct __attribute__((packed, aligned(1)))
#define __ALIGNED(x) __attribute__((aligned(x)))
#define __RESTRICT __restrict

/* Count leading zeros; 32 for 0 (ACLE defines __clz(0) = 32). */
#define __CLZ(x) ((uint8_t)__clz((uint32_t)(x)))
#define __ROR(x, n) __ror((uint32_t)(x), (uint32_t)(n))

#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
/* Saturate to a signed / unsigned range of `sat` bits (sat is a constant). */
#define __SSAT(x, sat) __ssat((int32_t)(x), (sat))
#define __USAT(x, sat) __usat((int32_t)(x), (sat))
#else
__STATIC_FORCEINLINE int32_t __SSAT(int32_t val, uint32_t sat)
{
    const int32_t max = (int32_t)((1u << (sat - 1u)) - 1u);
    const int32_t min = -1 - max;
    return val > max ? max : (val < min ? min : val);
}
__STATIC_FORCEINLINE uint32_t __USAT(int32_t val, uint32_t sat)
{
    const int32_t max = (int32_t)((1u << sat) - 1u);
    return (uint32_t)(val > max ? max : (val < 0 ? 0 : val));
}
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* Saturating and halving 8/16-bit SIMD arithmetic. */
#define __QADD8(a, b) ((uint32_t)__qadd8((int8x4_t)(a), (int8x4_t)(b)))
#define __QSUB8(a, b) ((uint32_t)__qsub8((int8x4_t)(a), (int8x4_t)(b)))
#define __QADD16(a, b) ((uint32_t)__qadd16((int16x2_t)(a), (int16x2_t)(b)))
#define __SHADD16(a, b) ((uint32_t)__shadd16((int16x2_t)(a), (int16x2_t)(b)))
#define __QSUB16(a, b) ((uint32_t)__qsub16((int16x2_t)(a), (int16x2_t)(b)))
#define __SHSUB16(a, b) ((uint32_t)__shsub16((int16x2_t)(a), (int16x2_t)(b)))
#define __QASX(a, b) ((uint32_t)__qasx((int16x2_t)(a), (int16x2_t)(b)))
#define __SHASX(a, b) ((uint32_t)__shasx((int16x2_t)(a), (int16x2_t)(b)))
#define __QSAX(a, b) ((uint32_t)__qsax((int16x2_t)(a), (int16x2_t)(b)))
#define __SHSAX(a, b) ((uint32_t)__shsax((int16x2_t)(a), (int16x2_t)(b)))
/* Dual 16-bit multiplies with 32- and 64-bit accumulation. */
#define __SMUAD(a, b) ((uint32_t)__smuad((int16x2_t)(a), (int16x2_t)(b)))
#define __SMUADX(a, b) ((uint32_t)__smuadx((int16x2_t)(a), (int16x2_t)(b)))
#define __SMUSD(a, b) ((uint32_t)__smusd((int16x2_t)(a), (int16x2_t)(b)))
#define __SMUSDX(a, b) ((uint32_t)__smusdx((int16x2_t)(a), (int16x2_t)(b)))
#define __SMLAD(a, b, c) ((uint32_t)__smlad((int16x2_t)(a), (int16x2_t)(b), (int32_t)(c)))
#define __SMLADX(a, b, c) ((uint32_t)__smladx((int16x2_t)(a), (int16x2_t)(b), (int32_t)(c)))
#define __SMLSDX(a, b, c) ((uint32_t)__smlsdx((int16x2_t)(a), (int16x2_t)(b), (int32_t)(c)))
#define __SMLALD(a, b, c) ((uint64_t)__smlald((int16x2_t)(a), (int16x2_t)(b), (int64_t)(c)))
#define __SMLALDX(a, b, c) ((uint64_t)__smlaldx((int16x2_t)(a), (int16x2_t)(b), (int64_t)(c)))
#define __SXTB16(x) ((uint32_t)__sxtb16((int8x4_t)(x)))
#define __QADD(a, b) __qadd((int32_t)(a), (int32_t)(b))
#define __QSUB(a, b) __qsub((int32_t)(a), (int32_t)(b))

/* Pack halfwords: bottom of a with (b << s) top; top of a with (b >> s, arithmetic) bottom. */
#define __PKHBT(a, b, s) ((uint32_t)((((uint32_t)(a)) & 0x0000FFFFu) | ((((uint32_t)(b)) << (s)) & 0xFFFF0000u)))
#define __PKHTB(a, b, s) ((uint32_t)((((uint32_t)(a)) & 0xFFFF0000u) | ((uint32_t)(((int32_t)(b)) >> (s)) & 0x0000FFFFu)))

/* Most significant word of a * b, plus c (no rounding), as SMMLA computes. */
__STATIC_FORCEINLINE int32_t __SMMLA(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((((int64_t)c << 32) + (int64_t)a * (int64_t)b) >> 32);
}
#endif /* __ARM_FEATURE_DSP */

#endif /* MYOEDGE_CMSIS_COMPILER_H */
