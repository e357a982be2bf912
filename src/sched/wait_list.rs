//! The waiters of a wait queue, in arrival order. Pure logic, generic over
//! what a waiter is, so that the host tests it; the kernel's
//! [`WaitQueue`](super::wait_queue::WaitQueue) keeps threads and task
//! wakers here.
//!
//! A waiter may have been woken by someone else already (a timed wait that
//! timed out): [`WaitList::wake_one`] skips waiters that refuse the wake,
//! so that a notification is never spent on a waiter that is gone.

use alloc::collections::VecDeque;

/// Waiters, first come first woken.
#[derive(Debug)]
pub struct WaitList<T> {
    waiters: VecDeque<T>,
}

impl<T> WaitList<T> {
    /// An empty list (allocates nothing).
    pub const fn new() -> Self {
        Self {
            waiters: VecDeque::new(),
        }
    }

    /// Adds a waiter behind the others.
    pub fn push(&mut self, waiter: T) {
        self.waiters.push_back(waiter);
    }

    /// Wakes the first waiter that accepts: `wake` returns whether it did.
    /// Waiters that refuse are dropped from the list. Returns whether one
    /// accepted.
    pub fn wake_one(&mut self, mut wake: impl FnMut(T) -> bool) -> bool {
        while let Some(waiter) = self.waiters.pop_front() {
            if wake(waiter) {
                return true;
            }
        }
        false
    }

    /// Wakes every waiter; returns how many accepted.
    pub fn wake_all(&mut self, mut wake: impl FnMut(T) -> bool) -> usize {
        let mut woken = 0;
        while let Some(waiter) = self.waiters.pop_front() {
            if wake(waiter) {
                woken += 1;
            }
        }
        woken
    }

    /// Takes out the first waiter `matches` picks (a waiter leaving on its
    /// own, after a timeout).
    pub fn remove(&mut self, matches: impl Fn(&T) -> bool) -> Option<T> {
        let index = self.waiters.iter().position(matches)?;
        self.waiters.remove(index)
    }

    /// Whether some waiter is one `matches` picks (a waker already queued
    /// need not be queued twice).
    pub fn contains(&self, matches: impl Fn(&T) -> bool) -> bool {
        self.waiters.iter().any(matches)
    }

    /// Waiters in the list.
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Whether no one waits.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn waiters_are_woken_first_come_first_served() {
        let mut list = WaitList::new();
        for id in 1..=4 {
            list.push(id);
        }
        let mut woken = Vec::new();
        assert!(list.wake_one(|id| {
            woken.push(id);
            true
        }));
        assert!(list.wake_one(|id| {
            woken.push(id);
            true
        }));
        assert_eq!(woken, [1, 2]);
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn a_notification_skips_waiters_that_left() {
        let mut list = WaitList::new();
        list.push((1, false)); // timed out: refuses the wake
        list.push((2, true));
        list.push((3, true));
        let mut woken = Vec::new();
        assert!(list.wake_one(|(id, waiting)| {
            if waiting {
                woken.push(id);
            }
            waiting
        }));
        assert_eq!(woken, [2], "the notification reached a real waiter");
        assert_eq!(list.len(), 1);
        let mut none = WaitList::new();
        none.push((9, false));
        assert!(!none.wake_one(|(_, waiting)| waiting));
        assert!(none.is_empty());
    }

    #[test]
    fn wake_all_counts_and_empties() {
        let mut list = WaitList::new();
        for id in 0..10 {
            list.push(id);
        }
        assert_eq!(list.wake_all(|id| id % 2 == 0), 5);
        assert!(list.is_empty());
    }

    #[test]
    fn a_waiter_can_leave_from_the_middle() {
        let mut list = WaitList::new();
        for id in 0..5 {
            list.push(id);
        }
        assert_eq!(list.remove(|&id| id == 3), Some(3));
        assert_eq!(list.remove(|&id| id == 3), None);
        assert!(list.contains(|&id| id == 4) && !list.contains(|&id| id == 3));
        let mut order = Vec::new();
        list.wake_all(|id| {
            order.push(id);
            true
        });
        assert_eq!(order, [0, 1, 2, 4]);
    }
}
