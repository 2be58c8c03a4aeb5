//! The handful of vector operations the remainder test needs, once per instruction set.
//!
//! The algorithm in [`super::divide`] is written once, generic over [`Lanes`]; each instruction
//! set only says how to splat, load, multiply, divide, round, fuse a multiply-add and compare.
//! Keeping the per-ISA part this small is what makes the NEON path (which this x86 machine cannot
//! run) trustworthy: everything but these few lines is exercised by [`Emulated`] in the tests.

/// A vector of `LANES` f64 values.
///
/// # Safety
///
/// Every method may execute instructions of one instruction set. Call them only from code that
/// runs when the CPU has that set (in practice: inlined into a `#[target_feature]` function that
/// is only called after run-time detection, see `super::Path`).
pub(crate) trait Lanes: Copy {
    const LANES: usize;
    /// One flag per lane, as the compare instruction produces it.
    type Mask: Copy;

    unsafe fn splat(x: f64) -> Self;
    /// `LANES` consecutive values starting at `p`, no alignment required.
    unsafe fn load(p: *const f64) -> Self;
    unsafe fn add(a: Self, b: Self) -> Self;
    unsafe fn min(a: Self, b: Self) -> Self;
    unsafe fn mul(a: Self, b: Self) -> Self;
    /// Correctly rounded IEEE division.
    unsafe fn div(a: Self, b: Self) -> Self;
    /// To the nearest integer, ties to even; exact (no precision is lost for any finite input).
    unsafe fn round(a: Self) -> Self;
    /// `c - a * b` computed exactly and rounded once (a fused multiply-add).
    unsafe fn neg_mul_add(a: Self, b: Self, c: Self) -> Self;
    /// Which lanes equal zero (either sign).
    unsafe fn is_zero(a: Self) -> Self::Mask;
    unsafe fn or(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    unsafe fn any(m: Self::Mask) -> bool;
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Lanes;
    use std::arch::x86_64::*;

    /// Round to nearest (ties to even) without raising the inexact exception.
    const NEAREST: i32 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

    /// The arithmetic of a vector type whose intrinsics differ only in width.
    macro_rules! x86_arithmetic {
        ($set1:ident, $loadu:ident, $add:ident, $min:ident, $mul:ident, $div:ident, $round:ident, $fnmadd:ident) => {
            #[inline(always)]
            unsafe fn splat(x: f64) -> Self {
                Self($set1(x))
            }
            #[inline(always)]
            unsafe fn load(p: *const f64) -> Self {
                Self($loadu(p))
            }
            #[inline(always)]
            unsafe fn add(a: Self, b: Self) -> Self {
                Self($add(a.0, b.0))
            }
            #[inline(always)]
            unsafe fn min(a: Self, b: Self) -> Self {
                Self($min(a.0, b.0))
            }
            #[inline(always)]
            unsafe fn mul(a: Self, b: Self) -> Self {
                Self($mul(a.0, b.0))
            }
            #[inline(always)]
            unsafe fn div(a: Self, b: Self) -> Self {
                Self($div(a.0, b.0))
            }
            #[inline(always)]
            unsafe fn round(a: Self) -> Self {
                Self($round::<NEAREST>(a.0))
            }
            #[inline(always)]
            unsafe fn neg_mul_add(a: Self, b: Self, c: Self) -> Self {
                Self($fnmadd(a.0, b.0, c.0))
            }
        };
    }

    /// 4 lanes of AVX (`vroundpd`) with FMA3 (`vfnmadd`); the path is named after AVX2 because
    /// that is the x86-64-v3 level these CPUs share.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2(__m256d);

    impl Lanes for Avx2 {
        const LANES: usize = 4;
        type Mask = __m256d;

        x86_arithmetic!(
            _mm256_set1_pd,
            _mm256_loadu_pd,
            _mm256_add_pd,
            _mm256_min_pd,
            _mm256_mul_pd,
            _mm256_div_pd,
            _mm256_round_pd,
            _mm256_fnmadd_pd
        );

        #[inline(always)]
        unsafe fn is_zero(a: Self) -> __m256d {
            _mm256_cmp_pd::<_CMP_EQ_OQ>(a.0, _mm256_setzero_pd())
        }
        #[inline(always)]
        unsafe fn or(a: __m256d, b: __m256d) -> __m256d {
            _mm256_or_pd(a, b)
        }
        #[inline(always)]
        unsafe fn any(m: __m256d) -> bool {
            _mm256_movemask_pd(m) != 0
        }
    }

    /// 8 lanes of AVX-512F (which includes the 512-bit FMA and `vrndscalepd`).
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512(__m512d);

    impl Lanes for Avx512 {
        const LANES: usize = 8;
        type Mask = __mmask8;

        // The same shape as Avx2's list on purpose: these names are the whole per-ISA difference.
        // Deriving them from a width would need an identifier-pasting macro crate, for no gain.
        x86_arithmetic!(
            _mm512_set1_pd,
            _mm512_loadu_pd,
            _mm512_add_pd,
            _mm512_min_pd,
            _mm512_mul_pd,
            _mm512_div_pd,
            _mm512_roundscale_pd,
            _mm512_fnmadd_pd
        );

        #[inline(always)]
        unsafe fn is_zero(a: Self) -> __mmask8 {
            _mm512_cmpeq_pd_mask(a.0, _mm512_setzero_pd())
        }
        #[inline(always)]
        unsafe fn or(a: __mmask8, b: __mmask8) -> __mmask8 {
            a | b
        }
        #[inline(always)]
        unsafe fn any(m: __mmask8) -> bool {
            m != 0
        }
    }
}

#[cfg(target_arch = "aarch64")]
pub(crate) use arm::Neon;

#[cfg(target_arch = "aarch64")]
mod arm {
    use super::Lanes;
    use std::arch::aarch64::*;

