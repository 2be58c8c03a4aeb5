//! napi-rs binding: a thin layer that converts JS values, moves long work off the JS thread and
//! turns failures (including panics) into JS errors. All logic lives in `multiprocessing-core`.
//!
//! Argument checks that produce the user-facing TypeError/RangeError messages live in the
//! TypeScript wrapper (`src/native.ts`), so the native and pure-TS kernels fail identically. The
//! checks here are a second line of defence: an invalid value reaching Rust is reported with the
//! `InvalidArg` status, which the wrapper turns into a RangeError.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use multiprocessing_core::{
    exact_f64, is_prime as core_is_prime, selection, sum_primes as core_sum_primes,
    sum_primes_into as core_sum_primes_into, Counter, IntoError, Kernel, KernelPool, OutSlots,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

// `pub`: napi registers the module's exports only outside `cfg(test)`, so in the unit-test build
// a private module's exported functions would count as dead code.
#[cfg(target_os = "linux")]
pub mod shm;

/// 2^53: the largest integer a JS number holds exactly (plus one).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

fn u64_from_number(n: f64, name: &str) -> Result<u64> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n < MAX_EXACT {
        Ok(n as u64)
    } else {
        Err(invalid(format!(
            "The \"{name}\" argument must be an integer in 0..2^53. Received {n}"
        )))
    }
}

fn u64_from_bigint(n: &BigInt, name: &str) -> Result<u64> {
    let (negative, value, lossless) = n.get_u64();
    if negative || !lossless {
        return Err(invalid(format!(
            "The \"{name}\" argument must be a bigint in 0n..2n**64n"
        )));
    }
    Ok(value)
}

fn exact_number(sum: u128) -> Result<f64> {
    exact_f64(sum).ok_or_else(|| {
        invalid(format!(
            "The result {sum} is beyond 2^53 and cannot be represented exactly as a number; use sumPrimesBigInt"
        ))
    })
}

