//! Every path this CPU supports against the seed's scalar loop (`cargo test --release`: the
//! exhaustive parts take a few seconds there, much longer in a debug build).
//!
//! The vector algorithm is also run on [`Emulated`] lanes (2 and 4 wide), so its NEON shape is
//! exercised on machines without NEON.

use std::sync::atomic::AtomicBool;

use rayon::prelude::*;

use super::divide::{ceil_sqrt_for_tests, Vector, F64_EXACT_BELOW};
use super::lanes::Emulated;
use super::{scalar, select, Path, Simd, Trial, SIMD_ENV};

/// The paths to check: every supported one except the reference itself.
fn vector_paths() -> Vec<Path> {
    Path::supported()
        .into_iter()
        .filter(|p| p.simd() != Simd::Scalar)
        .collect()
}

/// Asserts that every vector path answers `expected` for `what` (`answer` runs one path).
fn assert_paths(expected: bool, what: impl std::fmt::Display, answer: impl Fn(Path) -> bool) {
    for path in vector_paths() {
        assert_eq!(answer(path), expected, "{}: {what}", path.simd());
    }
}

fn reference(n: u64) -> bool {
    scalar::is_prime(n, None).unwrap()
}

fn emulated_is_prime<const N: usize>(n: u64) -> bool {
    // SAFETY: emulated lanes are plain Rust; they need no instruction beyond the baseline.
    unsafe { Vector::<Emulated<N>>::is_prime(n, None).unwrap() }
}

fn emulated_any_divisor<const N: usize>(n: u64, lo: u64, hi: u64) -> bool {
    // SAFETY: as above; callers keep n < 2^52 and lo >= 2.
    unsafe { Vector::<Emulated<N>>::any_divisor(n, lo, hi) }
}

/// splitmix64: a fixed, reproducible stream without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// Deterministic Miller–Rabin (these bases decide every n < 3.3·10^24): an independent oracle
/// for inputs whose scalar loop would run for seconds. Checked against the loop below 2·10^6.
fn miller_rabin(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    if let Some(&p) = BASES.iter().find(|&&p| n.is_multiple_of(p)) {
        return n == p;
    }
    let mul = |a: u64, b: u64| ((a as u128 * b as u128) % n as u128) as u64;
    let pow = |mut base: u64, mut exp: u64| {
        let mut acc = 1;
        while exp > 0 {
            if exp & 1 == 1 {
                acc = mul(acc, base);
            }
            base = mul(base, base);
            exp >>= 1;
        }
        acc
    };
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    BASES.iter().all(|&a| {
        let mut x = pow(a, d);
        if x == 1 || x == n - 1 {
            return true;
        }
        (1..s).any(|_| {
            x = mul(x, x);
            x == n - 1
        })
    })
}

fn primes_near(center: u64, below: usize, above: usize) -> Vec<u64> {
    let mut out: Vec<u64> = (2..center)
        .rev()
        .filter(|&p| miller_rabin(p))
        .take(below)
        .collect();
    out.extend((center..).filter(|&p| miller_rabin(p)).take(above));
    out
}

#[test]
fn every_path_agrees_with_the_scalar_loop_below_two_million() {
    const LIMIT: u64 = 2_000_000;
    let expected: Vec<bool> = (0..LIMIT).into_par_iter().map(reference).collect();
    assert_eq!(expected.iter().filter(|&&p| p).count(), 148_933); // π(2·10^6)
    for path in vector_paths() {
        let got: Vec<bool> = (0..LIMIT)
            .into_par_iter()
            .map(|n| path.is_prime(n))
            .collect();
        if let Some(n) = (0..LIMIT as usize).find(|&n| got[n] != expected[n]) {
            panic!("{}: is_prime({n}) = {}", path.simd(), got[n]);
        }
    }
    for (n, &prime) in expected.iter().enumerate().step_by(7) {
        let n = n as u64;
        assert_eq!(miller_rabin(n), prime, "miller_rabin({n})");
        assert_eq!(emulated_is_prime::<2>(n), prime, "emulated x2: {n}");
        assert_eq!(emulated_is_prime::<4>(n), prime, "emulated x4: {n}");
    }
}

