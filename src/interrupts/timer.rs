//! The timer: time from the TSC, and deadlines ([`Deadline`]) with the
//! hardware always programmed for the earliest armed one and never
//! periodically (tickless): an idle machine with nothing due takes no timer
//! interrupt.
//!
//! The hardware, best first: the local APIC timer in TSC-deadline mode, the
//! local APIC timer in one-shot mode (its rate measured against the TSC),
//! or, without an APIC, the PIT in one-shot mode (at most ~55 ms per shot,
//! so a far deadline costs a wake-up every 55 ms). Where the PIT does not
//! tick (a board that gates it), the RTC's periodic interrupt drives the
//! deadlines: it has no one-shot mode, so that last fallback is periodic.
//!
//! The slots serve the boot CPU's timer. With more CPUs, each gets its own
//! slots and local APIC timer (the same code, reached per CPU); clients
//! such as the scheduler's time slice claim one on the CPU they run on.

use core::fmt;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use core::time::Duration;

use super::apic::local::{self, LocalApic, TIMER_VECTOR};
use super::deadline::{DeadlineCallback, NEVER, Slot, Slots, SlotsFull};
use super::irq::{self, IrqError};
use crate::arch::read_tsc;
use crate::drivers::{pit, rtc};
use crate::time;

/// Deadline slots: the async sleepers and the scheduler's time slice, with
/// room to spare.
pub const DEADLINE_SLOTS: usize = 4;
static SLOTS: Slots<DEADLINE_SLOTS> = Slots::new();

/// What raises the timer interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TimerSource {
    /// Nothing: deadlines never come.
    None = 0,
    /// The local APIC timer in TSC-deadline mode.
    TscDeadline = 1,
    /// The local APIC timer in one-shot mode.
    ApicOneShot = 2,
    /// The PIT's channel 0 in one-shot mode, on IRQ 0.
    Pit = 3,
    /// The RTC's periodic interrupt on IRQ 8 (the PIT does not tick).
    Rtc = 4,
}

impl fmt::Display for TimerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "no timer",
            Self::TscDeadline => "TSC-deadline timer",
            Self::ApicOneShot => "one-shot APIC timer",
            Self::Pit => "PIT one-shot timer",
            Self::Rtc => "RTC periodic timer",
        })
    }
}

impl TimerSource {
    /// A one-word name for machine-readable output.
    pub fn key(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::TscDeadline => "tsc_deadline",
            Self::ApicOneShot => "apic_one_shot",
            Self::Pit => "pit_one_shot",
            Self::Rtc => "rtc_periodic",
        }
    }
}

static SOURCE: AtomicU8 = AtomicU8::new(TimerSource::None as u8);
/// The one-shot APIC timer's counts per second.
static APIC_TIMER_HZ: AtomicU64 = AtomicU64::new(0);
/// Timer interrupts taken since boot.
static INTERRUPTS: AtomicU64 = AtomicU64::new(0);
/// Timer interrupts that found no deadline due (early, or the PIT's
/// longest shot ending before a far deadline).
static IDLE_INTERRUPTS: AtomicU64 = AtomicU64::new(0);

/// The timer in use.
pub fn source() -> TimerSource {
    match SOURCE.load(Ordering::Relaxed) {
        1 => TimerSource::TscDeadline,
        2 => TimerSource::ApicOneShot,
        3 => TimerSource::Pit,
        4 => TimerSource::Rtc,
        _ => TimerSource::None,
    }
}

fn set_source(source: TimerSource) {
    SOURCE.store(source as u8, Ordering::Relaxed);
}

/// Timer interrupts taken since boot.
pub fn interrupt_count() -> u64 {
    INTERRUPTS.load(Ordering::Relaxed)
}

/// Timer interrupts since boot that found no deadline due.
pub fn idle_interrupt_count() -> u64 {
    IDLE_INTERRUPTS.load(Ordering::Relaxed)
}

/// The one-shot APIC timer's rate in Hz (0 unless that mode is in use).
pub fn apic_timer_hz() -> u64 {
    APIC_TIMER_HZ.load(Ordering::Relaxed)
}

/// Time since boot, from the TSC.
pub fn now() -> Duration {
    time::since_boot()
}

fn nanos(at: Duration) -> u64 {
    at.as_nanos().min(u128::from(NEVER - 1)) as u64
}

/// A claimed deadline slot: arm it for a time since boot and its callback
/// runs from the timer interrupt once that time has come.
pub struct Deadline {
    slot: &'static Slot,
}

