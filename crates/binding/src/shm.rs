//! Shared segments and cross-process futexes for JS (see `multiprocessing_core::shm`).
//!
//! JS sees a segment through views of `[offset, offset + length)` of the mapping, each holding the
//! mapping alive until V8 collects it: SharedArrayBuffers where the running Node has
//! `node_api_create_external_sharedarraybuffer`, external ArrayBuffers elsewhere. Futex calls take an Int32Array
//! and an index, so JS never handles addresses.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::AtomicI32;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use multiprocessing_core::shm::{self, futex_wait, futex_wake, Origin, Segment, WaitOutcome};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::JsValue;
use napi_derive::napi;

mod waiters;

/// How a segment (or a part of it) is named to another process: enough to map it there.
#[napi(object)]
pub struct ShmHandle {
    /// The pid of the process that created the segment.
    pub origin_pid: u32,
    /// Its serial number in that process.
    pub serial: f64,
    /// A process that holds it now (the sender), and its descriptor for it.
    pub pid: u32,
    /// Descriptor number in `pid`.
    pub fd: i32,
    /// Length of the whole segment in bytes.
    pub size: f64,
    /// Where the part starts in the segment, and its length.
    pub offset: f64,
    /// Length of the part in bytes.
    pub length: f64,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

fn os_error(what: &str, error: std::io::Error) -> Error {
    Error::new(Status::GenericFailure, format!("{what}: {error}"))
}

/// What an external ArrayBuffer view holds: its segment, and how much memory it told V8 about.
type ViewHint = (Arc<Segment>, usize);

unsafe extern "C" fn release_view(env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box made in `external_arraybuffer`, finalized exactly once by Node (on
    // the JS thread: Node runs external ArrayBuffer finalizers there).
    let (segment, length) = *unsafe { Box::from_raw(hint.cast::<ViewHint>()) };
    let mut total = 0i64;
    // SAFETY: `env` is the live environment Node passes to the finalizer.
    unsafe { sys::napi_adjust_external_memory(env, -(length as i64), &mut total) };
    drop(segment);
}

/// `node_api_create_external_sharedarraybuffer`, as declared in Node's js_native_api.h.
type CreateExternalSab = unsafe extern "C" fn(
    env: sys::napi_env,
    external_data: *mut c_void,
    byte_length: usize,
    finalize_cb: Option<unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void)>,
    finalize_hint: *mut c_void,
    result: *mut sys::napi_value,
) -> sys::napi_status;

/// The running Node's `node_api_create_external_sharedarraybuffer`, looked up once at run time:
/// experimental in Node-API (Node >= 22.23.3, 24.16, 26.1), so the addon must not link against
/// it, or it would not load on older Node.
fn create_external_sab() -> Option<CreateExternalSab> {
    static FOUND: OnceLock<Option<CreateExternalSab>> = OnceLock::new();
    *FOUND.get_or_init(|| {
        // SAFETY: a NUL-terminated name; RTLD_DEFAULT searches the symbols of the whole process,
        // where Node's own executable exports its Node-API functions.
        let symbol = unsafe {
            libc::dlsym(
                libc::RTLD_DEFAULT,
                c"node_api_create_external_sharedarraybuffer".as_ptr(),
            )
        };
        // SAFETY: the symbol Node exports under this name has the signature of CreateExternalSab.
        (!symbol.is_null())
            .then(|| unsafe { std::mem::transmute::<*mut c_void, CreateExternalSab>(symbol) })
    })
}

unsafe extern "C" fn release_shared_view(_data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box made in `external_sab`, finalized exactly once, on any thread:
    // dropping an Arc is thread-safe.
    drop(unsafe { Box::from_raw(hint.cast::<Arc<Segment>>()) });
}

/// Checks a create call's status; on failure takes back the hint Node did not get.
fn handed<H>(status: sys::napi_status, hint: *mut H, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    // SAFETY: made by Box::into_raw, and not handed to Node since the call failed.
    drop(unsafe { Box::from_raw(hint) });
    Err(Error::new(
        Status::GenericFailure,
        format!("cannot create {what}"),
    ))
}

/// A SharedArrayBuffer over `length` bytes at `data`, holding `segment` alive until the last
/// thread's view of it is collected.
fn external_sab(
    env: &Env,
    create: CreateExternalSab,
    segment: Arc<Segment>,
    data: *mut u8,
    length: usize,
) -> Result<sys::napi_value> {
    let hint = Box::into_raw(Box::new(segment));
    let (raw, mut value) = (env.raw(), ptr::null_mut());
    // SAFETY: `data..data + length` lies in the mapping the hint keeps alive. No external-memory
    // report here: the finalizer has no env to take it back with (V8 counts the buffer itself).
    let status = unsafe {
        create(
            raw,
            data.cast(),
            length,
            Some(release_shared_view),
            hint.cast(),
            &mut value,
        )
    };
    handed(status, hint, "an external SharedArrayBuffer")?;
    Ok(value)
}

fn external_arraybuffer(
    env: &Env,
    segment: Arc<Segment>,
    data: *mut u8,
    length: usize,
) -> Result<sys::napi_value> {
    let hint = Box::into_raw(Box::new((segment, length)));
    let (raw, mut value) = (env.raw(), ptr::null_mut());
    // SAFETY: `data..data + length` lies in the mapping the hint keeps alive.
    let status = unsafe {
        sys::napi_create_external_arraybuffer(
            raw,
            data.cast(),
            length,
            Some(release_view),
            hint.cast(),
            &mut value,
        )
    };
    handed(
        status,
        hint,
        "an external ArrayBuffer (this runtime forbids them)",
    )?;
    // Counted by V8 as memory its objects hold, so that garbage collection comes as often as
    // for a SharedArrayBuffer of that size (and lets unused segments go).
    let mut total = 0i64;
    // SAFETY: a live env, on its JS thread.
    unsafe { sys::napi_adjust_external_memory(raw, length as i64, &mut total) };
    Ok(value)
}

/// A SharedArrayBuffer (where Node can make one over outside memory) or an external ArrayBuffer
/// over `[offset, offset + length)` of `segment`.
fn view<'env>(
    env: &'env Env,
    segment: Arc<Segment>,
    offset: usize,
    length: usize,
) -> Result<Unknown<'env>> {
    if length == 0
        || offset
            .checked_add(length)
            .is_none_or(|end| end > segment.len())
    {
        return Err(invalid("the view lies outside its segment"));
    }
    // SAFETY: in bounds (checked above); the segment goes into the view's finalizer hint.
    let data = unsafe { segment.ptr().add(offset) };
    let value = match create_external_sab() {
        Some(create) => external_sab(env, create, segment, data, length)?,
        None => external_arraybuffer(env, segment, data, length)?,
    };
    // SAFETY: a value just created in this env.
    unsafe { Unknown::from_napi_value(env.raw(), value) }
}

