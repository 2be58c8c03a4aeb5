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
const IDLE_EXIT: Duration = Duration::from_secs(2);

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
