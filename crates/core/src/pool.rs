//! A rayon thread pool owned by one JS `Pool`.
//!
//! Each JS `Pool({ backend: 'native' })` gets its own [`KernelPool`] rather than sharing rayon's
//! global pool: `processes` must mean what it says, and closing one Pool must not disturb another.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

/// Building the OS threads failed (for instance the process hit its thread limit). Returned, never
/// panicked, so the JS constructor can throw a normal Error.
#[derive(Debug)]
pub struct PoolBuildError(pub String);

impl fmt::Display for PoolBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not start the native thread pool: {}", self.0)
    }
}

impl std::error::Error for PoolBuildError {}

/// The pool was cancelled (terminated) before the work finished.
#[derive(Debug, PartialEq, Eq)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the native pool was terminated before the work finished")
    }
}

impl std::error::Error for Cancelled {}

static POOL_IDS: AtomicUsize = AtomicUsize::new(0);

/// A rayon thread pool owned by one JS `Pool`, with cooperative cancellation.
pub struct KernelPool {
    pool: rayon::ThreadPool,
    threads: usize,
    cancelled: Arc<AtomicBool>,
}

impl KernelPool {
    /// A pool of `threads` threads (at least one).
    pub fn new(threads: usize) -> Result<KernelPool, PoolBuildError> {
        if threads == 0 {
            return Err(PoolBuildError("threads must be at least 1".into()));
        }
        let id = POOL_IDS.fetch_add(1, Ordering::Relaxed);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("napi-mp-{id}-{i}"))
            .build()
            .map_err(|e| PoolBuildError(e.to_string()))?;
        Ok(KernelPool {
            pool,
            threads,
            cancelled: Arc::new(AtomicBool::new(false)),
        })
    }

    /// How many threads the pool runs.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Asks running and future work to stop at the next item boundary. Items already started
    /// finish (a kernel cannot be interrupted), but nothing new starts.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The flag [`KernelPool::cancel`] sets, for kernels that check it while they run.
    pub fn stop_flag(&self) -> &AtomicBool {
        &self.cancelled
    }

    /// Applies `f` to every input on this pool's threads, results in input order.
    ///
    /// Scheduling is dynamic: with `chunksize == 1` every item is its own stealable job, so a
    /// workload whose items grow in cost (the seed's `sum_primes(n)`) still keeps every thread busy
    /// until the end. A larger `chunksize` groups neighbouring items, which only pays off for very
    /// cheap items. `on_done(index, &result)` runs on the worker thread as each item finishes.
    pub fn map<T, R, F, D>(
        &self,
        inputs: &[T],
        chunksize: usize,
        f: F,
        on_done: D,
    ) -> Result<Vec<R>, Cancelled>
    where
        T: Sync,
        R: Send + Default + Clone,
        F: Fn(&T) -> R + Sync,
        D: Fn(usize, &R) + Sync,
    {
        let chunksize = chunksize.max(1);
        let cancelled = &self.cancelled;
        let mut out = vec![R::default(); inputs.len()];
        self.pool.install(|| {
            inputs
                .par_chunks(chunksize)
                .zip(out.par_chunks_mut(chunksize))
                .enumerate()
                .with_max_len(1)
                .try_for_each(|(chunk_index, (ins, outs))| {
                    for (offset, (input, slot)) in ins.iter().zip(outs.iter_mut()).enumerate() {
                        if cancelled.load(Ordering::Relaxed) {
                            return Err(Cancelled);
                        }
                        *slot = f(input);
                        // A kernel that stopped early returned a partial value: never report it.
                        if cancelled.load(Ordering::Relaxed) {
                            return Err(Cancelled);
                        }
                        on_done(chunk_index * chunksize + offset, slot);
                    }
                    Ok(())
                })
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::sum_primes;
    use std::collections::HashSet;
    use std::sync::Mutex;

    #[test]
    fn zero_threads_is_an_error_not_a_panic() {
        assert!(KernelPool::new(0).is_err());
    }

    #[test]
    fn map_keeps_input_order_for_every_chunksize() {
        let pool = KernelPool::new(2).unwrap();
        let xs: Vec<u64> = (0..1000).collect();
        let expected: Vec<u64> = xs.iter().map(|x| x * 3).collect();
        for chunksize in [1, 2, 4, 7, 100, 5000] {
            let got = pool.map(&xs, chunksize, |x| x * 3, |_, _| {}).unwrap();
            assert_eq!(got, expected, "chunksize {chunksize}");
        }
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let pool = KernelPool::new(2).unwrap();
        let got: Vec<u64> = pool.map(&[] as &[u64], 1, |x| *x, |_, _| {}).unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn runs_on_the_pools_own_threads() {
        let pool = KernelPool::new(3).unwrap();
        let names = Mutex::new(HashSet::new());
        let xs: Vec<u64> = (0..200).map(|i| i * 200).collect();
        pool.map(
            &xs,
            1,
            |&n| {
                names
                    .lock()
                    .unwrap()
                    .insert(std::thread::current().name().unwrap_or("").to_string());
                sum_primes(n)
            },
            |_, _| {},
        )
        .unwrap();
        let names = names.into_inner().unwrap();
        assert!(!names.is_empty() && names.len() <= 3, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("napi-mp-")), "{names:?}");
    }

    #[test]
    fn on_done_sees_every_index_once() {
        let pool = KernelPool::new(2).unwrap();
        let xs: Vec<u64> = (0..500).collect();
        let seen = Mutex::new(vec![0u32; xs.len()]);
        pool.map(
            &xs,
            3,
            |x| x + 1,
            |i, r| {
                assert_eq!(*r, i as u64 + 1);
                seen.lock().unwrap()[i] += 1;
            },
        )
        .unwrap();
        assert!(seen.into_inner().unwrap().iter().all(|&c| c == 1));
    }

    #[test]
    fn cancel_stops_new_items() {
        let pool = KernelPool::new(2).unwrap();
        pool.cancel();
        let xs: Vec<u64> = (0..100).collect();
        assert_eq!(pool.map(&xs, 1, |x| *x, |_, _| {}), Err(Cancelled));
    }

    #[test]
    fn a_panicking_item_propagates_to_the_caller() {
        let pool = KernelPool::new(2).unwrap();
        let xs: Vec<u64> = (0..10).collect();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.map(
                &xs,
                1,
                |&x| if x == 7 { panic!("boom") } else { x },
                |_, _| {},
            )
        }));
        assert!(result.is_err());
        // The pool survives a panicking job and keeps working.
        assert_eq!(pool.map(&xs, 1, |x| *x, |_, _| {}).unwrap(), xs);
    }
}
