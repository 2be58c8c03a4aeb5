//! Memory shared between processes, and waiting on it across processes.
//!
//! A [`Segment`] is an anonymous file (`memfd_create`, Linux) mapped `MAP_SHARED`. It has no name
//! in any file system, so nothing can be left behind whoever dies and however: the memory lives
//! exactly as long as some process maps it or holds its descriptor. Another process of the same
//! user maps it by opening `/proc/<holder pid>/fd/<fd>`, which gives a new descriptor on the same
//! file. Each process keeps one mapping per segment ([`lookup`] / [`open`]), shared by its threads.
//!
//! [`futex_wait`] / [`futex_wake`] are Linux futexes *without* `FUTEX_PRIVATE_FLAG`: the kernel
//! keys them on the file and offset, so a wake in one process reaches a sleeper in another.

use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::io;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

/// Where a segment came from: the pid of the process that created it and its serial number
/// there. Unlike a descriptor number, which is reused once closed, this names one segment for ever
/// (as long as pids are not reused while it lives).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Origin {
    /// The creating process.
    pub pid: u32,
    /// Its count of segments created so far.
    pub serial: u64,
}

/// A mapping of a shared segment in this process. Unmapped (and its descriptor closed) on drop.
#[derive(Debug)]
pub struct Segment {
    ptr: *mut u8,
    len: usize,
    fd: i32,
    origin: Origin,
}

// The mapping is plain shared memory, valid until drop; every access to it goes through atomics.
unsafe impl Send for Segment {}
unsafe impl Sync for Segment {}

static SERIAL: AtomicU64 = AtomicU64::new(0);

/// Every live mapping of this process, by origin and by address.
#[derive(Default)]
struct Registry {
    by_origin: HashMap<Origin, Weak<Segment>>,
    by_address: BTreeMap<usize, Weak<Segment>>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn registry() -> MutexGuard<'static, Option<Registry>> {
    // A poisoned lock only means a panic happened while it was held; the maps stay consistent.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

fn map(fd: i32, len: usize, origin: Origin) -> io::Result<Arc<Segment>> {
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    // SAFETY: a fresh mapping of a descriptor we own; the kernel checks the rest.
    let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd, 0) };
    if ptr == libc::MAP_FAILED {
        let error = io::Error::last_os_error();
        // SAFETY: the descriptor is ours and nothing else uses it.
        unsafe { libc::close(fd) };
        return Err(error);
    }
    let segment = Arc::new(Segment {
        ptr: ptr.cast(),
        len,
        fd,
        origin,
    });
    let mut guard = registry();
    let reg = guard.get_or_insert_with(Registry::default);
    reg.by_origin.retain(|_, w| w.strong_count() > 0);
    reg.by_address.retain(|_, w| w.strong_count() > 0);
    reg.by_origin.insert(origin, Arc::downgrade(&segment));
    reg.by_address
        .insert(segment.ptr as usize, Arc::downgrade(&segment));
    Ok(segment)
}

impl Segment {
    /// A new zero-filled segment of `len` bytes (rounded up to whole pages by the kernel).
    pub fn create(len: usize) -> io::Result<Arc<Segment>> {
        if len == 0 {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let name = CString::new("napi-multiprocessing").expect("no NUL in the name");
        // SAFETY: plain system calls on a descriptor this function owns.
        let fd = check(unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) })?;
        if let Err(error) = check(unsafe { libc::ftruncate(fd, len as libc::off_t) }) {
            unsafe { libc::close(fd) };
            return Err(error);
        }
        let origin = Origin {
            pid: std::process::id(),
            serial: SERIAL.fetch_add(1, Ordering::Relaxed) + 1,
        };
        map(fd, len, origin)
    }

    /// Maps the segment that process `pid` holds as descriptor `fd`, known elsewhere as `origin`.
    /// Fails when that process is gone (or closed it) or the file is shorter than `len`.
    pub fn open(origin: Origin, pid: u32, fd: i32, len: usize) -> io::Result<Arc<Segment>> {
        if let Some(found) = lookup(origin) {
            return Ok(found);
        }
        let path = CString::new(format!("/proc/{pid}/fd/{fd}")).expect("no NUL in a path");
        // SAFETY: opening a path and checking the result.
        let own = check(unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) })?;
        // SAFETY: `stat` is plain data, filled by the kernel.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        if let Err(error) = check(unsafe { libc::fstat(own, &mut stat) }) {
            unsafe { libc::close(own) };
            return Err(error);
        }
        if (stat.st_size as u64) < len as u64 {
            unsafe { libc::close(own) };
            return Err(io::Error::from(io::ErrorKind::InvalidData));
        }
        map(own, len, origin)
    }

    /// First byte of the mapping.
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }
    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether the mapping is empty (never: segments have at least one byte).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// This process's descriptor for the segment (what another process opens to map it).
    pub fn fd(&self) -> i32 {
        self.fd
    }
    /// Which segment this is, in every process.
    pub fn origin(&self) -> Origin {
        self.origin
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: the mapping and descriptor are ours; no view outlives the last Arc.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
            libc::close(self.fd);
        }
    }
}

