//! Timer futures: [`sleep`], [`sleep_until`] and [`Interval`].
//!
//! Sleepers wait in a map ordered by deadline (time since boot). The
//! earliest is armed on a timer deadline slot ([`timer::Deadline`]); when
//! it comes, the timer interrupt wakes the timer task ([`run_timers`]),
//! which wakes the sleepers whose time has come. Sleeping tasks cost
//! nothing while they sleep, and with no sleeper the timer is disarmed;
//! the interrupt never touches the map (no lock, no allocation there).
//!
//! A [`Sleep`] dropped before it fires (a cancelled command, a race lost)
//! takes its entry out of the map, so no waker of a task that may be gone
//! is kept, or woken, after it.

use alloc::collections::BTreeMap;
use core::future::{Future, poll_fn};
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use futures_util::task::AtomicWaker;
use spin::{Mutex, Once};

use crate::interrupts::timer::{self, Deadline};

/// Woken from the timer interrupt when the earliest sleeper's time has come.
static DEADLINE_WAKER: AtomicWaker = AtomicWaker::new();

/// The deadline slot the sleepers use (none if every slot was taken: then
/// sleeps end only when something else wakes the timer task).
fn deadline() -> Option<&'static Deadline> {
    static DEADLINE: Once<Option<Deadline>> = Once::new();
    DEADLINE
        .call_once(|| timer::claim_deadline(|| DEADLINE_WAKER.wake()).ok())
        .as_ref()
}

/// A sleeper's place in the map: its deadline, then a number that makes
/// sleepers with the same deadline distinct (and keeps them in the order
/// they started sleeping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SleeperKey {
    deadline: Duration,
    serial: u64,
}

/// Sleepers by earliest deadline. Only task code touches it.
static SLEEPERS: Mutex<BTreeMap<SleeperKey, Waker>> = Mutex::new(BTreeMap::new());

/// Arms the timer for the earliest deadline in `sleepers`, or disarms it.
/// An empty map gives back its last node, so that a burst of sleepers
/// leaves nothing allocated behind it.
fn publish_next(sleepers: &mut BTreeMap<SleeperKey, Waker>) {
    if sleepers.is_empty() {
        *sleepers = BTreeMap::new();
    }
    let Some(slot) = deadline() else { return };
    match sleepers.first_key_value() {
        Some((key, _)) if slot.armed_at() != Some(key.deadline) => slot.arm(key.deadline),
        Some(_) => {}
        None => slot.disarm(),
    }
}

/// How many sleepers wait for their deadline.
pub fn sleeper_count() -> usize {
    SLEEPERS.lock().len()
}

/// A future that completes at a time since boot. Dropping it before then
/// cancels it.
pub struct Sleep {
    deadline: Duration,
    /// Its entry in [`SLEEPERS`], once polled and until woken or dropped.
    registered: Option<SleeperKey>,
}

impl Sleep {
    /// Puts this sleep's waker in the map, or refreshes it there if it was
    /// polled with another waker since (the future moved to another task).
    /// Returns false when the timer task has already taken the entry: the
    /// deadline has come.
    fn register(&mut self, waker: &Waker) -> bool {
        let mut sleepers = SLEEPERS.lock();
        match self.registered {
            None => {
                static SERIAL: AtomicU64 = AtomicU64::new(0);
                let key = SleeperKey {
                    deadline: self.deadline,
                    serial: SERIAL.fetch_add(1, Ordering::Relaxed),
                };
                sleepers.insert(key, waker.clone());
                self.registered = Some(key);
                publish_next(&mut sleepers);
                true
            }
            Some(key) => match sleepers.get_mut(&key) {
                Some(stored) => {
                    if !stored.will_wake(waker) {
                        stored.clone_from(waker);
                    }
                    true
                }
                None => false,
            },
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if timer::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.register(cx.waker()) {
            // Taken by the timer task: its time has come (the check above
            // raced with the interrupt).
            return Poll::Ready(());
        }
        // A deadline that passed meanwhile is armed in the past, which
        // fires at once: the timer task wakes this task.
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.registered.take() {
            let mut sleepers = SLEEPERS.lock();
            // Absent if the timer task already took it to wake it.
            if sleepers.remove(&key).is_some() {
                publish_next(&mut sleepers);
            }
        }
    }
}

/// Completes at `deadline`, a time since boot (see [`timer::now`]).
pub fn sleep_until(deadline: Duration) -> Sleep {
    Sleep {
        deadline,
        registered: None,
    }
}

/// Completes once at least `duration` has passed.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(timer::now() + duration)
}

/// Completes every `period`, without drift: each deadline follows the last.
pub struct Interval {
    next: Duration,
    period: Duration,
}

impl Interval {
    /// The first tick completes one period from now.
    pub fn new(period: Duration) -> Self {
        let period = period.max(Duration::from_nanos(1));
        Self {
            next: timer::now() + period,
            period,
        }
    }

    /// Waits for the next period.
    pub async fn tick(&mut self) {
        sleep_until(self.next).await;
        self.next += self.period;
    }
}

/// Takes out the earliest sleeper if its deadline is `now` or before.
fn pop_due(now: Duration) -> Option<Waker> {
    let mut sleepers = SLEEPERS.lock();
    let (key, _) = sleepers.first_key_value()?;
    if key.deadline > now {
        return None;
    }
    sleepers.pop_first().map(|(_, waker)| waker)
}

/// Wakes sleepers whose deadline has come. Runs forever as a task.
pub async fn run_timers() {
    loop {
        poll_fn(|cx| {
            // Register first, then check: a deadline passing in between
            // wakes the registered waker, so none is lost.
            DEADLINE_WAKER.register(cx.waker());
            let now = timer::now();
            let mut woke = false;
            // One at a time, and woken outside the lock: a waker may do
            // anything, even drop a Sleep.
            while let Some(waker) = pop_due(now) {
                waker.wake();
                woke = true;
            }
            publish_next(&mut SLEEPERS.lock());
            if woke { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts its wakes.
    struct CountWakes(std::sync::atomic::AtomicUsize);

    impl alloc::task::Wake for CountWakes {
        fn wake(self: alloc::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_dropped_sleep_takes_its_waker_out_and_a_moved_one_follows() {
        use alloc::sync::Arc;
        let (first, second) = (
            Arc::new(CountWakes(0.into())),
            Arc::new(CountWakes(0.into())),
        );
        let (waker1, waker2) = (
            Waker::from(Arc::clone(&first)),
            Waker::from(Arc::clone(&second)),
        );
        // The host's clock stays at 0: this never fires.
        let mut sleep = alloc::boxed::Box::pin(sleep_until(Duration::from_secs(1_000)));
        assert!(
            sleep
                .as_mut()
                .poll(&mut Context::from_waker(&waker1))
                .is_pending()
        );
        assert_eq!(sleeper_count(), 1);
        assert_eq!(Arc::strong_count(&first), 3, "the map holds a clone");
        // Polled from another task: the map now holds that task's waker.
        assert!(
            sleep
                .as_mut()
                .poll(&mut Context::from_waker(&waker2))
                .is_pending()
        );
        assert_eq!(sleeper_count(), 1);
        assert_eq!(
            (Arc::strong_count(&first), Arc::strong_count(&second)),
            (2, 3)
        );
        drop(sleep);
        assert_eq!(sleeper_count(), 0);
        assert_eq!(
            Arc::strong_count(&second),
            2,
            "the waker left with the sleep"
        );
        assert_eq!(
            first.0.load(Ordering::SeqCst) + second.0.load(Ordering::SeqCst),
            0
        );
    }
}
