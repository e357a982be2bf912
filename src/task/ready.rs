//! The executor's ready queue: woken task ids in the order they were
//! woken, with a room that only task code changes. Pushing never allocates,
//! and the queue's lock is only held with interrupts off, so wakers in
//! interrupt handlers may push; a push that finds no room is remembered,
//! not lost (see [`ReadyQueue::push`]).

use alloc::collections::VecDeque;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use spin::Mutex;

use super::TaskId;
use crate::arch::without_interrupts;

/// Room in the ready queue for `tasks` tasks: one id each, a quarter more
/// for stale ids, and a few so that a handful of tasks has some too.
pub const fn ready_room(tasks: usize) -> usize {
    tasks + tasks / 4 + 8
}

/// Woken task ids, in the order they were woken. Its lock is only ever
/// taken with interrupts off, so a waker in an interrupt handler never
/// finds it held by the code it interrupted.
pub(super) struct ReadyQueue {
    ids: Mutex<VecDeque<TaskId>>,
    /// The queue's capacity, readable without the lock (and so without
    /// turning interrupts off): only [`ReadyQueue::reserve`] changes it.
    capacity: AtomicUsize,
    /// A wake found the queue full: its id is not in the queue.
    overflowed: AtomicBool,
}

impl ReadyQueue {
    pub(super) fn new() -> Self {
        let mut ids = VecDeque::new();
        // The empty executor's room; should even this fail, a wake finds
        // the queue full and the overflow sweep still runs the task.
        let _ = ids.try_reserve_exact(ready_room(0));
        Self {
            capacity: AtomicUsize::new(ids.capacity()),
            ids: Mutex::new(ids),
            overflowed: AtomicBool::new(false),
        }
    }

    /// Queues `id` if there is room, without allocating; if there is none,
    /// marks the queue as overflowed for [`ReadyQueue::take_overflow`].
    pub(super) fn push(&self, id: TaskId) {
        let pushed = without_interrupts(|| {
            let mut ids = self.ids.lock();
            let room = ids.len() < ids.capacity();
            if room {
                ids.push_back(id);
            }
            room
        });
        if !pushed {
            self.overflowed.store(true, Ordering::Release);
        }
    }

    /// Moves the oldest ids, as many as fit, into `batch`; returns how
    /// many. One lock (and one interrupts-off stretch, as short as copying
    /// them) for many ids.
    pub(super) fn pop_batch(&self, batch: &mut [TaskId]) -> usize {
        without_interrupts(|| {
            let mut ids = self.ids.lock();
            let count = ids.len().min(batch.len());
            for (slot, id) in batch.iter_mut().zip(ids.drain(..count)) {
                *slot = id;
            }
            count
        })
    }

    pub(super) fn is_empty(&self) -> bool {
        without_interrupts(|| self.ids.lock().is_empty())
    }

    pub(super) fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    /// Makes room for `room` ids. The new buffer is allocated with
    /// interrupts on; only moving the queued ids over runs with them off.
    /// Task code only: it allocates.
    pub(super) fn reserve(&self, room: usize) {
        let capacity = self.capacity();
        if capacity >= room {
            return;
        }
        let mut bigger = VecDeque::new();
        // Doubling keeps the copies few as tasks are spawned one by one.
        if bigger.try_reserve_exact(room.max(2 * capacity)).is_err() {
            log::warn!("executor: no memory to grow the ready queue to {room} ids");
            return;
        }
        let old = without_interrupts(|| {
            let mut ids = self.ids.lock();
            bigger.append(&mut ids);
            self.capacity.store(bigger.capacity(), Ordering::Relaxed);
            core::mem::replace(&mut *ids, bigger)
        });
        drop(old);
    }

    /// Whether a push found no room since last asked; clears the mark.
    pub(super) fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::AcqRel)
    }

    /// Whether a push found no room and nobody has asked yet.
    pub(super) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }
}
