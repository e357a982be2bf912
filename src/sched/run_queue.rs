//! The run queue: threads ready to run on one CPU, taken in turn (round
//! robin), and the time-slice rule. Pure logic, generic over what it
//! queues, so that the host tests it; the kernel queues `Arc<Thread>`.
//!
//! Pushing must not allocate, because interrupt handlers wake threads:
//! the owner reserves room for every thread that could be queued
//! ([`RunQueue::reserve_for`]) in thread context, when a thread is made.

use alloc::collections::VecDeque;

/// Ready threads in the order they became ready.
#[derive(Debug)]
pub struct RunQueue<T> {
    queue: VecDeque<T>,
}

impl<T> RunQueue<T> {
    /// An empty queue (allocates nothing).
    pub const fn new() -> Self {
        Self {
            queue: VecDeque::new(),
        }
    }

    /// Makes room for `threads` entries, so that pushing up to that many
    /// never allocates. Thread context only.
    pub fn reserve_for(&mut self, threads: usize) {
        let more = threads.saturating_sub(self.queue.len());
        self.queue.reserve(more);
    }

    /// Room before a push would have to allocate.
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Queues `item` behind every ready one.
    pub fn push(&mut self, item: T) {
        self.queue.push_back(item);
    }

    /// The next to run: the one that has waited longest.
    pub fn pop(&mut self) -> Option<T> {
        self.queue.pop_front()
    }

    /// Ready entries.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is ready.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

impl<T> Default for RunQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a thread that started its slice at `started` has used it up at
/// `now` (both in the same unit as `slice`). A clock that went backwards
/// counts as no time used.
pub fn slice_used_up(started: u64, now: u64, slice: u64) -> bool {
    now.saturating_sub(started) >= slice
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn threads_take_turns_in_order() {
        let mut queue = RunQueue::new();
        for id in 1..=3 {
            queue.push(id);
        }
        // Each runs its slice and goes to the back: 1 2 3 1 2 3 ...
        let mut ran = Vec::new();
        for _ in 0..9 {
            let id = queue.pop().unwrap();
            ran.push(id);
            queue.push(id);
        }
        assert_eq!(ran, [1, 2, 3, 1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn a_woken_thread_waits_behind_the_ready_ones() {
        let mut queue = RunQueue::new();
        queue.push("a");
        queue.push("b");
        assert_eq!(queue.pop(), Some("a"));
        queue.push("woken");
        queue.push("a");
        assert_eq!(queue.pop(), Some("b"));
        assert_eq!(queue.pop(), Some("woken"));
        assert_eq!(queue.pop(), Some("a"));
        assert_eq!(queue.pop(), None);
        assert!(queue.is_empty());
    }

    #[test]
    fn reserved_room_means_pushes_do_not_grow_the_queue() {
        let mut queue = RunQueue::new();
        queue.reserve_for(100);
        let room = queue.capacity();
        assert!(room >= 100);
        for i in 0..100 {
            queue.push(i);
        }
        assert_eq!(queue.capacity(), room, "no push reallocated");
        assert_eq!(queue.len(), 100);
    }

    #[test]
    fn round_robin_with_slices_is_fair() {
        // Two threads that never yield, a tick every 10 units, a slice of
        // 10: over 1000 ticks each gets half the time.
        let mut queue = RunQueue::new();
        queue.push(1usize);
        let mut running = 0usize;
        let mut started = 0u64;
        let mut used = [0u64; 2];
        for tick in 1..=1000u64 {
            let now = tick * 10;
            used[running] += 10;
            if slice_used_up(started, now, 10) {
                queue.push(running);
                running = queue.pop().unwrap();
                started = now;
            }
        }
        assert_eq!(used[0], used[1]);
        assert!(!slice_used_up(100, 105, 10));
        assert!(slice_used_up(100, 110, 10));
        assert!(
            !slice_used_up(100, 50, 10),
            "a clock going back uses nothing"
        );
    }
}
