//! The threads async futex waits sleep on, reused from wait to wait.
//!
//! Starting an OS thread per wait cost more than the wait itself: an async round trip between
//! processes is two waits, and the spawn dominated it. A thread that has answered its wait parks
//! here for the next one, and ends after `IDLE_EXIT` without any, so that an idle process holds
//! no waiting thread. A new thread starts only when no parked one is free.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A wait to run on a waiting thread.
pub type Job = Box<dyn FnOnce() + Send>;

/// The name of every waiting thread (tests look for it in /proc/self/task).
pub const THREAD_NAME: &str = "napi-mp-futex";

/// How long a parked thread waits for its next wait before it ends.
const IDLE_EXIT: Duration = Duration::from_secs(5);

struct Parked {
    /// Waits handed to parked threads and not yet taken by one.
    jobs: VecDeque<Job>,
    /// Threads parked now.
    idle: usize,
}

static PARKED: Mutex<Parked> = Mutex::new(Parked {
    jobs: VecDeque::new(),
    idle: 0,
});
static ARRIVED: Condvar = Condvar::new();

fn parked() -> MutexGuard<'static, Parked> {
    // A job never runs under the lock, so a poisoned lock still holds consistent counts.
    PARKED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `job` on a parked thread, or on a new one when every parked thread has a job coming.
pub fn run(job: Job) -> std::io::Result<()> {
    let mut state = parked();
    if state.idle > state.jobs.len() {
        state.jobs.push_back(job);
        drop(state);
        ARRIVED.notify_one();
        return Ok(());
    }
    drop(state);
    std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            job();
            serve();
        })
        .map(drop)
}

/// A waiting thread's life after its first job: take the next, or park; end when none came.
fn serve() {
    let mut state = parked();
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            job();
            state = parked();
            continue;
        }
        state.idle += 1;
        let (guard, waited) = ARRIVED
            .wait_timeout(state, IDLE_EXIT)
            .unwrap_or_else(PoisonError::into_inner);
        state = guard;
        state.idle -= 1;
        // A job pushed while this thread was timing out counted it as idle: take that one first.
        if waited.timed_out() && state.jobs.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Instant;

    const GUARD: Duration = Duration::from_secs(60);

    /// The waiting thread a job ran on.
    fn ran_on(job: impl FnOnce() + Send + 'static) -> std::thread::ThreadId {
        let (tx, rx) = mpsc::channel();
        run(Box::new(move || {
            job();
            tx.send(std::thread::current().id()).unwrap();
        }))
        .unwrap();
        rx.recv_timeout(GUARD).expect("the job never ran")
    }

    #[test]
    fn parks_threads_for_the_next_job_and_starts_more_when_all_are_busy() {
        let first = ran_on(|| {});
        // Time for the thread to park (and none to end: IDLE_EXIT is far longer).
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            ran_on(|| {}),
            first,
            "a second thread ran a job a parked one could take"
        );

        // Every job waits until all have started: one thread short would never finish.
        let n = 64;
        let started = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        for _ in 0..n {
            let (started, tx) = (Arc::clone(&started), tx.clone());
            run(Box::new(move || {
                started.fetch_add(1, Ordering::SeqCst);
                let end = Instant::now() + GUARD;
                while started.load(Ordering::SeqCst) < n && Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(1));
                }
                tx.send(std::thread::current().id()).unwrap();
            }))
            .unwrap();
        }
        let mut threads: Vec<_> = (0..n).map(|_| rx.recv_timeout(GUARD).unwrap()).collect();
        assert_eq!(started.load(Ordering::SeqCst), n);
        threads.sort_by_key(|id| format!("{id:?}"));
        threads.dedup();
        assert_eq!(
            threads.len(),
            n,
            "jobs shared a thread while all had to run at once"
        );
    }
}
