//! Time calls: `nanosleep` and `clock_gettime`.

use core::time::Duration;

use super::errno::{EINVAL, Errno};
use super::{Args, SysResult};
use crate::process::user_access::{copy_from_user, copy_to_user};

/// CLOCK_REALTIME.
pub const CLOCK_REALTIME: u64 = 0;
/// CLOCK_MONOTONIC.
pub const CLOCK_MONOTONIC: u64 = 1;
/// CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
/// CLOCK_BOOTTIME: answered from the same clocks.
const OTHER_CLOCKS: [u64; 4] = [4, 5, 6, 7];

/// A `struct timespec` from its two words, if valid.
pub fn timespec(sec: i64, nsec: i64) -> Result<Duration, Errno> {
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    Ok(Duration::new(sec as u64, nsec as u32))
}

fn to_words(time: Duration) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&time.as_secs().to_le_bytes());
    out[8..].copy_from_slice(&u64::from(time.subsec_nanos()).to_le_bytes());
    out
}

/// The longest stretch a sleeping program is not at a preemption point.
const SLEEP_STEP: Duration = Duration::from_millis(100);

/// Sleeps for `time` in steps of at most [`SLEEP_STEP`], passing a
/// preemption point after each, so a kill ends a long sleep soon. A time
/// past the end of the clock sleeps until killed.
fn sleep_killably(time: Duration) {
    let deadline = crate::time::since_boot().checked_add(time);
    loop {
        let now = crate::time::since_boot();
        let left = deadline.map_or(SLEEP_STEP, |d| d.saturating_sub(now));
        if left.is_zero() {
            return;
        }
        crate::sched::sleep(left.min(SLEEP_STEP));
        crate::sched::yield_now();
    }
}

/// `nanosleep(req, rem)`: sleeps; `rem` (if given) gets zero.
pub fn nanosleep(args: &Args) -> SysResult {
    let mut raw = [0u8; 16];
    copy_from_user(&mut raw, args[0])?;
    let word = |i: usize| i64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    let time = timespec(word(0), word(1))?;
    sleep_killably(time);
    if args[1] != 0 {
        copy_to_user(args[1], &to_words(Duration::ZERO))?;
    }
    Ok(0)
}

/// `clock_gettime(clock, tp)`: MONOTONIC is the time since boot; REALTIME
/// is the same until the kernel reads a wall clock (it counts from the
/// epoch plus the time since boot: 1970 at boot).
pub fn clock_gettime(args: &Args) -> SysResult {
    let clock = args[0];
    if clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && !OTHER_CLOCKS.contains(&clock) {
        return Err(EINVAL);
    }
    copy_to_user(args[1], &to_words(crate::time::since_boot()))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespecs_are_checked() {
        assert_eq!(timespec(1, 500), Ok(Duration::new(1, 500)));
        assert_eq!(timespec(-1, 0), Err(EINVAL));
        assert_eq!(timespec(0, 1_000_000_000), Err(EINVAL));
        assert_eq!(timespec(0, -1), Err(EINVAL));
    }

    #[test]
    fn timespec_words() {
        let w = to_words(Duration::new(3, 7));
        assert_eq!(u64::from_le_bytes(w[..8].try_into().unwrap()), 3);
        assert_eq!(u64::from_le_bytes(w[8..].try_into().unwrap()), 7);
    }
}
