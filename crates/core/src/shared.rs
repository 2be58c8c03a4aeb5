//! Kernels that write into memory shared with JavaScript while they run.
//!
//! The memory is a SharedArrayBuffer that JS threads may read (and write) at any moment, so every
//! access from Rust goes through atomics: no torn values, no data race in Rust's model, and the
//! JS side sees each result as soon as it is stored. The binding turns JS typed arrays into the
//! slices of atomics below; this module knows nothing about Node.

use std::fmt;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::kernels::{exact_f64, sum_primes};
use crate::pool::{Cancelled, KernelPool};

/// Where results go: one 64-bit slot per input, holding the bits of the given element type.
#[derive(Clone, Copy)]
pub enum OutSlots<'a> {
    /// `Float64Array` slots.
    F64(&'a [AtomicU64]),
    /// `BigUint64Array` slots.
    U64(&'a [AtomicU64]),
    /// `BigInt64Array` slots.
    I64(&'a [AtomicU64]),
}

impl OutSlots<'_> {
    /// How many slots there are.
    pub fn len(&self) -> usize {
        match self {
            OutSlots::F64(s) | OutSlots::U64(s) | OutSlots::I64(s) => s.len(),
        }
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores `value` at `index`; `false` when the element type cannot hold it exactly.
    fn store(&self, index: usize, value: u128) -> bool {
        let (slots, bits) = match *self {
            OutSlots::F64(s) => match exact_f64(value) {
                Some(f) => (s, f.to_bits()),
                None => return false,
            },
            OutSlots::U64(s) => match u64::try_from(value) {
                Ok(v) => (s, v),
                Err(_) => return false,
            },
            OutSlots::I64(s) => match i64::try_from(value) {
                Ok(v) => (s, v as u64),
                Err(_) => return false,
            },
        };
        slots[index].store(bits, Ordering::Release);
        true
    }
}

/// A shared counter of finished inputs (a JS `Value` of an integer typecode). Wrapping adds, as
/// the JS side's `Atomics.add` does; signedness does not change the bits of an add.
#[derive(Clone, Copy)]
pub enum Counter<'a> {
    /// An 8-bit counter.
    U8(&'a AtomicU8),
    /// A 16-bit counter.
    U16(&'a AtomicU16),
    /// A 32-bit counter.
    U32(&'a AtomicU32),
    /// A 64-bit counter.
    U64(&'a AtomicU64),
}

impl Counter<'_> {
    fn bump(&self) {
        match self {
            Counter::U8(a) => {
                a.fetch_add(1, Ordering::SeqCst);
            }
            Counter::U16(a) => {
                a.fetch_add(1, Ordering::SeqCst);
            }
            Counter::U32(a) => {
                a.fetch_add(1, Ordering::SeqCst);
            }
            Counter::U64(a) => {
                a.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Why a `sum_primes_into` call failed.
#[derive(Debug, PartialEq, Eq)]
pub enum IntoError {
    /// `out` does not have one slot per input.
    LengthMismatch {
        /// How many inputs there are.
        inputs: usize,
        /// How many output slots there are.
        out: usize,
    },
    /// The result for `inputs[index]` does not fit the output element type exactly.
    NotRepresentable {
        /// Which input.
        index: usize,
        /// The exact result.
        value: u128,
    },
    /// The pool was cancelled before every input finished.
    Cancelled,
}

impl fmt::Display for IntoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntoError::LengthMismatch { inputs, out } => write!(
                f,
                "out has {out} elements but there are {inputs} inputs; they must match"
            ),
            IntoError::NotRepresentable { index, value } => write!(
                f,
                "the sum for inputs[{index}] is {value}, which the output element type cannot hold exactly"
            ),
            IntoError::Cancelled => Cancelled.fmt(f),
        }
    }
}

impl std::error::Error for IntoError {}

/// `out[i] = sum_primes(inputs[i])` on the pool's threads, each result stored as soon as it is
/// computed, then `progress` (if any) bumped once per finished input. Every input is computed
/// even when one result does not fit; the first such input is reported at the end.
pub fn sum_primes_into(
    pool: &KernelPool,
    inputs: &[u64],
    out: OutSlots<'_>,
    progress: Option<Counter<'_>>,
) -> Result<(), IntoError> {
    if out.len() != inputs.len() {
        return Err(IntoError::LengthMismatch {
            inputs: inputs.len(),
            out: out.len(),
        });
    }
    let first_bad = AtomicUsize::new(usize::MAX);
    let bad_value = Mutex::new(0u128);
    pool.map(
        inputs,
        1,
        |&n| sum_primes(n),
        |index, &sum| {
            if !out.store(index, sum) && first_bad.fetch_min(index, Ordering::SeqCst) > index {
                *bad_value.lock().unwrap_or_else(|e| e.into_inner()) = sum;
            }
            if let Some(counter) = progress {
                counter.bump();
            }
        },
    )
    .map_err(|_| IntoError::Cancelled)?;
    match first_bad.into_inner() {
        usize::MAX => Ok(()),
        index => Err(IntoError::NotRepresentable {
            index,
            value: bad_value.into_inner().unwrap_or_else(|e| e.into_inner()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    fn slots(n: usize) -> Vec<AtomicU64> {
        (0..n).map(|_| AtomicU64::new(0)).collect()
    }

    /// `sum_primes_into` on a fresh pool of 2 threads, expected to succeed.
    fn run(inputs: &[u64], out: OutSlots<'_>, progress: Option<Counter<'_>>) {
        let pool = KernelPool::new(2).unwrap();
        sum_primes_into(&pool, inputs, out, progress).unwrap();
    }

    #[test]
    fn writes_every_result_and_counts_progress() {
        let inputs: Vec<u64> = (0..200).map(|i| i * 500).collect();
        let out = slots(inputs.len());
        let progress = AtomicU64::new(7);
        run(&inputs, OutSlots::F64(&out), Some(Counter::U64(&progress)));
        let total: f64 = out
            .iter()
            .map(|s| f64::from_bits(s.load(Ordering::SeqCst)))
            .sum();
        assert_eq!(total, 31_007_039_440.0);
        assert_eq!(progress.load(Ordering::SeqCst), 7 + 200);
        for (i, &n) in inputs.iter().enumerate() {
            assert_eq!(
                f64::from_bits(out[i].load(Ordering::SeqCst)),
                sum_primes(n) as f64
            );
        }
    }

    #[test]
    fn integer_slots_and_small_counters() {
        let inputs = [10u64, 100, 1000];
        let out = slots(3);
        let progress = AtomicU8::new(254);
        run(&inputs, OutSlots::U64(&out), Some(Counter::U8(&progress)));
        let got: Vec<u64> = out.iter().map(|s| s.load(Ordering::SeqCst)).collect();
        assert_eq!(got, vec![17, 1060, 76127]);
        // Wraps like a JS Uint8Array element.
        assert_eq!(progress.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn length_mismatch_is_an_error_before_any_work() {
        let pool = KernelPool::new(1).unwrap();
        let out = slots(2);
        assert_eq!(
            sum_primes_into(&pool, &[1, 2, 3], OutSlots::I64(&out), None),
            Err(IntoError::LengthMismatch { inputs: 3, out: 2 })
        );
    }

    #[test]
    fn progress_is_visible_while_the_work_runs() {
        // Another thread watches the counter: it must see a value strictly between 0 and the total.
        let inputs: Vec<u64> = (0..400).map(|i| 20_000 + i * 250).collect();
        let out = slots(inputs.len());
        let progress = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (progress, done) = (progress.clone(), done.clone());
            std::thread::spawn(move || {
                let mut seen_between = false;
                while !done.load(Ordering::SeqCst) {
                    let p = progress.load(Ordering::SeqCst);
                    seen_between |= p > 0 && p < 400;
                }
                seen_between
            })
        };
        run(&inputs, OutSlots::U64(&out), Some(Counter::U64(&progress)));
        done.store(true, Ordering::SeqCst);
        assert!(watcher.join().unwrap());
        assert_eq!(progress.load(Ordering::SeqCst), 400);
    }

    #[test]
    fn a_result_too_large_for_the_slot_is_reported_with_its_index() {
        // Unrepresentable results only occur for astronomically large inputs, so exercise the
        // conversion itself: u64::MAX + 1 fits neither u64 nor i64 nor exactly f64.
        let out = slots(1);
        let too_big = u64::MAX as u128 + 1;
        assert!(!OutSlots::U64(&out).store(0, too_big));
        assert!(!OutSlots::I64(&out).store(0, i64::MAX as u128 + 1));
        assert!(!OutSlots::F64(&out).store(0, 1u128 << 53));
        assert!(OutSlots::F64(&out).store(0, (1u128 << 53) - 1));
        assert_eq!(
            f64::from_bits(out[0].load(Ordering::SeqCst)),
            9_007_199_254_740_991.0
        );
    }
}
