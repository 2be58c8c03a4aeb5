//! Trial division on the widest vector unit the CPU has, chosen at run time.
//!
//! One binary serves every CPU of its architecture: the baseline x86-64 build uses AVX-512 where
//! it exists, AVX2 + FMA where that is the best, and still runs on a CPU without AVX (scalar).
//! Dispatch is `std::arch` with `is_x86_feature_detected!` and `#[target_feature]` functions
//! rather than a crate such as `multiversion` or `pulp`: the kernel needs seven intrinsics, the
//! tests must call every path directly (and an environment variable must force one), which a
//! crate's own hidden dispatch would get in the way of, and it keeps the core free of
//! dependencies beyond rayon. The answer is the same on every path; see [`divide`] for why.

mod divide;
mod lanes;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Set to `avx512`, `avx2`, `neon` or `scalar` to force a path (`auto` or unset: the best one).
/// A path the CPU lacks, or an unknown name, falls back to the best path, with a warning in
/// [`Selection::warning`]: forcing must never crash the process on an illegal instruction.
pub const SIMD_ENV: &str = "NAPI_MULTIPROCESSING_SIMD";

/// The stop flag is read between blocks of this many divisors (reading it per divisor would
/// slow the seed's loop; its inputs never reach one block).
const STOP_BLOCK: u64 = 1 << 20;

/// An instruction set the kernels can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Simd {
    /// x86-64 AVX-512F, 8 divisors per instruction.
    Avx512,
    /// x86-64 AVX2 + FMA, 4 divisors per instruction.
    Avx2,
    /// AArch64 Advanced SIMD, 2 divisors per instruction.
    Neon,
    /// The seed's integer loop, one `n % i` at a time.
    Scalar,
}

impl Simd {
    /// Best first.
    pub const ALL: [Simd; 4] = [Simd::Avx512, Simd::Avx2, Simd::Neon, Simd::Scalar];

    /// The name JS sees (`native.simd`) and [`SIMD_ENV`] takes.
    pub fn name(self) -> &'static str {
        match self {
            Simd::Avx512 => "avx512",
            Simd::Avx2 => "avx2",
            Simd::Neon => "neon",
            Simd::Scalar => "scalar",
        }
    }

    /// The path with this name (as `NAPI_MULTIPROCESSING_SIMD` spells it), if there is one.
    pub fn from_name(name: &str) -> Option<Simd> {
        Simd::ALL.into_iter().find(|s| s.name() == name)
    }

    /// This path, if the running CPU (and OS) support it.
    pub fn path(self) -> Option<Path> {
        let supported = match self {
            Simd::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "aarch64")]
            Simd::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)] // every variant is matched on some targets
            _ => false,
        };
        supported.then_some(Path(self))
    }
}

impl fmt::Display for Simd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A path the running CPU supports: only [`Simd::path`] makes one, which is what makes calling
/// its `#[target_feature]` functions sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path(Simd);

/// Runs `$f` from the module of `$path`'s instruction set, or the scalar one.
macro_rules! dispatch {
    ($path:expr, $f:ident($($arg:expr),*)) => {
        match $path.0 {
            // SAFETY: a Path holding Avx512 exists only when `is_x86_feature_detected!("avx512f")`
            // said yes (Simd::path), so the CPU has every instruction the function is built for.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { avx512::$f($($arg),*) },
            // SAFETY: as above, with AVX2 and FMA detected.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { avx2::$f($($arg),*) },
            // SAFETY: as above, with NEON detected.
            #[cfg(target_arch = "aarch64")]
            Simd::Neon => unsafe { neon::$f($($arg),*) },
            _ => scalar::$f($($arg),*),
        }
    };
}

impl Path {
    /// The instruction set this path runs.
    pub fn simd(self) -> Simd {
        self.0
    }

    /// The widest path this CPU supports.
    pub fn best() -> Path {
        Simd::ALL
            .into_iter()
            .find_map(Simd::path)
            .unwrap_or(Path(Simd::Scalar))
    }

    /// Every path this CPU supports, best first (always ends with scalar).
    pub fn supported() -> Vec<Path> {
        Simd::ALL.into_iter().filter_map(Simd::path).collect()
    }

    /// The path the kernels use: [`SIMD_ENV`] if set and supported, else the best one. Decided
    /// once per process.
    pub fn active() -> Path {
        selection().path
    }

    /// Whether `n` is prime, by trial division with every `i` in `2..=ceil(sqrt(n))`.
    pub fn is_prime(self, n: u64) -> bool {
        self.is_prime_stoppable(n, None).unwrap_or(false)
    }

