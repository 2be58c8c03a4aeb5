//! Trial division with a floating-point remainder test, several divisors per instruction.
//!
//! For each divisor `d` the test computes an approximate quotient `q ≈ n / d`, rounds it to the
//! nearest integer `t`, and asks whether the remainder `n - t·d` (one fused multiply-add) is zero.
//!
//! # Why the answer is exact for every `n < 2^52`
//!
//! `n`, `d` and `t` are integers below 2^53, so each is an f64 exactly (the lanes of divisors are
//! built by adding small integers, which stays exact too).
//!
//! *No false divisor, whatever `q` is.* The fused multiply-add computes `n - t·d` exactly and
//! rounds once. When `d` does not divide `n`, no integer `t` gives `t·d = n`, so the exact value
//! is a non-zero integer, at least 1 in magnitude, and rounding it to the nearest f64 cannot give
//! 0. A lane therefore reports `d | n` only when it is true, even with a poor quotient, which is
//! what lets the last block clamp its surplus lanes to `hi` (they re-test `hi`) without a mask.
//!
//! *No missed divisor.* When `d | n`, write `n = q₀·d`; `d ≥ 2` gives `q₀ ≤ n/2 < 2^51`, so
//! `q₀ ≤ 2^51 − 1`. It is enough that `|q − q₀| < 1/2`: then `t = q₀` and the remainder is
//! exactly 0. Two ways of getting `q` are used:
//! - below [`TABLE_LEN`], `q = fl(n · r)` with `r = fl(1/d)` from a table. With `u = 2^-53`
//!   (round to nearest), `r = (1/d)(1 + ε₁)` and `q = q₀(1 + ε₁)(1 + ε₂)`, `|εᵢ| ≤ u`, so
//!   `|q − q₀| ≤ q₀(2u + u²) ≤ (2^51 − 1)(2^-52 + 2^-106) < 1/2`.
//! - beyond the table, `q = fl(n / d)`: IEEE division is correctly rounded and `q₀` is an f64,
//!   so `q = q₀` exactly.
//!
//! At `n ≥ 2^52` the first bound no longer holds (`q₀` may reach 2^52, and the error 1), so those
//! inputs take the seed's integer loop on every path.
//!
//! The divisors are the seed's, `2..=ceil(sqrt(n))` in increasing order: the first few one at a
//! time in scalar code (most composites have a factor there), then blocks of `LANES × UNROLL`,
//! stopping after the first block that holds a divisor.

use std::marker::PhantomData;
use std::sync::atomic::AtomicBool;

use super::lanes::Lanes;
use super::scalar::Scalar;
use super::{divide_in_blocks, Trial};

/// Inputs from here on take the integer loop (see the module documentation).
pub(crate) const F64_EXACT_BELOW: u64 = 1 << 52;

/// Divisors `2..=SMALL` are tried one by one before any vector work: 81% of integers have a
/// factor among them, and a constant divisor compiles to a multiply, cheaper than a vector round
/// trip. Measured on the seed workload (AVX-512, thread CPU time): 148 ms without this prefix,
/// 72–80 ms with 2..=5, 2..=9, 2..=13 or 2..=17, slower again with 2..=31 (the unrolled chain
/// grows).
const SMALL: u64 = 13;

/// Vectors tested between two early-exit checks: independent work to hide the latency of the
/// multiply → round → FMA → compare chain on long ranges (1, 2 and 4 measured the same on the
/// seed workload, whose ranges are short).
const UNROLL: usize = 4;

/// Reciprocals `1/d` for `d < TABLE_LEN` (the seed's divisors are all below 317). Beyond it the
/// quotient comes from a division, slower (the seed workload takes 120 ms instead of 72 with
/// divisions only) but exact on its own. 32 KiB of read-only data, built at compile time.
const TABLE_LEN: usize = 4096;

static RECIPROCALS: [f64; TABLE_LEN] = reciprocals();

const fn reciprocals() -> [f64; TABLE_LEN] {
    let mut table = [0.0; TABLE_LEN];
    let mut d = 1;
    while d < TABLE_LEN {
        // Const evaluation of f64 division is IEEE round-to-nearest, as at run time.
        table[d] = 1.0 / d as f64;
        d += 1;
    }
    table
}

/// Lane `i` of the first vector of divisors is `lo + i`.
static OFFSETS: [f64; 8] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];

/// Whether the lanes of `d` (clamped to `hi`) hold a divisor of `n`, with quotients from `q`.
#[inline(always)]
unsafe fn remainder_is_zero<V: Lanes>(nv: V, d: V, q: V) -> V::Mask {
    V::is_zero(V::neg_mul_add(V::round(q), d, nv))
}