impl Deadline {
    /// Fires at `at` (time since boot; a time already past fires at once),
    /// replacing any earlier arming.
    pub fn arm(&self, at: Duration) {
        crate::arch::without_interrupts(|| {
            self.slot.set(nanos(at));
            reprogram();
        });
    }

    /// Cancels the deadline.
    pub fn disarm(&self) {
        crate::arch::without_interrupts(|| {
            self.slot.set(NEVER);
            reprogram();
        });
    }

    /// When the deadline fires, if armed.
    pub fn armed_at(&self) -> Option<Duration> {
        match self.slot.at() {
            NEVER => None,
            at => Some(Duration::from_nanos(at)),
        }
    }
}

/// Claims a deadline slot for good; `callback` runs from the timer
/// interrupt (interrupts off: it must not block) each time it comes due.
pub fn claim_deadline(callback: DeadlineCallback) -> Result<Deadline, SlotsFull> {
    SLOTS.claim(callback).map(|slot| Deadline { slot })
}

/// Programs the hardware for the earliest armed deadline, or for none.
/// Called with interrupts off.
fn reprogram() {
    let at = SLOTS.earliest();
    match source() {
        TimerSource::TscDeadline => {
            let tsc = at.and_then(time::tsc_at).map_or(0, |tsc| tsc.max(1));
            if let Some(lapic) = local::get() {
                lapic.arm_tsc_deadline(tsc);
            }
        }
        TimerSource::ApicOneShot => {
            let count = at.map_or(0, |at| apic_count_until(at, apic_timer_hz()));
            if let Some(lapic) = local::get() {
                lapic.start_count(count);
            }
        }
        TimerSource::Pit => match at {
            Some(at) => pit::start_one_shot(pit::one_shot_count(at.saturating_sub(nanos(now())))),
            None => pit::stop_channel0(),
        },
        TimerSource::Rtc | TimerSource::None => {}
    }
}

/// The one-shot count from now to `at` at `hz` (at least 1; a deadline
/// beyond the 32-bit count fires early and is reprogrammed). The count is
/// stretched by 1/256 (0.8 ms late on a 200 ms sleep): the rate measured
/// under an emulator was seen 0.12 % off, and an interrupt a hair early
/// finds nothing due and costs a second one.
fn apic_count_until(at: u64, hz: u64) -> u32 {
    let delta = u128::from(at.saturating_sub(nanos(now())));
    let count = delta * u128::from(hz) / 1_000_000_000;
    (count + count / 256).clamp(1, u128::from(u32::MAX)) as u32
}

/// The timer interrupt: runs the callbacks of the deadlines that have come,
/// then programs the next.
fn on_interrupt() {
    INTERRUPTS.fetch_add(1, Ordering::Relaxed);
    if SLOTS.expire(nanos(now())) == 0 {
        IDLE_INTERRUPTS.fetch_add(1, Ordering::Relaxed);
    }
    reprogram();
}

/// Starts the local APIC timer (the APIC is on): TSC-deadline mode if the
/// CPU has it and the TSC is calibrated, else one-shot mode at a rate
/// measured against the TSC. Stops the PIT, which the firmware left
/// running. Call with interrupts off.
pub fn start_apic(lapic: &LocalApic) -> Result<TimerSource, IrqError> {
    irq::register_vector(local::ERROR_VECTOR, local::on_error)?;
    irq::register_vector(TIMER_VECTOR, on_interrupt)?;
    pit::stop_channel0();
    let source = if time::tsc_hz().is_none() {
        TimerSource::None
    } else if lapic.features().tsc_deadline {
        lapic.timer_tsc_deadline(TIMER_VECTOR);
        TimerSource::TscDeadline
    } else {
        match measure_apic_timer(lapic) {
            Some(hz) => {
                APIC_TIMER_HZ.store(hz, Ordering::Relaxed);
                lapic.timer_one_shot(TIMER_VECTOR, false);
                TimerSource::ApicOneShot
            }
            None => TimerSource::None,
        }
    };
    set_source(source);
    reprogram();
    Ok(source)
}

/// How long the APIC timer's rate is measured: long enough for 0.1 %.
const APIC_CALIBRATION_MICROS: u64 = 10_000;

/// Counts of the one-shot APIC timer per second, measured against the
/// calibrated TSC with its interrupt masked.
fn measure_apic_timer(lapic: &LocalApic) -> Option<u64> {
    let tsc_hz = time::tsc_hz()?;
    lapic.timer_one_shot(TIMER_VECTOR, true);
    lapic.start_count(u32::MAX);
    let (tsc0, count0) = sample_count(lapic, tsc_hz);
    let span = tsc_hz / 1_000_000 * APIC_CALIBRATION_MICROS;
    // Bounded: the TSC always advances.
    while read_tsc().wrapping_sub(tsc0) < span {
        core::hint::spin_loop();
    }
    let (tsc1, count1) = sample_count(lapic, tsc_hz);
    lapic.start_count(0);
    let counted = u128::from(count0.saturating_sub(count1));
    let hz = counted * u128::from(tsc_hz) / u128::from(tsc1.wrapping_sub(tsc0).max(1));
    (hz > 0).then_some(hz as u64)
}

