//! A counting semaphore: `acquire` takes a permit, blocking while there is
//! none; `release` gives one back and wakes a waiter. Releasing never
//! blocks, so an interrupt handler may release (to wake a thread that waits
//! for a device); only threads acquire.

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;

use super::TimedOut;
use super::wait_queue::WaitQueue;

/// Permits, and threads waiting for one.
pub struct Semaphore {
    permits: AtomicUsize,
    waiters: WaitQueue,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub const fn new(permits: usize) -> Self {
        Self {
            permits: AtomicUsize::new(permits),
            waiters: WaitQueue::new(),
        }
    }

    /// Takes a permit if there is one.
    pub fn try_acquire(&self) -> bool {
        self.permits
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Takes a permit, blocking until there is one.
    pub fn acquire(&self) {
        let _ = self
            .waiters
            .wait_until(|| self.try_acquire().then_some(()), None);
    }

    /// Takes a permit, blocking at most `timeout`.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<(), TimedOut> {
        self.waiters
            .wait_until(|| self.try_acquire().then_some(()), Some(timeout))
    }

    /// Gives a permit back and wakes a waiter. Any context.
    pub fn release(&self) {
        self.permits.fetch_add(1, Ordering::AcqRel);
        self.waiters.notify_one();
    }

    /// Permits free now.
    pub fn available(&self) -> usize {
        self.permits.load(Ordering::Acquire)
    }
}
