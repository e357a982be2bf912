//! Deadline slots: a fixed set of "call me at time T" requests, of which
//! the timer hardware is always programmed for the earliest armed one.
//!
//! A client (the async sleepers, the scheduler's time slice) claims a slot
//! once, with the callback the timer interrupt runs when the slot's time
//! has come, then arms and disarms it as often as it likes. The slots are
//! fixed and lock-free (atomics only), so the interrupt never blocks or
//! allocates, and this module knows none of its clients. Times are
//! nanoseconds since boot; [`NEVER`] marks a disarmed slot.

use core::fmt;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use spin::Once;

/// The time of a disarmed slot.
pub const NEVER: u64 = u64::MAX;

/// A callback run from the timer interrupt: interrupts off, must not block.
pub type DeadlineCallback = fn();

/// One deadline: when it is due and whom to call.
pub struct Slot {
    at: AtomicU64,
    callback: Once<DeadlineCallback>,
}

impl Slot {
    const fn new() -> Self {
        Self {
            at: AtomicU64::new(NEVER),
            callback: Once::new(),
        }
    }

    /// Sets the slot's time (nanoseconds since boot); [`NEVER`] disarms it.
    /// The caller reprograms the hardware afterwards.
    pub fn set(&self, at: u64) {
        self.at.store(at, Ordering::Release);
    }

    /// The slot's time, or [`NEVER`].
    pub fn at(&self) -> u64 {
        self.at.load(Ordering::Acquire)
    }
}

/// Every slot was claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotsFull(pub usize);

impl fmt::Display for SlotsFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "all {} timer deadline slots are taken", self.0)
    }
}

/// `N` deadline slots.
pub struct Slots<const N: usize> {
    slots: [Slot; N],
    claimed: AtomicUsize,
}

impl<const N: usize> Slots<N> {
    /// No slot claimed.
    pub const fn new() -> Self {
        Self {
            slots: [const { Slot::new() }; N],
            claimed: AtomicUsize::new(0),
        }
    }

    /// Takes a free slot for good, calling `callback` whenever it comes due.
    pub fn claim(&self, callback: DeadlineCallback) -> Result<&Slot, SlotsFull> {
        let index = self.claimed.fetch_add(1, Ordering::AcqRel);
        let Some(slot) = self.slots.get(index) else {
            self.claimed.fetch_sub(1, Ordering::AcqRel);
            return Err(SlotsFull(N));
        };
        slot.callback.call_once(|| callback);
        Ok(slot)
    }

    /// The earliest armed time, if any.
    pub fn earliest(&self) -> Option<u64> {
        self.slots
            .iter()
            .map(Slot::at)
            .filter(|&at| at != NEVER)
            .min()
    }

    /// Disarms every slot due at `now` or before and runs its callback
    /// (which may arm the slot again). Returns how many fired.
    pub fn expire(&self, now: u64) -> usize {
        let mut fired = 0;
        for slot in &self.slots {
            let at = slot.at();
            if at > now {
                continue;
            }
            // Only the interrupt disarms a due slot; an arm racing in from
            // elsewhere (interrupts are off there) cannot interleave here.
            slot.set(NEVER);
            if let Some(callback) = slot.callback.get() {
                callback();
            }
            fired += 1;
        }
        fired
    }
}

impl<const N: usize> Default for Slots<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    fn count_call() {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }
    fn nothing() {}

    #[test]
    fn the_earliest_of_several_armed_deadlines_is_programmed() {
        let slots = Slots::<3>::new();
        let (a, b, c) = (
            slots.claim(nothing).unwrap(),
            slots.claim(nothing).unwrap(),
            slots.claim(nothing).unwrap(),
        );
        assert_eq!(slots.earliest(), None, "nothing armed: no interrupt wanted");
        a.set(5_000);
        b.set(2_000);
        c.set(9_000);
        assert_eq!(slots.earliest(), Some(2_000));
        b.set(NEVER);
        assert_eq!(slots.earliest(), Some(5_000), "disarming the earliest");
        a.set(NEVER);
        c.set(NEVER);
        assert_eq!(slots.earliest(), None);
        assert_eq!(slots.claim(nothing).err(), Some(SlotsFull(3)));
    }

    #[test]
    fn due_deadlines_fire_once_and_later_ones_wait() {
        let slots = Slots::<2>::new();
        let (soon, late) = (
            slots.claim(count_call).unwrap(),
            slots.claim(count_call).unwrap(),
        );
        let before = CALLS.load(Ordering::SeqCst);
        soon.set(100);
        late.set(1_000);
        assert_eq!(slots.expire(99), 0);
        assert_eq!(slots.expire(500), 1);
        assert_eq!(soon.at(), NEVER, "a fired slot is disarmed");
        assert_eq!(slots.expire(500), 0, "and fires once");
        assert_eq!(slots.earliest(), Some(1_000));
        assert_eq!(CALLS.load(Ordering::SeqCst) - before, 1);
    }

    #[test]
    fn a_deadline_already_past_fires_at_the_next_expiry() {
        let slots = Slots::<1>::new();
        let slot = slots.claim(nothing).unwrap();
        slot.set(0);
        assert_eq!(slots.earliest(), Some(0));
        assert_eq!(slots.expire(1), 1);
        assert_eq!(slots.earliest(), None);
    }
}