/// The APIC timer's current count with the TSC at the moment it was read:
/// the middle of two TSC reads around it, retried while they lie far apart
/// (an emulator's CPU thread descheduled between them), so that a pause
/// cannot skew the rate by a whole time slice.
fn sample_count(lapic: &LocalApic, tsc_hz: u64) -> (u64, u32) {
    const ATTEMPTS: u32 = 8;
    let tight = tsc_hz / 100_000; // 10 us
    let mut sample = (0, 0);
    for _ in 0..ATTEMPTS {
        let before = read_tsc();
        let count = lapic.current_count();
        let after = read_tsc();
        sample = (before + (after - before) / 2, count);
        if after - before <= tight {
            break;
        }
    }
    sample
}

/// Takes IRQ 0 for the PIT in one-shot mode (no APIC). [`ensure_ticking`]
/// then checks that it really interrupts.
pub fn start_pit() -> Result<TimerSource, IrqError> {
    irq::register(super::pic::IRQ_TIMER, on_pit_interrupt)?;
    set_source(TimerSource::Pit);
    x86_64::instructions::interrupts::without_interrupts(reprogram);
    Ok(TimerSource::Pit)
}

/// The RTC's interrupt line.
pub const IRQ_RTC: u8 = 8;
/// The RTC's rate when it drives the deadlines (a power of two): 8 ms
/// granularity.
pub const RTC_TIMER_HZ: u32 = 128;
/// How long a probe interrupt may take before the PIT is called silent.
const SILENCE_MICROS: u64 = 50_000;
/// A bound on the silence check's spins where the TSC is not calibrated.
const SILENCE_SPINS: u64 = 50_000_000;

/// Whether a timer interrupt came after the count was `start`, waiting up
/// to [`SILENCE_MICROS`]. Interrupts must be on. Bounded by the TSC, or by
/// a spin count if not calibrated.
fn interrupt_comes(start: u64) -> bool {
    let tsc_start = read_tsc();
    let limit = time::tsc_hz().map(|hz| hz / 1_000_000 * SILENCE_MICROS);
    let mut spins = 0u64;
    while interrupt_count() == start {
        spins += 1;
        let spent = read_tsc().wrapping_sub(tsc_start);
        if limit.map_or(spins >= SILENCE_SPINS, |limit| spent >= limit) {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

/// With the PIT as the timer, checks that a one-shot of 1 ms raises IRQ 0,
/// and if it stays silent, drives the deadlines from the RTC instead.
/// Call once, with interrupts on; other timers are returned as they are.
///
/// Only an interrupt proves the PIT works: its channel 2 can count (the
/// TSC calibration) while channel 0 is gated or its line taken by an HPET
/// in legacy replacement mode.
pub fn ensure_ticking() -> TimerSource {
    if source() != TimerSource::Pit {
        return source();
    }
    // The count is read before the probe is armed: an IRQ 0 the firmware's
    // periodic PIT left pending comes as soon as interrupts are on, and its
    // handler (nothing due) stops the PIT, probe and all. It still proves
    // IRQ 0 works.
    let start = x86_64::instructions::interrupts::without_interrupts(|| {
        pit::start_one_shot(pit::one_shot_count(1_000_000));
        interrupt_count()
    });
    if interrupt_comes(start) {
        return TimerSource::Pit;
    }
    let (start, registered) = x86_64::instructions::interrupts::without_interrupts(|| {
        set_source(TimerSource::Rtc);
        rtc::start_periodic(RTC_TIMER_HZ);
        (interrupt_count(), irq::register(IRQ_RTC, on_rtc_interrupt))
    });
    if registered.is_err() || !interrupt_comes(start) {
        set_source(TimerSource::None);
    }
    source()
}

/// IRQ 0. Once the RTC drives the deadlines, a PIT that starts late is
/// ignored.
fn on_pit_interrupt() {
    if source() == TimerSource::Pit {
        on_interrupt();
    }
}

/// IRQ 8: acknowledges the RTC and, when it drives the deadlines, checks
/// them.
fn on_rtc_interrupt() {
    if rtc::take_interrupt() && source() == TimerSource::Rtc {
        on_interrupt();
    }
}
