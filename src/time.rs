//! Time since the kernel started, from the time-stamp counter (TSC)
//! calibrated against the PIT, or against the RTC's periodic interrupt where
//! the PIT gives no plausible answer (a board that gates it).

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use crate::arch::read_tsc;
use crate::drivers::{pit, rtc};

static BOOT_TSC: AtomicU64 = AtomicU64::new(0);
/// TSC ticks per second; 0 until [`calibrate`] succeeds.
static TSC_HZ: AtomicU64 = AtomicU64::new(0);

/// How long the calibration watches the PIT. Longer is more precise but
/// delays the boot; 2 ms gives the frequency to about 0.1%.
const CALIBRATION_MICROS: u32 = 2_000;

/// Marks now as time zero. Call first thing at kernel entry.
pub fn mark_boot() {
    BOOT_TSC.store(read_tsc(), Ordering::Relaxed);
}

/// The slowest and fastest TSC a 64-bit x86 CPU has: a measurement outside
/// means the time base did not work (a PIT that does not count gives a few
/// MHz), not that the CPU is that slow.
pub const PLAUSIBLE_TSC_HZ: core::ops::RangeInclusive<u64> = 200_000_000..=20_000_000_000;

/// RTC periods (1/1024 s) the fallback calibration watches: 31 ms.
const RTC_CALIBRATION_PERIODS: u32 = 32;

/// Which clock the TSC was measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBase {
    /// The PIT, as usual.
    Pit,
    /// The RTC's periodic interrupt, because the PIT's answer was not
    /// plausible: the frequency it gave (0 if none).
    Rtc {
        /// What the PIT measurement gave, in Hz.
        pit_hz: u64,
    },
}

/// Why the TSC could not be calibrated: what each clock gave (0: no answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalibrationError {
    /// The PIT's measurement, in Hz.
    pub pit_hz: u64,
    /// The RTC's measurement, in Hz.
    pub rtc_hz: u64,
}

/// Measures the TSC frequency against the PIT, or against the RTC if the
/// PIT's answer is not plausible, and returns it in Hz with the clock used.
/// On failure, timestamps stay at zero.
pub fn calibrate() -> Result<(u64, TimeBase), CalibrationError> {
    let pit_hz = pit::measure_tsc_ticks(CALIBRATION_MICROS)
        .map_or(0, |ticks| ticks * 1_000_000 / u64::from(CALIBRATION_MICROS));
    if PLAUSIBLE_TSC_HZ.contains(&pit_hz) {
        TSC_HZ.store(pit_hz, Ordering::Relaxed);
        return Ok((pit_hz, TimeBase::Pit));
    }
    let rtc_hz = rtc::measure_tsc_ticks(RTC_CALIBRATION_PERIODS).map_or(0, |(ticks, hz)| {
        ticks * u64::from(hz) / u64::from(RTC_CALIBRATION_PERIODS)
    });
    if PLAUSIBLE_TSC_HZ.contains(&rtc_hz) {
        TSC_HZ.store(rtc_hz, Ordering::Relaxed);
        return Ok((rtc_hz, TimeBase::Rtc { pit_hz }));
    }
    Err(CalibrationError { pit_hz, rtc_hz })
}

/// The calibrated TSC frequency in Hz, if known.
pub fn tsc_hz() -> Option<u64> {
    match TSC_HZ.load(Ordering::Relaxed) {
        0 => None,
        hz => Some(hz),
    }
}

/// Time since [`mark_boot`] (zero until the TSC is calibrated).
pub fn since_boot() -> Duration {
    since_boot_at(read_tsc())
}

/// The time since [`mark_boot`] at which the TSC read `tsc` (zero until
/// the TSC is calibrated).
pub fn since_boot_at(tsc: u64) -> Duration {
    let Some(hz) = tsc_hz() else {
        return Duration::ZERO;
    };
    ticks_to_duration(tsc.saturating_sub(BOOT_TSC.load(Ordering::Relaxed)), hz)
}

/// The TSC value `nanos` nanoseconds after [`mark_boot`], if calibrated.
pub fn tsc_at(nanos: u64) -> Option<u64> {
    let hz = tsc_hz()?;
    // Rounded up: a deadline never fires before its time, which would
    // find nothing due and cost a second interrupt.
    let ticks = (u128::from(nanos) * u128::from(hz)).div_ceil(1_000_000_000);
    let boot = BOOT_TSC.load(Ordering::Relaxed);
    Some(boot.saturating_add(ticks.min(u128::from(u64::MAX)) as u64))
}

/// Converts TSC ticks at `hz` to a duration without overflow.
pub fn ticks_to_duration(ticks: u64, hz: u64) -> Duration {
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(hz);
    Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_ticks_exactly() {
        assert_eq!(
            ticks_to_duration(3_000_000_000, 3_000_000_000),
            Duration::from_secs(1)
        );
        assert_eq!(
            ticks_to_duration(1_500, 1_000_000_000),
            Duration::from_nanos(1_500)
        );
        assert_eq!(ticks_to_duration(0, 1), Duration::ZERO);
    }

    #[test]
    fn huge_tick_counts_do_not_overflow() {
        // A year at 4 GHz is 1.26e17 ticks; u64::MAX ticks at 1 Hz saturates.
        let year = ticks_to_duration(4_000_000_000 * 31_536_000, 4_000_000_000);
        assert_eq!(year, Duration::from_secs(31_536_000));
        assert_eq!(
            ticks_to_duration(u64::MAX, 1),
            Duration::from_nanos(u64::MAX)
        );
    }
}