/// Tests the next `UNROLL` vectors of divisors and advances `d` past them. With `RECIPROCAL`, the
/// quotients are `n · r` with `r` read from `table` (the reciprocals of the block's divisors),
/// else `n / d`. (A const parameter rather than a closure: a closure is compiled without the
/// caller's target features, which would leave the intrinsics as calls.)
#[inline(always)]
unsafe fn block<V: Lanes, const RECIPROCAL: bool>(
    nv: V,
    hiv: V,
    d: &mut V,
    table: *const f64,
) -> bool {
    let step = V::splat(V::LANES as f64);
    let mut hit = None;
    for k in 0..UNROLL {
        let dv = V::min(*d, hiv);
        let q = if RECIPROCAL {
            V::mul(nv, V::load(table.add(k * V::LANES)))
        } else {
            V::div(nv, dv)
        };
        let zero = remainder_is_zero(nv, dv, q);
        hit = Some(match hit {
            None => zero,
            Some(m) => V::or(m, zero),
        });
        *d = V::add(*d, step);
    }
    hit.is_some_and(|m| V::any(m))
}

/// Whether some `d` in `lo..=hi` divides `n`.
///
/// # Safety
///
/// The CPU must support `V`'s instructions (see [`Lanes`]). Also `n < 2^52` and `2 <= lo`
/// (`hi < 2^26` follows from `hi <= ceil(sqrt(n))`); the answer is exact only then.
#[inline(always)]
unsafe fn any_divisor<V: Lanes>(n: u64, lo: u64, hi: u64) -> bool {
    debug_assert!(n < F64_EXACT_BELOW && lo >= 2);
    let nv = V::splat(n as f64);
    let hiv = V::splat(hi as f64);
    let mut d = V::add(V::splat(lo as f64), V::load(OFFSETS.as_ptr()));
    // Both fit a usize: hi <= 2^26 on the 64-bit targets this code is built for.
    let (mut next, hi) = (lo as usize, hi as usize);
    let span = V::LANES * UNROLL;
    // SAFETY (the table loads): `next + span <= TABLE_LEN` keeps every load of a block inside
    // the table.
    while next <= hi && next + span <= TABLE_LEN {
        if block::<V, true>(nv, hiv, &mut d, RECIPROCALS.as_ptr().add(next)) {
            return true;
        }
        next += span;
    }
    while next <= hi {
        if block::<V, false>(nv, hiv, &mut d, std::ptr::null()) {
            return true;
        }
        next += span;
    }
    false
}

/// Divisors `2..=SMALL` with constant divisors, stopping past `ceil(sqrt(n))` without computing
/// it: `d <= ceil(sqrt(n))` exactly when `(d - 1)² < n`. `None` when none divides `n` and larger
/// divisors remain to be tried. Needs `n >= 3`.
#[inline(always)]
fn small_divisors(n: u64) -> Option<bool> {
    let mut d = 2;
    while d <= SMALL {
        if n <= (d - 1) * (d - 1) {
            return Some(true);
        }
        if n.is_multiple_of(d) {
            return Some(false);
        }
        d += 1;
    }
    None
}

/// `ceil(sqrt(n))` for `n < 2^52`: the f64 square root is within one of it, then exact fix-ups.
#[inline(always)]
fn ceil_sqrt(n: u64) -> u64 {
    let mut r = (n as f64).sqrt().ceil() as u64;
    while r * r < n {
        r += 1;
    }
    while r > 0 && (r - 1) * (r - 1) >= n {
        r -= 1;
    }
    r
}

/// Trial division with `V`'s lanes.
pub(super) struct Vector<V>(PhantomData<V>);

impl<V: Lanes> Trial for Vector<V> {
    /// Needs `n < 2^52` besides `2 <= lo` (see the module documentation).
    #[inline(always)]
    unsafe fn any_divisor(n: u64, lo: u64, hi: u64) -> bool {
        any_divisor::<V>(n, lo, hi)
    }

    /// The seed's `is_prime`, vectorised: same divisors, same answer.
    #[inline(always)]
    unsafe fn is_prime(n: u64, stop: Option<&AtomicBool>) -> Option<bool> {
        if n >= F64_EXACT_BELOW {
            return Scalar::is_prime(n, stop);
        }
        if n < 3 {
            return Some(n == 2);
        }
        if let Some(answer) = small_divisors(n) {
            return Some(answer);
        }
        divide_in_blocks::<Self>(n, SMALL + 1, ceil_sqrt(n), stop)
    }
}

#[cfg(test)]
pub(super) fn ceil_sqrt_for_tests(n: u64) -> u64 {
    ceil_sqrt(n)
}
