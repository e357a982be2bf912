//! Timer futures: [`sleep`], [`sleep_until`] and [`Interval`].
//!
//! Sleepers wait in a queue ordered by deadline. The timer interrupt only
//! compares the tick count with the earliest deadline and, once it has
//! come, wakes the timer task ([`run_timers`]), which wakes the sleepers
//! whose time has come. Sleeping tasks cost nothing while they sleep; the
//! interrupt never touches the queue (no lock, no allocation there).

use alloc::collections::BinaryHeap;
use core::cmp::{Ordering, Reverse};
use core::future::{Future, poll_fn};
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use spin::Mutex;

use crate::interrupts::timer::{self, DEADLINE_WAKER, TIMER_HZ};

struct Sleeper {
    deadline: u64,
    waker: Waker,
}

impl PartialEq for Sleeper {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline
    }
}
impl Eq for Sleeper {}
impl PartialOrd for Sleeper {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sleeper {
    fn cmp(&self, other: &Self) -> Ordering {
        self.deadline.cmp(&other.deadline)
    }
}

/// Sleepers by earliest deadline. Only task code touches it.
static SLEEPERS: Mutex<BinaryHeap<Reverse<Sleeper>>> = Mutex::new(BinaryHeap::new());

/// Tells the interrupt the earliest deadline in `sleepers`.
fn publish_next(sleepers: &BinaryHeap<Reverse<Sleeper>>) {
    timer::set_next_deadline(sleepers.peek().map_or(u64::MAX, |s| s.0.deadline));
}

/// Ticks to wait so that at least `duration` passes (rounded up).
pub fn ticks_for(duration: Duration) -> u64 {
    let tick_nanos = 1_000_000_000 / u128::from(TIMER_HZ);
    duration.as_nanos().div_ceil(tick_nanos) as u64
}

/// A future that completes at a tick.
pub struct Sleep {
    deadline: u64,
    registered: bool,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if timer::ticks() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.registered {
            self.registered = true;
            let mut sleepers = SLEEPERS.lock();
            sleepers.push(Reverse(Sleeper {
                deadline: self.deadline,
                waker: cx.waker().clone(),
            }));
            publish_next(&sleepers);
            drop(sleepers);
            // A tick between the check above and the publication saw the old
            // deadline: look again rather than wait a tick more.
            if timer::ticks() >= self.deadline {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

/// Completes at tick `deadline` (see [`timer::ticks`]).
pub fn sleep_until(deadline: u64) -> Sleep {
    Sleep {
        deadline,
        registered: false,
    }
}

/// Completes once at least `duration` has passed: the current tick is
/// already partly over, so one more tick is counted.
pub fn sleep(duration: Duration) -> Sleep {
    let ticks = ticks_for(duration);
    sleep_until(timer::ticks() + ticks + u64::from(ticks > 0))
}

/// Completes every `period`, without drift: each deadline follows the last.
pub struct Interval {
    next: u64,
    period: u64,
}

impl Interval {
    /// The first tick completes one period from now.
    pub fn new(period: Duration) -> Self {
        let period = ticks_for(period).max(1);
        Self {
            next: timer::ticks() + period,
            period,
        }
    }

    /// Waits for the next period.
    pub async fn tick(&mut self) {
        sleep_until(self.next).await;
        self.next += self.period;
    }
}

/// Wakes sleepers whose deadline has come. Runs forever as a task.
pub async fn run_timers() {
    loop {
        poll_fn(|cx| {
            // Register first, then check: a deadline passing in between
            // wakes the registered waker, so none is lost.
            DEADLINE_WAKER.register(cx.waker());
            let now = timer::ticks();
            let mut sleepers = SLEEPERS.lock();
            let mut woke = false;
            while sleepers.peek().is_some_and(|s| s.0.deadline <= now) {
                if let Some(Reverse(sleeper)) = sleepers.pop() {
                    sleeper.waker.wake();
                    woke = true;
                }
            }
            publish_next(&sleepers);
            if woke { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_to_ticks() {
        let tick = Duration::from_nanos(1_000_000_000 / u64::from(TIMER_HZ));
        assert_eq!(ticks_for(Duration::ZERO), 0);
        assert_eq!(ticks_for(Duration::from_nanos(1)), 1);
        assert_eq!(ticks_for(tick), 1);
        assert_eq!(ticks_for(tick + Duration::from_nanos(1)), 2);
        assert_eq!(ticks_for(Duration::from_secs(1)), u64::from(TIMER_HZ));
    }
}