/// The data address and length of an ArrayBuffer.
fn buffer_info(env: &Env, buffer: Unknown<'_>) -> Result<(usize, usize)> {
    let mut data = ptr::null_mut();
    let mut length = 0usize;
    let status = unsafe {
        sys::napi_get_arraybuffer_info(env.raw(), buffer.value().value, &mut data, &mut length)
    };
    if status != sys::Status::napi_ok {
        return Err(invalid("expected an ArrayBuffer"));
    }
    Ok((data as usize, length))
}

/// The segment an ArrayBuffer lies in, and where in it.
fn located(env: &Env, buffer: Unknown<'_>) -> Result<Option<(Arc<Segment>, usize, usize)>> {
    let (address, length) = buffer_info(env, buffer)?;
    Ok(shm::containing(address).map(|s| {
        let offset = address - s.ptr() as usize;
        (s, offset, length)
    }))
}

fn as_size(n: f64, name: &str) -> Result<usize> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n < 9_007_199_254_740_992.0 {
        Ok(n as usize)
    } else {
        Err(invalid(format!(
            "\"{name}\" must be a non-negative integer"
        )))
    }
}

/// A new shared segment of `size` bytes; returns an ArrayBuffer over all of it.
#[napi(catch_unwind, ts_return_type = "ArrayBuffer | SharedArrayBuffer")]
pub fn shm_create(env: &Env, size: f64) -> Result<Unknown<'_>> {
    let size = as_size(size, "size")?;
    let segment = Segment::create(size).map_err(|e| os_error("memfd_create", e))?;
    view(env, segment, 0, size)
}

