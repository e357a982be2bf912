//! Sleeping threads by deadline. Pure logic, generic over the sleeper and
//! the deadline, so that the host tests it; the kernel keeps one per CPU,
//! checked from the timer interrupt ([`super::sleep`]).
//!
//! Entries are kept sorted with the earliest deadline last, so that the
//! interrupt takes expired sleepers off the end: no allocation and no
//! shifting there. Inserting (in thread context) shifts instead; a few
//! hundred sleepers cost little. Equal deadlines wake in the order they
//! were inserted.

use alloc::vec::Vec;

/// Which entry an insertion made, to take it out again early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SleepKey(u64);

/// Sleepers, earliest deadline last.
#[derive(Debug)]
pub struct SleepQueue<D, T> {
    /// (deadline, insertion number, sleeper), sorted descending.
    entries: Vec<(D, SleepKey, T)>,
    next_key: u64,
}

impl<D: Ord + Copy, T> SleepQueue<D, T> {
    /// An empty queue (allocates nothing).
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
            next_key: 0,
        }
    }

    /// Adds `sleeper`, due at `deadline`. Thread context only: it may
    /// allocate.
    pub fn insert(&mut self, deadline: D, sleeper: T) -> SleepKey {
        let key = SleepKey(self.next_key);
        self.next_key += 1;
        // The first entry that is due no later than this one (and was
        // inserted earlier): the new one goes before it.
        let index = self
            .entries
            .partition_point(|(d, k, _)| (*d, *k) > (deadline, key));
        self.entries.insert(index, (deadline, key, sleeper));
        key
    }

    /// Takes out the sleeper due first if it is due at `now`. Never
    /// allocates or frees.
    pub fn pop_due(&mut self, now: D) -> Option<T> {
        match self.entries.last() {
            Some((deadline, _, _)) if *deadline <= now => self.entries.pop().map(|(_, _, t)| t),
            _ => None,
        }
    }

    /// Takes out the entry `key` made, if still there (a sleeper woken
    /// early).
    pub fn remove(&mut self, key: SleepKey) -> Option<T> {
        let index = self.entries.iter().position(|(_, k, _)| *k == key)?;
        Some(self.entries.remove(index).2)
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<D> {
        self.entries.last().map(|(d, _, _)| *d)
    }

    /// Sleepers in the queue.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no one sleeps.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<D: Ord + Copy, T> Default for SleepQueue<D, T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sleepers_wake_by_deadline_then_arrival() {
        let mut queue = SleepQueue::new();
        queue.insert(30, "c");
        queue.insert(10, "a");
        queue.insert(20, "b1");
        queue.insert(20, "b2");
        assert_eq!(queue.next_deadline(), Some(10));
        assert_eq!(queue.pop_due(5), None, "nothing due yet");
        assert_eq!(queue.pop_due(25), Some("a"));
        assert_eq!(queue.pop_due(25), Some("b1"));
        assert_eq!(queue.pop_due(25), Some("b2"));
        assert_eq!(queue.pop_due(25), None);
        assert_eq!(queue.pop_due(30), Some("c"));
        assert!(queue.is_empty());
    }

    #[test]
    fn a_sleeper_woken_early_leaves() {
        let mut queue = SleepQueue::new();
        let a = queue.insert(10, 'a');
        let b = queue.insert(20, 'b');
        assert_eq!(queue.remove(a), Some('a'));
        assert_eq!(queue.remove(a), None);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.pop_due(100), Some('b'));
        assert_eq!(queue.remove(b), None);
    }

    proptest! {
        #[test]
        fn pops_come_in_deadline_order(deadlines in proptest::collection::vec(0u64..1000, 0..200)) {
            let mut queue = SleepQueue::new();
            for (i, &d) in deadlines.iter().enumerate() {
                queue.insert(d, i);
            }
            let mut expected: alloc::vec::Vec<(u64, usize)> =
                deadlines.iter().copied().zip(0..).collect();
            expected.sort();
            let mut got = alloc::vec::Vec::new();
            let mut now = 0;
            while !queue.is_empty() {
                while let Some(i) = queue.pop_due(now) {
                    prop_assert!(deadlines[i] <= now);
                    got.push((deadlines[i], i));
                }
                now += 7;
            }
            prop_assert_eq!(got, expected);
        }
    }
}
