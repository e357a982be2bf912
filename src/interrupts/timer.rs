//! The system timer: PIT channel 0 on IRQ 0 at [`TIMER_HZ`], a tick
//! counter, and the time since the timer started. Where the PIT does not
//! tick (a board that gates it), the RTC's periodic interrupt on IRQ 8 takes
//! over: it runs at a power of two ([`RTC_TIMER_HZ`]), and its interrupts
//! are thinned to [`TIMER_HZ`] ticks a second, so every user of ticks sees
//! the same rate whichever clock drives them.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use core::time::Duration;

use futures_util::task::AtomicWaker;

use super::irq::{self, IrqError};
use super::pic;
use crate::drivers::{pit, rtc};

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
    irq::register(pic::IRQ_TIMER, on_pit_tick)?;
    pit::start_periodic(TIMER_HZ);
    Ok(())
}

/// The RTC's interrupt line.
pub const IRQ_RTC: u8 = 8;
/// The RTC rate when it drives the timer: a power of two above
/// [`TIMER_HZ`], so each RTC interrupt makes at most one tick.
pub const RTC_TIMER_HZ: u32 = 256;
/// How long the PIT may stay silent before the RTC takes over: five ticks.
const SILENCE_MICROS: u64 = 50_000;
/// A bound on the silence check's spins where the TSC is not calibrated.
const SILENCE_SPINS: u64 = 50_000_000;

/// The RTC drives the ticks.
static RTC_DRIVEN: AtomicBool = AtomicBool::new(false);
/// Ticks owed, in units of 1/RTC_TIMER_HZ s: grows by TIMER_HZ per RTC
/// interrupt; each RTC_TIMER_HZ make a tick. Only the IRQ 8 handler writes it.
static RTC_CREDIT: AtomicU32 = AtomicU32::new(0);

/// What drives the timer ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickSource {
    /// The PIT, on IRQ 0.
    Pit,
    /// The RTC's periodic interrupt on IRQ 8, because the PIT stayed silent.
    Rtc,
    /// Neither ticks: sleeps will not end.
    None,
}

/// Whether the tick count moves within [`SILENCE_MICROS`]. Interrupts must
/// be on. Bounded by the TSC, or by a spin count if it is not calibrated.
fn ticks_advance() -> bool {
    let start = ticks();
    let tsc_start = crate::arch::read_tsc();
    let limit = crate::time::tsc_hz().map(|hz| hz / 1_000_000 * SILENCE_MICROS);
    let mut spins = 0u64;
    while ticks() == start {
        spins += 1;
        let spent = crate::arch::read_tsc().wrapping_sub(tsc_start);
        if limit.map_or(spins >= SILENCE_SPINS, |limit| spent >= limit) {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

/// Checks that the timer ticks, and if the PIT stays silent, drives the
/// ticks from the RTC instead. Call once, with interrupts on.
///
/// This waits for a real tick (up to one period, 10 ms) on every boot: a
/// PIT whose channel 2 counted during the TSC calibration can still fail to
/// raise IRQ 0 (channel 0 gated, or the line taken by an HPET in legacy
/// replacement mode), and only a tick proves the timer works.
pub fn ensure_ticking() -> TickSource {
    if ticks_advance() {
        return TickSource::Pit;
    }
    let registered = x86_64::instructions::interrupts::without_interrupts(|| {
        RTC_DRIVEN.store(true, Ordering::Relaxed);
        rtc::start_periodic(RTC_TIMER_HZ);
        irq::register(IRQ_RTC, on_rtc_interrupt)
    });
    if registered.is_err() {
        return TickSource::None;
    }
    if ticks_advance() {
        TickSource::Rtc
    } else {
        TickSource::None
    }
}

/// The IRQ 8 handler: acknowledges the RTC and, when it drives the timer,
/// makes a tick every RTC_TIMER_HZ / TIMER_HZ interrupts.
fn on_rtc_interrupt() {
    if !rtc::take_interrupt() || !RTC_DRIVEN.load(Ordering::Relaxed) {
        return;
    }
    let credit = RTC_CREDIT.load(Ordering::Relaxed) + TIMER_HZ;
    if credit >= RTC_TIMER_HZ {
        RTC_CREDIT.store(credit - RTC_TIMER_HZ, Ordering::Relaxed);
        on_tick();
    } else {
        RTC_CREDIT.store(credit, Ordering::Relaxed);
    }
}

/// The IRQ 0 handler. Once the RTC drives the ticks, a PIT that starts
/// late is ignored, or time would run at twice its rate.
fn on_pit_tick() {
    if !RTC_DRIVEN.load(Ordering::Relaxed) {
        on_tick();
    }
}

/// Counts a tick and wakes the sleepers whose deadline has come.
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