#[test]
fn sums_agree_on_every_path() {
    let inputs = [0, 1, 2, 3, 10, 99_500, 100_000, 1_000_003];
    let expected: Vec<u128> = inputs
        .iter()
        .map(|&n| scalar::sum_primes(n, None).unwrap())
        .collect();
    assert_eq!(expected[..5], [0, 0, 0, 2, 17]);
    assert_eq!(expected[6], 454_396_537);
    for path in Path::supported() {
        for (&n, &sum) in inputs.iter().zip(&expected) {
            assert_eq!(path.sum_primes(n), sum, "{}: sum_primes({n})", path.simd());
        }
        let seed: u128 = (0..200).map(|i| path.sum_primes(i * 500)).sum();
        assert_eq!(seed, 31_007_039_440, "{}", path.simd());
    }
}

/// Any `lo..=hi` (every alignment and tail length, both sides of the reciprocal table's end):
/// the vector loop finds a divisor exactly when the scalar loop does.
#[test]
fn any_divisor_on_random_ranges() {
    let mut rng = Rng(0x5EED_0001);
    for round in 0..200_000 {
        // Alternate small n (many divisors hit) with large ones (few do).
        let n = if round % 2 == 0 {
            rng.below(1 << 20)
        } else {
            rng.below(F64_EXACT_BELOW)
        };
        let lo = 2 + if round % 3 == 0 {
            3_900 + rng.below(400)
        } else {
            rng.below(300)
        };
        let hi = lo + rng.below(100);
        let expected = scalar::any_divisor(n, lo, hi);
        assert_paths(expected, format!("{n} {lo}..={hi}"), |p| {
            p.any_divisor(n, lo, hi)
        });
        assert_eq!(
            emulated_any_divisor::<2>(n, lo, hi),
            expected,
            "x2 {n} {lo}..={hi}"
        );
        assert_eq!(
            emulated_any_divisor::<4>(n, lo, hi),
            expected,
            "x4 {n} {lo}..={hi}"
        );
    }
}

/// Uniform samples: most have a small factor (every path must find it, as the loop does); for
/// the others the loop would run for seconds, so the paths are compared with it on the first and
/// last divisors, and their full answer with Miller–Rabin where the vector loop is quick.
fn random_samples(seed: u64, bound: Option<u64>, count: usize) {
    const WINDOW: u64 = 1 << 14;
    let mut rng = Rng(seed);
    let mut full_checks = 0;
    for _ in 0..count {
        let n = match bound {
            Some(b) => rng.below(b),
            None => rng.next(),
        };
        let max = n.isqrt() + 1;
        if n < 4 || scalar::any_divisor(n, 2, WINDOW.min(max)) {
            let expected = reference(n);
            assert_paths(expected, format!("is_prime({n})"), |p| p.is_prime(n));
            continue;
        }
        let top = max.saturating_sub(WINDOW).max(2);
        let expected = scalar::any_divisor(n, top, max);
        assert_paths(expected, format!("{n} top"), |p| p.any_divisor(n, top, max));
        let bottom = WINDOW.min(max);
        assert_paths(false, format!("{n} bottom"), |p| {
            p.any_divisor(n, 2, bottom)
        });
        if n < F64_EXACT_BELOW && full_checks < 10 {
            full_checks += 1;
            assert_paths(miller_rabin(n), format!("is_prime({n})"), |p| p.is_prime(n));
        }
    }
}

#[test]
fn random_samples_below_2_pow_53() {
    random_samples(0x5EED_0053, Some(1 << 53), 20_000);
}

#[test]
fn random_samples_up_to_u64_max() {
    random_samples(0x5EED_0064, None, 20_000);
}

/// `p²` (whose only divisor in range is the last one), `p² ± 1` and `p·q` for primes `p < q`
/// on both sides of `sqrt(target)`; in parallel, since near 2^53 each takes the scalar loop
/// some 10^8 divisions.
fn squares_and_products(target_sqrt: u64, each_side: usize) {
    let primes = primes_near(target_sqrt, each_side, each_side + 1);
    let mut inputs = Vec::new();
    for pair in primes.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        inputs.extend([p * p - 1, p * p, p * p + 1, p * q]);
    }
    inputs.par_iter().for_each(|&n| {
        let expected = reference(n);
        assert_paths(expected, format!("is_prime({n})"), |p| p.is_prime(n));
        assert_eq!(expected, miller_rabin(n), "{n}");
    });
}

