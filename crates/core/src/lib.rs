//! Pure-Rust core of `napi-multiprocessing`.
//!
//! Two rooms, no Node.js dependency so that `cargo test` covers them on their own:
//! - [`kernels`]: the seed benchmark's CPU-bound functions, written exactly as the classic
//!   Python tutorial writes them (trial division by every `i` in `2..=ceil(sqrt(n))`), because the
//!   point of the benchmark is to compare engines running the *same* algorithm.
//! - [`simd`]: how those kernels run: the same divisors several per instruction (AVX-512, AVX2,
//!   NEON) on the widest unit the CPU has, chosen at run time, or the seed's scalar loop.
//! - [`pool`]: a rayon thread pool owned by one JS `Pool`, with dynamic scheduling, cooperative
//!   cancellation and a per-item completion hook (used for live progress).
//! - [`shared`]: kernels writing results (and a progress count) into memory shared with JS, through
//!   atomics, while they run.
//! - [`shm`] (Linux): segments shared between processes (memfd), and futexes that wake across them.

#![deny(missing_docs)]

pub mod kernels;
pub mod pool;
pub mod shared;
#[cfg(target_os = "linux")]
pub mod shm;
pub mod simd;

pub use kernels::{exact_f64, is_prime, is_prime_until, sum_primes, sum_primes_until, Kernel};
pub use pool::{Cancelled, KernelPool, PoolBuildError};
pub use shared::{sum_primes_into, Counter, IntoError, OutSlots};
pub use simd::{selection, Path, Selection, Simd, SIMD_ENV};
