//! Parking: a thread waits until someone unparks it, with a token so that
//! an unpark before the park is not lost (as in `std::thread::park`). A
//! [`thread_waker`] unparks its thread: that is how async tasks and
//! interrupt handlers wake a thread, and how the executor, itself a
//! thread, sleeps while no task is ready.

use alloc::sync::Arc;
use alloc::task::Wake;
use core::future::Future;
use core::pin::pin;
use core::sync::atomic::Ordering;
use core::task::{Context, Poll, Waker};

use super::ThreadError;
use super::percpu::this_cpu;
use super::switch::{make_ready, schedule};
use super::thread::{Thread, ThreadState, WakeReason};
use crate::arch::without_interrupts;

/// Blocks the current thread until [`unpark`]ed; returns at once if it was
/// unparked since the last park. May also return spuriously: callers
/// check their condition in a loop. Before the scheduler starts, waits for
/// the next interrupt instead.
pub fn park() {
    let Some(cpu) = this_cpu() else {
        x86_64::instructions::interrupts::enable_and_hlt();
        return;
    };
    without_interrupts(|| {
        // SAFETY: `current` points at the running thread, alive while it runs.
        let me = unsafe { &*cpu.current.load(Ordering::Acquire) };
        if me.unpark_token.swap(false, Ordering::AcqRel) {
            return;
        }
        me.set_state(ThreadState::Parked);
        // An unpark from another CPU between the check and the state.
        if me.unpark_token.swap(false, Ordering::AcqRel)
            && me.change_state(ThreadState::Parked, ThreadState::Running)
        {
            return;
        }
        schedule();
        me.unpark_token.store(false, Ordering::Release);
    });
}

/// Unparks `thread`: it returns from its [`park`], or its next one returns
/// at once. Any context. An exited thread is an error.
pub fn unpark(thread: &Arc<Thread>) -> Result<(), ThreadError> {
    if thread.state() == ThreadState::Exited {
        return Err(ThreadError::Exited(thread.id()));
    }
    thread.unpark_token.store(true, Ordering::Release);
    make_ready(thread, ThreadState::Parked, WakeReason::Notified);
    Ok(())
}

struct ThreadWaker(Arc<Thread>);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        let _ = unpark(&self.0);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let _ = unpark(&self.0);
    }
}

/// A waker that unparks `thread`.
pub fn thread_waker(thread: Arc<Thread>) -> Waker {
    Waker::from(Arc::new(ThreadWaker(thread)))
}

/// A waker that unparks the current thread, once the scheduler runs.
pub fn current_waker() -> Option<Waker> {
    super::current().map(thread_waker)
}

/// Runs `future` to its end in the current thread, parking between polls.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = current_waker().unwrap_or_else(|| Waker::noop().clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        park();
    }
}