#[test]
fn squares_and_products_of_primes_near_2_pow_26_and_2_pow_32() {
    squares_and_products(1 << 13, 40);
    squares_and_products(1 << 16, 40);
}

#[test]
fn squares_and_products_of_primes_near_2_pow_52() {
    squares_and_products(1 << 26, 2);
}

#[test]
fn squares_and_products_of_primes_near_2_pow_53() {
    squares_and_products(94_906_266, 1); // ⌊sqrt(2^53)⌋
}

/// Where the reciprocal table ends (4096) and where the first stop block ends (2^20 divisors).
#[test]
fn squares_of_primes_at_internal_boundaries() {
    let mut primes = primes_near(4096, 30, 30);
    primes.extend(primes_near((1 << 20) + 14, 4, 4));
    primes.par_iter().for_each(|&p| {
        for n in [p * p, p * (p + 2), p * p + 2] {
            let expected = reference(n);
            assert_paths(expected, format!("is_prime({n})"), |p| p.is_prime(n));
            assert_eq!(emulated_is_prime::<2>(n), expected, "x2: {n}");
        }
    });
}

#[test]
fn float_ceil_sqrt_is_exact() {
    let mut rng = Rng(0x5EED_5C27);
    let roots = (1..5_000).chain((0..5_000).map(|_| 2 + rng.below(1 << 26)));
    for k in roots.chain([(1 << 26) - 1]) {
        for n in [k * k - 1, k * k, k * k + 1] {
            if n < F64_EXACT_BELOW {
                let r = n.isqrt();
                let expected = if r * r == n { r } else { r + 1 };
                assert_eq!(ceil_sqrt_for_tests(n), expected, "ceil_sqrt({n})");
            }
        }
    }
}

#[test]
fn every_path_stops_when_asked() {
    let stop = AtomicBool::new(true);
    let running = AtomicBool::new(false);
    let big_prime = 4_503_599_627_370_449; // ceil(sqrt) ≈ 2^26: 64 stop blocks
    for path in Path::supported() {
        assert_eq!(
            path.is_prime_until(big_prime, &stop),
            None,
            "{}",
            path.simd()
        );
        assert_eq!(
            path.is_prime_until(big_prime, &running),
            Some(true),
            "{}",
            path.simd()
        );
        assert_eq!(
            path.sum_primes_until(1 << 40, &stop),
            None,
            "{}",
            path.simd()
        );
        assert_eq!(
            path.sum_primes_until(100, &running),
            Some(1060),
            "{}",
            path.simd()
        );
    }
}

#[test]
fn the_environment_variable_picks_a_supported_path_or_warns() {
    let best = Path::best();
    assert_eq!(Path::supported().first(), Some(&best));
    assert_eq!(
        Path::supported().last().map(|p| p.simd()),
        Some(Simd::Scalar)
    );
    for unset in [None, Some(""), Some("auto"), Some(" AUTO ")] {
        let chosen = select(unset);
        assert_eq!((chosen.path, chosen.warning), (best, None), "{unset:?}");
    }
    for simd in Simd::ALL {
        let chosen = select(Some(&simd.name().to_ascii_uppercase()));
        match simd.path() {
            Some(path) => assert_eq!((chosen.path, chosen.warning), (path, None)),
            None => {
                assert_eq!(chosen.path, best);
                let warning = chosen.warning.expect("a warning");
                assert!(
                    warning.contains(SIMD_ENV) && warning.contains(simd.name()),
                    "{warning}"
                );
            }
        }
    }
    let chosen = select(Some("sse9"));
    assert_eq!(chosen.path, best);
    assert!(chosen
        .warning
        .unwrap()
        .contains("is not one of auto, avx512, avx2, neon, scalar"));
    for simd in Simd::ALL {
        assert_eq!(Simd::from_name(simd.name()), Some(simd));
    }
}
