//! The system timer: PIT channel 0 on IRQ 0 at [`TIMER_HZ`], a tick
//! counter, and the time since the timer started.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use futures_util::task::AtomicWaker;

use super::irq::{self, IrqError};
use super::pic;
use crate::drivers::pit;

/// Timer interrupts per second. 100 Hz keeps an idle QEMU quiet (each tick
/// wakes the emulator) and gives 10 ms sleep granularity.
pub const TIMER_HZ: u32 = 100;

static TICKS: AtomicU64 = AtomicU64::new(0);
/// The earliest tick a sleeping task waits for (u64::MAX: none).
static NEXT_DEADLINE: AtomicU64 = AtomicU64::new(u64::MAX);
/// Woken from the interrupt when [`NEXT_DEADLINE`] has come.
pub static DEADLINE_WAKER: AtomicWaker = AtomicWaker::new();

/// Starts the PIT at [`TIMER_HZ`] and takes its line, IRQ 0.
pub fn init() -> Result<(), IrqError> {
    irq::register(pic::IRQ_TIMER, on_tick)?;
    pit::start_periodic(TIMER_HZ);
    Ok(())
}

/// The IRQ 0 handler.
fn on_tick() {
    let ticks = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
    if ticks >= NEXT_DEADLINE.load(Ordering::Acquire) {
        DEADLINE_WAKER.wake();
    }
}

/// Sets the earliest tick someone waits for; the interrupt wakes
/// [`DEADLINE_WAKER`] from that tick on. `u64::MAX` means none.
pub fn set_next_deadline(tick: u64) {
    NEXT_DEADLINE.store(tick, Ordering::Release);
}

/// Timer ticks since the timer started.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Time since the timer started, at tick resolution.
pub fn uptime() -> Duration {
    ticks_to_duration(ticks())
}

/// The duration of `ticks` timer ticks.
pub fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_nanos(ticks.saturating_mul(1_000_000_000 / u64::from(TIMER_HZ)))
}