/// Another ArrayBuffer over `[offset, offset + length)` of the segment `buffer` lies in (offsets
/// from the segment's start).
#[napi(catch_unwind, ts_return_type = "ArrayBuffer | SharedArrayBuffer")]
pub fn shm_slice<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "ArrayBuffer | SharedArrayBuffer")] buffer: Unknown<'_>,
    offset: f64,
    length: f64,
) -> Result<Unknown<'env>> {
    let (segment, _, _) =
        located(env, buffer)?.ok_or_else(|| invalid("not a shared segment's buffer"))?;
    view(
        env,
        segment,
        as_size(offset, "offset")?,
        as_size(length, "length")?,
    )
}

/// How to name `buffer` to another process, or null when it is not in a shared segment.
#[napi(catch_unwind)]
pub fn shm_describe(
    env: &Env,
    #[napi(ts_arg_type = "ArrayBuffer | SharedArrayBuffer")] buffer: Unknown<'_>,
) -> Result<Option<ShmHandle>> {
    Ok(located(env, buffer)?.map(|(segment, offset, length)| {
        let origin = segment.origin();
        ShmHandle {
            origin_pid: origin.pid,
            serial: origin.serial as f64,
            pid: std::process::id(),
            fd: segment.fd(),
            size: segment.len() as f64,
            offset: offset as f64,
            length: length as f64,
        }
    }))
}

/// The ArrayBuffer `handle` describes, mapping its segment into this process on first use.
#[napi(catch_unwind, ts_return_type = "ArrayBuffer | SharedArrayBuffer")]
pub fn shm_open(env: &Env, handle: ShmHandle) -> Result<Unknown<'_>> {
    let origin = Origin {
        pid: handle.origin_pid,
        serial: as_size(handle.serial, "serial")? as u64,
    };
    let size = as_size(handle.size, "size")?;
    let segment = Segment::open(origin, handle.pid, handle.fd, size).map_err(|e| {
        os_error(
            &format!("cannot map shared memory held by process {}", handle.pid),
            e,
        )
    })?;
    view(
        env,
        segment,
        as_size(handle.offset, "offset")?,
        as_size(handle.length, "length")?,
    )
}

/// Bytes of shared segments this process maps now (all its threads together).
#[napi]
pub fn shm_mapped_bytes() -> f64 {
    shm::mapped_bytes() as f64
}

/// The futex word `array[index]` of an Int32Array, checked.
fn word(env: &Env, array: Unknown<'_>, index: u32) -> Result<&'static AtomicI32> {
    let mut kind = sys::TypedarrayType::int8_array;
    let mut length = 0usize;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env.raw(),
            array.value().value,
            &mut kind,
            &mut length,
            &mut data,
            &mut buffer,
            &mut offset,
        )
    };
    if status != sys::Status::napi_ok || kind != sys::TypedarrayType::int32_array {
        return Err(invalid("expected an Int32Array"));
    }
    if index as usize >= length {
        return Err(invalid("index out of range"));
    }
    // SAFETY: in bounds and aligned (an Int32Array element). The caller keeps the memory alive:
    // sync waits run while JS holds the array, async ones hold the segment (see `FutexWaiter::wait`).
    Ok(unsafe { &*data.cast::<AtomicI32>().add(index as usize) })
}

/// A timeout in ms as a Duration; None (no limit) for Infinity and for what no Duration holds.
fn timeout_of(ms: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(ms.max(0.0) / 1000.0).ok()
}

fn outcome_code(outcome: WaitOutcome) -> u32 {
    match outcome {
        WaitOutcome::Ok => 0,
        WaitOutcome::NotEqual => 1,
        WaitOutcome::TimedOut => 2,
    }
}

/// `Atomics.wait` across processes: 0 woken, 1 not equal, 2 timed out. Blocks the thread.
#[napi(catch_unwind)]
pub fn futex_wait_sync(
    env: &Env,
    #[napi(ts_arg_type = "Int32Array")] array: Unknown<'_>,
    index: u32,
    expected: i32,
    timeout_ms: f64,
) -> Result<u32> {
    let word = word(env, array, index)?;
    Ok(outcome_code(futex_wait(
        word,
        expected,
        timeout_of(timeout_ms),
    )))
}

