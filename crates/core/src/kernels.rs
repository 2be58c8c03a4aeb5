//! The seed kernels.

use std::sync::atomic::AtomicBool;

use crate::simd::Path;

/// Whether `n` is prime, by trial division with every `i` in `2..=ceil(sqrt(n))`, as the seed does,
/// on the path [`Path::active`] chose (several divisors per instruction where the CPU allows; the
/// same divisors and the same answer on every path).
///
/// Deliberately not optimised beyond that (no skipping of even divisors): every engine in the
/// benchmark must do the same amount of work.
pub fn is_prime(n: u64) -> bool {
    Path::active().is_prime(n)
}

/// [`is_prime`] that gives up (None) soon after `stop` is set: near 2^64 one call runs for
/// seconds, and terminating a pool must not wait for it.
pub fn is_prime_until(n: u64, stop: &AtomicBool) -> Option<bool> {
    Path::active().is_prime_until(n, stop)
}

/// Sum of the primes below `n`. `u128` because the sum outgrows `u64` long before `n` does;
/// callers decide how to present it (a JS number only when it is exact).
pub fn sum_primes(n: u64) -> u128 {
    Path::active().sum_primes(n)
}

/// [`sum_primes`] that gives up (None) soon after `stop` is set.
pub fn sum_primes_until(n: u64, stop: &AtomicBool) -> Option<u128> {
    Path::active().sum_primes_until(n, stop)
}

/// 2^53: every integer below it is exactly representable as a JS number (an f64).
pub const MAX_EXACT_F64: u128 = 1 << 53;

/// `value` as an f64 when that is exact (below 2^53), so a sum is never silently rounded.
pub fn exact_f64(value: u128) -> Option<f64> {
    (value < MAX_EXACT_F64).then_some(value as f64)
}

/// The kernels a native pool can run, by the name JS uses for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// `isPrime`: trial division of one number.
    IsPrime,
    /// `sumPrimes`: the sum of the primes below a number.
    SumPrimes,
}

impl Kernel {
    /// The kernel JS calls `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Kernel> {
        match name {
            "isPrime" => Some(Kernel::IsPrime),
            "sumPrimes" | "sumPrimesBigInt" => Some(Kernel::SumPrimes),
            _ => None,
        }
    }

    /// Runs the kernel; `isPrime` answers 0 or 1 so that every kernel shares one result type.
    pub fn run(self, n: u64) -> u128 {
        match self {
            Kernel::IsPrime => u128::from(is_prime(n)),
            Kernel::SumPrimes => sum_primes(n),
        }
    }

    /// [`Kernel::run`], giving up (None) soon after `stop` is set.
    pub fn run_until(self, n: u64, stop: &AtomicBool) -> Option<u128> {
        match self {
            Kernel::IsPrime => is_prime_until(n, stop).map(u128::from),
            Kernel::SumPrimes => sum_primes_until(n, stop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_primes_match_a_sieve() {
        let limit = 10_000usize;
        let mut sieve = vec![true; limit];
        sieve[0] = false;
        sieve[1] = false;
        for i in 2..limit {
            if sieve[i] {
                let mut j = i * i;
                while j < limit {
                    sieve[j] = false;
                    j += i;
                }
            }
        }
        for (n, &expected) in sieve.iter().enumerate() {
            assert_eq!(is_prime(n as u64), expected, "is_prime({n})");
        }
    }

    #[test]
    fn squares_of_primes_are_not_prime() {
        // The bound must include ceil(sqrt(n)) itself, or p*p slips through.
        for p in [2u64, 3, 5, 7, 11, 101, 65_521, 1_000_003] {
            assert!(!is_prime(p * p), "{p}^2");
        }
    }

    #[test]
    fn large_values() {
        assert!(is_prime(9_007_199_254_740_881)); // largest prime below 2^53
        assert!(is_prime(2_147_483_647)); // Mersenne prime M31
        assert!(!is_prime(u64::MAX)); // divisible by 3; no overflow in the bound
        assert!(!is_prime(9_007_199_254_740_881 * 2));
    }

    #[test]
    fn known_sums() {
        assert_eq!(sum_primes(0), 0);
        assert_eq!(sum_primes(2), 0);
        assert_eq!(sum_primes(3), 2);
        assert_eq!(sum_primes(10), 17);
        assert_eq!(sum_primes(100_000), 454_396_537);
    }

    #[test]
    fn seed_workload_checksum() {
        let total: u128 = (0..200u64).map(|i| sum_primes(i * 500)).sum();
        assert_eq!(total, 31_007_039_440);
    }

    #[test]
    fn exact_f64_refuses_what_a_js_number_would_round() {
        assert_eq!(exact_f64(454_396_537), Some(454_396_537.0));
        assert_eq!(exact_f64(MAX_EXACT_F64 - 1), Some(9_007_199_254_740_991.0));
        assert_eq!(exact_f64(MAX_EXACT_F64), None);
        assert_eq!(exact_f64(u128::MAX), None);
    }

    #[test]
    fn stoppable_kernels_agree_and_stop() {
        let running = AtomicBool::new(false);
        assert_eq!(sum_primes_until(100_000, &running), Some(454_396_537));
        assert_eq!(is_prime_until(9_007_199_254_740_881, &running), Some(true));
        let stopped = AtomicBool::new(true);
        // Would take hours; returns at once.
        assert_eq!(sum_primes_until(1 << 40, &stopped), None);
        assert_eq!(is_prime_until(18_446_744_073_709_551_557, &stopped), None);
        assert_eq!(Kernel::SumPrimes.run_until(10, &running), Some(17));
    }

    #[test]
    fn kernel_names() {
        assert_eq!(Kernel::from_name("isPrime"), Some(Kernel::IsPrime));
        assert_eq!(Kernel::from_name("sumPrimes"), Some(Kernel::SumPrimes));
        assert_eq!(
            Kernel::from_name("sumPrimesBigInt"),
            Some(Kernel::SumPrimes)
        );
        assert_eq!(Kernel::from_name("nope"), None);
        assert_eq!(Kernel::IsPrime.run(97), 1);
        assert_eq!(Kernel::SumPrimes.run(10), 17);
    }
}