fn to_bigint(v: u128) -> BigInt {
    BigInt {
        sign_bit: false,
        words: vec![v as u64, (v >> 64) as u64],
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f`, turning a panic into an `Error` (status `GenericFailure`) so it reaches JS as an
/// exception or a rejected Promise instead of aborting the process.
fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Error::new(
            Status::GenericFailure,
            format!(
                "Rust panic in napi-multiprocessing: {}",
                panic_message(payload)
            ),
        )),
    }
}

#[napi(catch_unwind)]
pub fn is_prime(n: f64) -> Result<bool> {
    Ok(core_is_prime(u64_from_number(n, "n")?))
}

#[napi(catch_unwind)]
pub fn is_prime_big(n: BigInt) -> Result<bool> {
    Ok(core_is_prime(u64_from_bigint(&n, "n")?))
}

#[napi(catch_unwind)]
pub fn sum_primes(n: f64) -> Result<f64> {
    exact_number(core_sum_primes(u64_from_number(n, "n")?))
}

#[napi(catch_unwind)]
pub fn sum_primes_big(n: BigInt) -> Result<BigInt> {
    Ok(to_bigint(core_sum_primes(u64_from_bigint(&n, "n")?)))
}

/// The instruction set the kernels run on, chosen once per process.
#[napi(object)]
pub struct SimdInfo {
    /// `avx512`, `avx2`, `neon` or `scalar`.
    pub path: String,
    /// Why `NAPI_MULTIPROCESSING_SIMD` could not be followed, when it was set and could not be.
    pub warning: Option<String>,
}

#[napi]
pub fn simd_info() -> SimdInfo {
    let chosen = selection();
    SimdInfo {
        path: chosen.path.simd().name().to_string(),
        warning: chosen.warning.clone(),
    }
}

/// Test hook: panics inside Rust so the test suite can prove a panic surfaces as a JS Error (sync)
/// or a rejected Promise (async, from a rayon thread). Not part of the public `native` API.
#[napi(catch_unwind)]
pub fn debug_panic(message: String) -> Result<()> {
    panic!("{message}")
}

/// How a native map presents its results to JS.
#[derive(Clone, Copy)]
enum Output {
    Boolean,
    Number,
    BigInt,
}

pub struct MapTask {
    pool: Arc<KernelPool>,
    kernel: Option<Kernel>,
    output: Output,
    inputs: Vec<u64>,
    chunksize: usize,
}

impl Task for MapTask {
    type Output = Vec<u128>;
    type JsValue = Either3<Vec<bool>, Vec<f64>, Vec<BigInt>>;

    fn compute(&mut self) -> Result<Self::Output> {
        let pool = self.pool.clone();
        let inputs = std::mem::take(&mut self.inputs);
        let kernel = self.kernel;
        let chunksize = self.chunksize;
        guard(move || {
            let stop = pool.stop_flag();
            pool.map(
                &inputs,
                chunksize,
                // A stopped kernel's partial value is discarded by `map` (it reports Cancelled).
                |&n| match kernel {
                    Some(k) => k.run_until(n, stop).unwrap_or(0),
                    None => panic!("debugPanic kernel"),
                },
                |_, _| {},
            )
            .map_err(|c| Error::new(Status::Cancelled, c.to_string()))
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(match self.output {
            Output::Boolean => Either3::A(output.into_iter().map(|v| v != 0).collect()),
            Output::Number => Either3::B(
                output
                    .into_iter()
                    .map(exact_number)
                    .collect::<Result<Vec<f64>>>()?,
            ),
            Output::BigInt => Either3::C(output.into_iter().map(to_bigint).collect()),
        })
    }
}

/// A rayon thread pool owned by one JS `Pool({ backend: 'native' })`.
#[napi]
pub struct NativePool {
    // A Mutex rather than `&mut self` methods: napi-rs refuses a mutable borrow of a class
    // instance while another call holds it, and shutdown may come at any time.
    inner: Mutex<Option<Arc<KernelPool>>>,
}

#[napi]
impl NativePool {
    #[napi(constructor)]
    pub fn new(threads: u32) -> Result<NativePool> {
        let pool = KernelPool::new(threads as usize)
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
        Ok(NativePool {
            inner: Mutex::new(Some(Arc::new(pool))),
        })
    }

    #[napi(getter)]
    pub fn threads(&self) -> u32 {
        self.slot().as_ref().map_or(0, |p| p.threads() as u32)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<KernelPool>>> {
        // A poisoned lock only means a panic happened while it was held; the Option is still valid.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live(&self) -> Result<Arc<KernelPool>> {
        self.slot()
            .clone()
            .ok_or_else(|| Error::new(Status::Cancelled, "the native pool is shut down"))
    }

    fn task(
        &self,
        kernel: &str,
        inputs: Vec<u64>,
        chunksize: Option<u32>,
    ) -> Result<AsyncTask<MapTask>> {
        let (kernel, output) = match kernel {
            "isPrime" => (Some(Kernel::IsPrime), Output::Boolean),
            "sumPrimes" => (Some(Kernel::SumPrimes), Output::Number),
            "sumPrimesBigInt" => (Some(Kernel::SumPrimes), Output::BigInt),
            "debugPanic" => (None, Output::Number),
            other => return Err(invalid(format!("unknown native kernel \"{other}\""))),
        };
        Ok(AsyncTask::new(MapTask {
            pool: self.live()?,
            kernel,
            output,
            inputs,
            chunksize: chunksize.unwrap_or(1).max(1) as usize,
        }))
    }

    /// Maps a kernel over numbers (already checked by the TS layer) on the pool's threads.
    #[napi(ts_return_type = "Promise<Array<boolean> | Array<number> | Array<bigint>>")]
    pub fn map_numbers(
        &self,
        kernel: String,
        inputs: Vec<f64>,
        chunksize: Option<u32>,
    ) -> Result<AsyncTask<MapTask>> {
        let inputs = inputs
            .into_iter()
            .map(|n| u64_from_number(n, "iterable"))
            .collect::<Result<Vec<u64>>>()?;
        self.task(&kernel, inputs, chunksize)
    }

    // The same shape as map_numbers on purpose: an export cannot be generic, and JS numbers and
    // bigints arrive as different Rust types (one export taking an Either<Vec<f64>, Vec<BigInt>>
    // would rest on napi-rs trying one conversion after the other).
    /// Same as `mapNumbers` for bigint inputs (values up to 2^64 - 1).
    #[napi(ts_return_type = "Promise<Array<boolean> | Array<number> | Array<bigint>>")]
    pub fn map_bigints(
        &self,
        kernel: String,
        inputs: Vec<BigInt>,
        chunksize: Option<u32>,
    ) -> Result<AsyncTask<MapTask>> {
        let inputs = inputs
            .iter()
            .map(|n| u64_from_bigint(n, "iterable"))
            .collect::<Result<Vec<u64>>>()?;
        self.task(&kernel, inputs, chunksize)
    }

    /// Stops new items from starting and lets the threads go once running items finish.
    #[napi]
    pub fn shutdown(&self) {
        if let Some(pool) = self.slot().take() {
            pool.cancel();
        }
    }
}

// --- kernels writing into shared memory -------------------------------------------------------

/// `sumPrimesInto`: results (and a progress count) written into SharedArrayBuffer memory from
/// rayon threads while JS reads it. The TS wrapper (`src/native_shared.ts`) validates the
/// arguments and passes byte views; the checks here guard memory safety.
pub struct SumIntoTask {
    inputs: Vec<u64>,
    // Owned napi references: the views, hence their SharedArrayBuffers, stay alive until the task
    // is dropped, after the Promise settles, whatever JS does with its own references meanwhile.
    out: Uint8Array,
    out_kind: OutKind,
    progress: Option<Uint8Array>,
    threads: usize,
}

#[derive(Clone, Copy)]
enum OutKind {
    F64,
    U64,
    I64,
}

/// Reinterprets a byte view as atomics of `size` bytes; checks length and alignment.
fn atomics<'a, T>(bytes: &'a Uint8Array, size: usize, name: &str) -> Result<&'a [T]> {
    let ptr = bytes.as_ptr();
    if !bytes.len().is_multiple_of(size) || !(ptr as usize).is_multiple_of(size) {
        return Err(invalid(format!(
            "\"{name}\" must be a whole, aligned view of {size}-byte elements"
        )));
    }
    // SAFETY: the view stays alive (an owned napi reference in the task), its memory is a
    // SharedArrayBuffer (never detached or moved), and length and alignment were checked above.
    // Every access goes through atomics, so concurrent JS reads and writes are not data races.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), bytes.len() / size) })
}

impl Task for SumIntoTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let inputs = std::mem::take(&mut self.inputs);
        let slots = atomics::<std::sync::atomic::AtomicU64>(&self.out, 8, "out")?;
        let out = match self.out_kind {
            OutKind::F64 => OutSlots::F64(slots),
            OutKind::U64 => OutSlots::U64(slots),
            OutKind::I64 => OutSlots::I64(slots),
        };
        let progress = match &self.progress {
            None => None,
            Some(bytes) => Some(match bytes.len() {
                1 => Counter::U8(&atomics(bytes, 1, "progress")?[0]),
                2 => Counter::U16(&atomics(bytes, 2, "progress")?[0]),
                4 => Counter::U32(&atomics(bytes, 4, "progress")?[0]),
                8 => Counter::U64(&atomics(bytes, 8, "progress")?[0]),
                n => {
                    return Err(invalid(format!(
                        "\"progress\" must be 1, 2, 4 or 8 bytes, not {n}"
                    )))
                }
            }),
        };
        let threads = self.threads;
        guard(move || {
            let pool = KernelPool::new(threads)
                .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
            core_sum_primes_into(&pool, &inputs, out, progress).map_err(|e| match e {
                IntoError::Cancelled => Error::new(Status::Cancelled, e.to_string()),
                _ => invalid(e.to_string()),
            })
        })
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Starts `sumPrimesInto` on a new rayon pool of `threads` threads (the TS layer checked everything).
#[napi(ts_return_type = "Promise<void>")]
pub fn sum_primes_into(
    inputs: Float64Array,
    out: Uint8Array,
    out_kind: String,
    progress: Option<Uint8Array>,
    threads: u32,
) -> Result<AsyncTask<SumIntoTask>> {
    let inputs = inputs
        .iter()
        .map(|&n| u64_from_number(n, "inputs"))
        .collect::<Result<Vec<u64>>>()?;
    let out_kind = match out_kind.as_str() {
        "f64" => OutKind::F64,
        "u64" => OutKind::U64,
        "i64" => OutKind::I64,
        other => return Err(invalid(format!("unknown output kind \"{other}\""))),
    };
    if threads == 0 {
        return Err(invalid("\"threads\" must be at least 1"));
    }
    Ok(AsyncTask::new(SumIntoTask {
        inputs,
        out,
        out_kind,
        progress,
        threads: threads as usize,
    }))
}