/// Wakes up to `count` waiters on `array[index]`, in any process; returns how many woke.
#[napi(catch_unwind)]
pub fn futex_wake_all(
    env: &Env,
    #[napi(ts_arg_type = "Int32Array")] array: Unknown<'_>,
    index: u32,
    count: f64,
) -> Result<u32> {
    let word = word(env, array, index)?;
    let count = if count.is_finite() {
        count.clamp(0.0, i32::MAX as f64) as i32
    } else {
        i32::MAX
    };
    Ok(futex_wake(word, count) as u32)
}

/// Gives the calling thread's core to another runnable thread, if the kernel has one for it
/// (`sched_yield`): how a side of a manager's link hands its core straight to a peer that waits
/// for it on the same core, with no futex wake-up and no sleep (see `src/managers/link.ts`).
#[napi]
pub fn yield_cpu() {
    std::thread::yield_now();
}

/// Longest single sleep of an async waiter: it then looks whether its JS side is still there.
const SLICE: Duration = Duration::from_millis(500);

/// What a waiting thread calls back with: (wait id, outcome).
type Answer = ThreadsafeFunction<FnArgs<(u32, u32)>, (), FnArgs<(u32, u32)>, Status, false, true>;

/// Async futex waits of one JS thread. Its thread-safe function is built once and shared by all
/// its waits, which name themselves by an id; it is weak, like a pending `Atomics.waitAsync`: it
/// does not keep the event loop alive (the JS side holds a timer for finite waits).
#[napi]
pub struct FutexWaiter {
    answer: Arc<Answer>,
}

#[napi]
impl FutexWaiter {
    /// `callback(id, outcome)` answers each wait on the JS thread: 0 woken, 1 not equal,
    /// 2 timed out.
    #[napi(constructor, catch_unwind)]
    pub fn new(callback: Function<'_, FnArgs<(u32, u32)>, ()>) -> Result<Self> {
        let answer = callback
            .build_threadsafe_function::<FnArgs<(u32, u32)>>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        Ok(Self {
            answer: Arc::new(answer),
        })
    }

    /// `Atomics.waitAsync` across processes, answered as wait `id`: waits on a waiting thread
    /// (never libuv's pool), reused from wait to wait (see `waiters`).
    #[napi(catch_unwind)]
    pub fn wait(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "Int32Array")] array: Unknown<'_>,
        index: u32,
        expected: i32,
        timeout_ms: f64,
        id: u32,
    ) -> Result<()> {
        let word = word(env, array, index)?;
        // The waiting thread holds the mapping: the array may be collected meanwhile.
        let segment = shm::containing(word.as_ptr() as usize)
            .ok_or_else(|| invalid("the array is not in a shared segment"))?;
        let answer = Arc::clone(&self.answer);
        let end = timeout_of(timeout_ms).map(|t| Instant::now() + t);
        waiters::run(Box::new(move || {
            let _hold = segment;
            if let Some(outcome) = wait_sliced(word, expected, end, &answer) {
                answer.call(
                    (id, outcome_code(outcome)).into(),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }
        }))
        .map_err(|e| os_error("cannot start a waiting thread", e))
    }
}

/// Waits until `word` leaves `expected` or `end` passes, in slices; None once nobody is left to
/// tell (the JS thread or process ended).
fn wait_sliced(
    word: &AtomicI32,
    expected: i32,
    end: Option<Instant>,
    answer: &Answer,
) -> Option<WaitOutcome> {
    // No spinning on the word first: measured on a loaded 2-core machine, a 20 µs spin halved the
    // round trips between two awaiting processes (it takes the CPU the answering side needs).
    loop {
        let left = end.map(|e| e.saturating_duration_since(Instant::now()));
        let slice = left.map_or(SLICE, |l| l.min(SLICE));
        match futex_wait(word, expected, Some(slice)) {
            WaitOutcome::TimedOut if left.is_some_and(|l| l <= slice) => {
                return Some(WaitOutcome::TimedOut)
            }
            WaitOutcome::TimedOut if answer.aborted() => return None,
            WaitOutcome::TimedOut => continue,
            other => return Some(other),
        }
    }
}