/// This process's mapping of `origin`, if it has one.
pub fn lookup(origin: Origin) -> Option<Arc<Segment>> {
    registry()
        .as_ref()
        .and_then(|r| r.by_origin.get(&origin))
        .and_then(Weak::upgrade)
}

/// Bytes of shared segments this process maps now.
pub fn mapped_bytes() -> usize {
    registry().as_ref().map_or(0, |r| {
        r.by_origin
            .values()
            .filter_map(Weak::upgrade)
            .map(|s| s.len)
            .sum()
    })
}

/// The mapped segment holding address `addr`, if any.
pub fn containing(addr: usize) -> Option<Arc<Segment>> {
    let guard = registry();
    let reg = guard.as_ref()?;
    let (_, weak) = reg.by_address.range(..=addr).next_back()?;
    let segment = weak.upgrade()?;
    (addr < segment.ptr as usize + segment.len).then_some(segment)
}

/// How a [`futex_wait`] ended, as `Atomics.wait` reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WaitOutcome {
    /// Woken (or spuriously: callers re-check their condition).
    Ok,
    /// The word did not hold the expected value.
    NotEqual,
    /// The timeout passed.
    TimedOut,
}

/// Sleeps while `word` holds `expected`, until woken or `timeout` passes (`None`: no limit).
pub fn futex_wait(word: &AtomicI32, expected: i32, timeout: Option<Duration>) -> WaitOutcome {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a valid aligned i32; FUTEX_WAIT only reads it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
        )
    };
    if r == 0 {
        return WaitOutcome::Ok;
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::EAGAIN) => WaitOutcome::NotEqual,
        Some(libc::ETIMEDOUT) => WaitOutcome::TimedOut,
        // EINTR (a signal): a spurious wake-up, which every caller already handles.
        _ => WaitOutcome::Ok,
    }
}

/// Wakes up to `count` sleepers on `word`, in any process; returns how many woke.
pub fn futex_wake(word: &AtomicI32, count: i32) -> usize {
    // SAFETY: `word` is a valid aligned i32; FUTEX_WAKE does not touch it.
    let r = unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, count) };
    r.max(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopened_segment_is_the_same_memory() {
        let a = Segment::create(4096).unwrap();
        let origin = a.origin();
        assert!(Arc::ptr_eq(&lookup(origin).unwrap(), &a));
        let word = unsafe { &*(a.ptr().add(64) as *const AtomicI32) };
        word.store(7, Ordering::SeqCst);
        // A second mapping of the same file, as another process would make it.
        let other = Origin {
            pid: origin.pid,
            serial: u64::MAX,
        };
        let b = Segment::open(other, std::process::id(), a.fd(), 4096).unwrap();
        assert_ne!(a.ptr(), b.ptr());
        let seen = unsafe { &*(b.ptr().add(64) as *const AtomicI32) };
        assert_eq!(seen.load(Ordering::SeqCst), 7);
        assert!(Arc::ptr_eq(
            &containing(b.ptr() as usize + 100).unwrap(),
            &b
        ));
    }

    #[test]
    fn futex_times_out_and_reports_not_equal() {
        let a = Segment::create(4096).unwrap();
        let word = unsafe { &*(a.ptr() as *const AtomicI32) };
        assert_eq!(futex_wait(word, 1, None), WaitOutcome::NotEqual);
        let outcome = futex_wait(word, 0, Some(Duration::from_millis(5)));
        assert_eq!(outcome, WaitOutcome::TimedOut);
        assert_eq!(futex_wake(word, 1), 0);
    }
}
