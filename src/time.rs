//! Time since the kernel started, from the time-stamp counter (TSC)
//! calibrated against the PIT.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use crate::arch::read_tsc;
use crate::drivers::pit;

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

/// Measures the TSC frequency against the PIT and returns it in Hz, or
/// `None` if the PIT did not answer (timestamps then stay at zero).
pub fn calibrate() -> Option<u64> {
    let ticks = pit::measure_tsc_ticks(CALIBRATION_MICROS)?;
    let hz = ticks * 1_000_000 / u64::from(CALIBRATION_MICROS);
    if hz == 0 {
        return None;
    }
    TSC_HZ.store(hz, Ordering::Relaxed);
    Some(hz)
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
    let Some(hz) = tsc_hz() else {
        return Duration::ZERO;
    };
    let ticks = read_tsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed));
    ticks_to_duration(ticks, hz)
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