    /// 2 lanes of Advanced SIMD (NEON), part of every AArch64 CPU.
    #[derive(Clone, Copy)]
    pub(crate) struct Neon(float64x2_t);

    impl Lanes for Neon {
        const LANES: usize = 2;
        type Mask = uint64x2_t;

        #[inline(always)]
        unsafe fn splat(x: f64) -> Self {
            Neon(vdupq_n_f64(x))
        }
        #[inline(always)]
        unsafe fn load(p: *const f64) -> Self {
            Neon(vld1q_f64(p))
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            Neon(vaddq_f64(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn min(a: Self, b: Self) -> Self {
            Neon(vminq_f64(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn mul(a: Self, b: Self) -> Self {
            Neon(vmulq_f64(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn div(a: Self, b: Self) -> Self {
            Neon(vdivq_f64(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn round(a: Self) -> Self {
            Neon(vrndnq_f64(a.0))
        }
        #[inline(always)]
        unsafe fn neg_mul_add(a: Self, b: Self, c: Self) -> Self {
            // vfmsq_f64(x, y, z) = x - y * z, fused.
            Neon(vfmsq_f64(c.0, a.0, b.0))
        }
        #[inline(always)]
        unsafe fn is_zero(a: Self) -> uint64x2_t {
            vceqzq_f64(a.0)
        }
        #[inline(always)]
        unsafe fn or(a: uint64x2_t, b: uint64x2_t) -> uint64x2_t {
            vorrq_u64(a, b)
        }
        #[inline(always)]
        unsafe fn any(m: uint64x2_t) -> bool {
            (vgetq_lane_u64::<0>(m) | vgetq_lane_u64::<1>(m)) != 0
        }
    }
}

/// Plain-Rust lanes with the same IEEE semantics (`mul_add` is fused, `round_ties_even` exact):
/// lets the tests run the generic algorithm with 2 lanes (NEON's shape) on any machine.
#[cfg(test)]
#[derive(Clone, Copy)]
pub(crate) struct Emulated<const N: usize>([f64; N]);

#[cfg(test)]
impl<const N: usize> Emulated<N> {
    fn map2(a: Self, b: Self, f: impl Fn(f64, f64) -> f64) -> Self {
        Emulated(std::array::from_fn(|i| f(a.0[i], b.0[i])))
    }
}

#[cfg(test)]
impl<const N: usize> Lanes for Emulated<N> {
    const LANES: usize = N;
    type Mask = [bool; N];

    unsafe fn splat(x: f64) -> Self {
        Emulated([x; N])
    }
    unsafe fn load(p: *const f64) -> Self {
        Emulated(std::array::from_fn(|i| *p.add(i)))
    }
    unsafe fn add(a: Self, b: Self) -> Self {
        Self::map2(a, b, |x, y| x + y)
    }
    unsafe fn min(a: Self, b: Self) -> Self {
        Self::map2(a, b, f64::min)
    }
    unsafe fn mul(a: Self, b: Self) -> Self {
        Self::map2(a, b, |x, y| x * y)
    }
    unsafe fn div(a: Self, b: Self) -> Self {
        Self::map2(a, b, |x, y| x / y)
    }
    unsafe fn round(a: Self) -> Self {
        Emulated(a.0.map(f64::round_ties_even))
    }
    unsafe fn neg_mul_add(a: Self, b: Self, c: Self) -> Self {
        Emulated(std::array::from_fn(|i| (-a.0[i]).mul_add(b.0[i], c.0[i])))
    }
    unsafe fn is_zero(a: Self) -> [bool; N] {
        a.0.map(|x| x == 0.0)
    }
    unsafe fn or(a: [bool; N], b: [bool; N]) -> [bool; N] {
        std::array::from_fn(|i| a[i] | b[i])
    }
    unsafe fn any(m: [bool; N]) -> bool {
        m.contains(&true)
    }
}