    /// [`Path::is_prime`] that gives up (None) soon after `stop` is set.
    pub fn is_prime_until(self, n: u64, stop: &AtomicBool) -> Option<bool> {
        self.is_prime_stoppable(n, Some(stop))
    }

    fn is_prime_stoppable(self, n: u64, stop: Option<&AtomicBool>) -> Option<bool> {
        dispatch!(self, is_prime(n, stop))
    }

    /// Sum of the primes below `n`.
    pub fn sum_primes(self, n: u64) -> u128 {
        self.sum_primes_stoppable(n, None).unwrap_or(0)
    }

    /// [`Path::sum_primes`] that gives up (None) soon after `stop` is set.
    pub fn sum_primes_until(self, n: u64, stop: &AtomicBool) -> Option<u128> {
        self.sum_primes_stoppable(n, Some(stop))
    }

    fn sum_primes_stoppable(self, n: u64, stop: Option<&AtomicBool>) -> Option<u128> {
        dispatch!(self, sum_primes(n, stop))
    }

    /// Whether some `d` in `lo..=hi` divides `n`, by this path's vector loop where it applies
    /// (`n < 2^52`, `lo >= 2`); for the tests, which compare paths on chosen ranges.
    #[cfg(test)]
    fn any_divisor(self, n: u64, lo: u64, hi: u64) -> bool {
        dispatch!(self, any_divisor(n, lo, hi))
    }
}

fn stopped(stop: Option<&AtomicBool>) -> bool {
    stop.is_some_and(|s| s.load(Ordering::Relaxed))
}

/// One way of running the seed's trial division: the scalar loop, or a vector width. Generic code
/// takes the way as a type rather than a closure, so that everything inlines into the
/// `#[target_feature]` entry points (a closure is compiled without the target features and would
/// leave the vector intrinsics as out-of-line calls).
trait Trial {
    /// Whether some `d` in `lo..=hi` divides `n` (`2 <= lo`).
    ///
    /// # Safety
    ///
    /// The CPU must support the instructions the implementation uses.
    unsafe fn any_divisor(n: u64, lo: u64, hi: u64) -> bool;

    /// Whether `n` is prime; None if `stop` was set before the answer was known.
    ///
    /// # Safety
    ///
    /// As for [`Trial::any_divisor`].
    unsafe fn is_prime(n: u64, stop: Option<&AtomicBool>) -> Option<bool>;
}

/// Trial division of `n` over `lo..=max` in blocks of [`STOP_BLOCK`] divisors; `stop` is read
/// between blocks.
///
/// # Safety
///
/// As for [`Trial::any_divisor`].
#[inline(always)]
unsafe fn divide_in_blocks<T: Trial>(
    n: u64,
    mut lo: u64,
    max: u64,
    stop: Option<&AtomicBool>,
) -> Option<bool> {
    while lo <= max {
        let hi = max.min(lo + (STOP_BLOCK - 1));
        if T::any_divisor(n, lo, hi) {
            return Some(false);
        }
        lo = hi + 1;
        if lo <= max && stopped(stop) {
            return None;
        }
    }
    Some(true)
}

/// Sum of the primes below `n`; `stop` read every 1024 inputs.
///
/// # Safety
///
/// As for [`Trial::any_divisor`].
#[inline(always)]
unsafe fn sum_primes<T: Trial>(n: u64, stop: Option<&AtomicBool>) -> Option<u128> {
    let mut sum = 0u128;
    for x in 2..n {
        if x & 0x3FF == 0 && stopped(stop) {
            return None;
        }
        if T::is_prime(x, stop)? {
            sum += u128::from(x);
        }
    }
    Some(sum)
}

/// The seed's loop, as written: also the reference every other path is tested against.
mod scalar {
    use super::{divide_in_blocks, AtomicBool, Trial};

    pub(super) struct Scalar;

    /// `ceil(sqrt(n))` in integers, exact for every `u64` (an f64 square root rounds for
    /// n > 2^52 and could skip the last divisor).
    fn ceil_sqrt(n: u64) -> u64 {
        let r = n.isqrt();
        if r * r == n {
            r
        } else {
            r + 1
        }
    }

    impl Trial for Scalar {
        #[allow(clippy::manual_is_multiple_of)] // the seed's `n % i == 0`, kept as written
        #[inline(always)]
        unsafe fn any_divisor(n: u64, lo: u64, hi: u64) -> bool {
            let mut i = lo;
            while i <= hi {
                if n % i == 0 {
                    return true;
                }
                i += 1;
            }
            false
        }

