//! A sleeping mutex: a thread that finds it locked blocks in a
//! [`WaitQueue`] instead of spinning, so the holder (even if preempted)
//! gets the CPU and can let go. The only spinning is inside the wait
//! queue's own lock, held with interrupts off for a few instructions.
//!
//! For threads only: an interrupt handler must never lock it (it could not
//! block). Unlocking wakes the longest waiter, which then competes for the
//! lock again (no hand-off: a running thread may take it first, which
//! keeps the lock cheap when it is not contended).

use core::cell::UnsafeCell;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;

use super::TimedOut;
use super::wait_queue::WaitQueue;

/// A lock that blocks waiting threads.
pub struct Mutex<T> {
    locked: AtomicBool,
    waiters: WaitQueue,
    value: UnsafeCell<T>,
}

// SAFETY: the lock gives one thread at a time access to the value, so the
// value need only be movable between threads.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub const fn new(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            waiters: WaitQueue::new(),
            value: UnsafeCell::new(value),
        }
    }

    fn try_acquire(&self) -> bool {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Locks it, blocking while another thread holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if !self.try_acquire() {
            let acquired = self
                .waiters
                .wait_until(|| self.try_acquire().then_some(()), None);
            debug_assert!(acquired.is_ok(), "a wait without a deadline timed out");
        }
        MutexGuard { mutex: self }
    }

    /// Locks it, blocking at most `timeout`.
    pub fn lock_timeout(&self, timeout: Duration) -> Result<MutexGuard<'_, T>, TimedOut> {
        if !self.try_acquire() {
            self.waiters
                .wait_until(|| self.try_acquire().then_some(()), Some(timeout))?;
        }
        Ok(MutexGuard { mutex: self })
    }

    /// Locks it if it is free.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.try_acquire().then_some(MutexGuard { mutex: self })
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Threads blocked on it now.
    pub fn waiters(&self) -> usize {
        self.waiters.len()
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("locked", &self.locked.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The lock, held; dropping it unlocks.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock: no other access exists.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock: no other access exists.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.locked.store(false, Ordering::Release);
        self.mutex.waiters.notify_one();
    }
}
