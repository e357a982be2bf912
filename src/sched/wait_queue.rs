//! [`WaitQueue`]: threads (and async tasks) waiting for a condition, woken
//! by whoever changes it. The base of the sleeping [`Mutex`](super::mutex),
//! the [`Semaphore`](super::semaphore) and `join`.
//!
//! A waiter checks its condition and queues itself under the queue's lock,
//! with interrupts off, so a notification between the check and the block
//! is never lost. Notifying never blocks and never allocates: interrupt
//! handlers may notify. Waiting is for threads only.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use core::task::Waker;
use core::time::Duration;

use spin::Mutex;

use super::TimedOut;
use super::percpu::this_cpu;
use super::sleep;
use super::switch::{make_ready, schedule};
use super::thread::{Thread, ThreadState, WakeReason};
use super::wait_list::WaitList;
use crate::arch::without_interrupts;

/// One waiter: a blocked thread, or an async task's waker.
enum Waiter {
    Thread(Arc<Thread>),
    Task(Waker),
}

/// Wakes `waiter`; false if it was no longer waiting (timed out).
fn wake(waiter: Waiter) -> bool {
    match waiter {
        Waiter::Thread(thread) => make_ready(&thread, ThreadState::Blocked, WakeReason::Notified),
        Waiter::Task(waker) => {
            waker.wake();
            true
        }
    }
}

/// Waiters for a condition.
pub struct WaitQueue {
    list: Mutex<WaitList<Waiter>>,
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            list: Mutex::new(WaitList::new()),
        }
    }

    /// Blocks the current thread until `check` gives a value, or until
    /// `timeout` has passed (`None`: no limit). `check` runs with the queue
    /// locked and interrupts off: keep it short (a flag, a counter).
    ///
    /// # Panics
    /// If the condition does not hold and the scheduler has not started:
    /// there is no thread to block, and spinning would wait for ever. If
    /// called with interrupts off (an interrupt handler, or code inside
    /// `without_interrupts`): such code must never block.
    pub fn wait_until<R>(
        &self,
        mut check: impl FnMut() -> Option<R>,
        timeout: Option<Duration>,
    ) -> Result<R, TimedOut> {
        assert!(
            x86_64::instructions::interrupts::are_enabled(),
            "a blocking wait with interrupts off (in an interrupt handler?)"
        );
        let deadline = timeout.map(|t| sleep::now() + t);
        loop {
            let outcome = without_interrupts(|| self.wait_once(&mut check, deadline));
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// One check, and one block if it fails: the outcome, or `None` to
    /// check again after a wake.
    fn wait_once<R>(
        &self,
        check: &mut impl FnMut() -> Option<R>,
        deadline: Option<Duration>,
    ) -> Option<Result<R, TimedOut>> {
        let mut list = self.list.lock();
        if let Some(value) = check() {
            return Some(Ok(value));
        }
        if deadline.is_some_and(|d| sleep::now() >= d) {
            return Some(Err(TimedOut));
        }
        let cpu = this_cpu().expect("a wait before the scheduler started would never end");
        let me = cpu.sched.lock().current.clone();
        me.set_state(ThreadState::Blocked);
        list.push(Waiter::Thread(me.clone()));
        let key = deadline.map(|d| sleep::add_sleeper(cpu, d, me.clone()));
        drop(list);
        schedule();
        if let Some(key) = key {
            sleep::remove_sleeper(cpu, key);
        }
        if me.wake_reason.load(Ordering::Acquire) == WakeReason::TimedOut as u8 {
            self.list
                .lock()
                .remove(|w| matches!(w, Waiter::Thread(t) if Arc::ptr_eq(t, &me)));
        }
        None
    }

    /// Queues `waker` unless `ready()` (checked under the lock) says the
    /// condition holds already; returns `ready()`'s answer. For futures: a
    /// waker already queued is not queued again, so polling often does not
    /// grow the queue.
    pub fn register_waker(&self, waker: &Waker, ready: impl FnOnce() -> bool) -> bool {
        without_interrupts(|| {
            let mut list = self.list.lock();
            if ready() {
                return true;
            }
            if !list.contains(|w| matches!(w, Waiter::Task(queued) if queued.will_wake(waker))) {
                list.push(Waiter::Task(waker.clone()));
            }
            false
        })
    }

    /// Wakes the longest waiting; returns whether there was one. Any
    /// context.
    pub fn notify_one(&self) -> bool {
        without_interrupts(|| self.list.lock().wake_one(wake))
    }

    /// Wakes every waiter; returns how many. Any context.
    pub fn notify_all(&self) -> usize {
        without_interrupts(|| self.list.lock().wake_all(wake))
    }

    /// Waiters now.
    pub fn len(&self) -> usize {
        without_interrupts(|| self.list.lock().len())
    }

    /// Whether no one waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}