        /// Deliberately not optimised (no skipping of even divisors): every engine in the
        /// benchmark must do the same amount of work.
        #[inline(always)]
        unsafe fn is_prime(n: u64, stop: Option<&AtomicBool>) -> Option<bool> {
            if n < 2 {
                return Some(false);
            }
            if n == 2 {
                return Some(true);
            }
            divide_in_blocks::<Scalar>(n, 2, ceil_sqrt(n), stop)
        }
    }

    // SAFETY (the three blocks below): the scalar loop uses no optional instruction.

    pub(super) fn is_prime(n: u64, stop: Option<&AtomicBool>) -> Option<bool> {
        // SAFETY: see above.
        unsafe { Scalar::is_prime(n, stop) }
    }

    pub(super) fn sum_primes(n: u64, stop: Option<&AtomicBool>) -> Option<u128> {
        // SAFETY: see above.
        unsafe { super::sum_primes::<Scalar>(n, stop) }
    }

    #[cfg(test)]
    pub(super) fn any_divisor(n: u64, lo: u64, hi: u64) -> bool {
        // SAFETY: see above.
        unsafe { Scalar::any_divisor(n, lo, hi) }
    }
}

/// The `#[target_feature]` entry points of one instruction set: the whole of `is_prime` and
/// `sum_primes` is compiled for it, so the vector code inlines into the loops.
macro_rules! simd_entry_points {
    ($module:ident, $lanes:ty, $features:tt) => {
        mod $module {
            use super::divide::Vector;
            use super::{AtomicBool, Trial};

            // SAFETY (every block below): these functions are compiled for $features, the
            // instructions $lanes uses, and (being #[target_feature]) can only be called where
            // the CPU has them.

            #[target_feature(enable = $features)]
            pub(super) fn is_prime(n: u64, stop: Option<&AtomicBool>) -> Option<bool> {
                // SAFETY: see above.
                unsafe { Vector::<$lanes>::is_prime(n, stop) }
            }

            #[target_feature(enable = $features)]
            pub(super) fn sum_primes(n: u64, stop: Option<&AtomicBool>) -> Option<u128> {
                // SAFETY: see above.
                unsafe { super::sum_primes::<Vector<$lanes>>(n, stop) }
            }

            #[cfg(test)]
            #[target_feature(enable = $features)]
            pub(super) fn any_divisor(n: u64, lo: u64, hi: u64) -> bool {
                if n >= super::divide::F64_EXACT_BELOW || lo < 2 {
                    return super::scalar::any_divisor(n, lo, hi);
                }
                // SAFETY: see above; the range preconditions were checked just now.
                unsafe { Vector::<$lanes>::any_divisor(n, lo, hi) }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
simd_entry_points!(avx512, crate::simd::lanes::Avx512, "avx512f");
#[cfg(target_arch = "x86_64")]
simd_entry_points!(avx2, crate::simd::lanes::Avx2, "avx2,fma");
#[cfg(target_arch = "aarch64")]
simd_entry_points!(neon, crate::simd::lanes::Neon, "neon");

/// The path in use and how it was chosen.
#[derive(Clone, Debug)]
pub struct Selection {
    /// The path the kernels use.
    pub path: Path,
    /// Why [`SIMD_ENV`] was not followed, when it was set and could not be.
    pub warning: Option<String>,
}

/// Chooses the path for a value of [`SIMD_ENV`] (None: unset).
pub fn select(requested: Option<&str>) -> Selection {
    let best = Path::best();
    let wanted = requested.map(|r| r.trim().to_ascii_lowercase());
    let warning = match wanted.as_deref() {
        None | Some("") | Some("auto") => None,
        Some(name) => match Simd::from_name(name) {
            Some(simd) => match simd.path() {
                Some(path) => {
                    return Selection {
                        path,
                        warning: None,
                    }
                }
                None => Some(format!(
                    "{SIMD_ENV}={name}: this CPU does not support {name}; using {}",
                    best.0
                )),
            },
            None => Some(format!(
                "{SIMD_ENV}={name} is not one of auto, avx512, avx2, neon, scalar; using {}",
                best.0
            )),
        },
    };
    Selection {
        path: best,
        warning,
    }
}

/// [`select`] applied to the environment, once per process.
pub fn selection() -> &'static Selection {
    static SELECTION: OnceLock<Selection> = OnceLock::new();
    SELECTION.get_or_init(|| select(std::env::var(SIMD_ENV).ok().as_deref()))
}
