//! The 8253/8254 programmable interval timer (PIT), ports 0x40-0x43, and the
//! gate of its channel 2 in port 0x61.
//!
//! The PIT serves two purposes: a known time base to measure the TSC
//! frequency against (channel 2 in one-shot mode, polled), and, where there
//! is no APIC, the timer interrupt (channel 0 in one-shot mode, IRQ 0).

use x86_64::instructions::port::Port;

/// The PIT's input clock in Hz.
pub const PIT_FREQUENCY_HZ: u64 = 1_193_182;

const CHANNEL0_DATA: u16 = 0x40;
const CHANNEL2_DATA: u16 = 0x42;
const COMMAND: u16 = 0x43;
/// Bit 0: channel 2 gate; bit 1: speaker enable; bit 5 (read): channel 2 output.
const SYSTEM_CONTROL_B: u16 = 0x61;
const GATE2: u8 = 1 << 0;
const SPEAKER: u8 = 1 << 1;
const OUT2: u8 = 1 << 5;
/// Channel 2, low byte then high byte, mode 0 (interrupt on terminal count), binary.
const CHANNEL2_ONE_SHOT: u8 = 0b1011_0000;
/// Channel 0, low byte then high byte, mode 2 (rate generator), binary.
const CHANNEL0_PERIODIC: u8 = 0b0011_0100;
/// Channel 0, low byte then high byte, mode 0 (interrupt on terminal
/// count), binary. Writing it drives the output low and stops the count
/// until a new count is written.
const CHANNEL0_ONE_SHOT: u8 = 0b0011_0000;
/// The longest one-shot: the 16-bit counter's maximum, about 55 ms.
pub const MAX_ONE_SHOT_COUNT: u16 = 0xFFFF;
/// An upper bound on polls of the output bit, so a missing PIT cannot hang boot.
const MAX_POLLS: u32 = 50_000_000;

/// Measures how many TSC ticks pass in `micros` microseconds (at most 54 ms,
/// the longest one-shot the 16-bit counter allows). Returns `None` if the
/// channel-2 output never went high.
pub fn measure_tsc_ticks(micros: u32) -> Option<u64> {
    let count = (PIT_FREQUENCY_HZ * u64::from(micros) / 1_000_000).clamp(1, 0xFFFF) as u16;
    let mut control: Port<u8> = Port::new(SYSTEM_CONTROL_B);
    let mut command: Port<u8> = Port::new(COMMAND);
    let mut data: Port<u8> = Port::new(CHANNEL2_DATA);

    // SAFETY: these are the PIT's and system control port B's registers; this
    // module is the only code that touches them, and the sequence below only
    // changes channel 2 (not the system timer on channel 0) and keeps the
    // speaker off.
    unsafe {
        let saved = control.read();
        control.write(saved & !(GATE2 | SPEAKER));
        command.write(CHANNEL2_ONE_SHOT);
        data.write(count as u8);
        data.write((count >> 8) as u8);

        let start = crate::arch::read_tsc();
        control.write((saved & !SPEAKER) | GATE2);
        let mut polls = 0;
        while control.read() & OUT2 == 0 {
            polls += 1;
            if polls == MAX_POLLS {
                control.write(saved);
                return None;
            }
        }
        let end = crate::arch::read_tsc();
        control.write(saved);
        Some(end - start)
    }
}

/// The divisor that makes channel 0 tick at `hz` (clamped to what 16 bits allow).
pub const fn divisor_for(hz: u32) -> u16 {
    let divisor = (PIT_FREQUENCY_HZ + hz as u64 / 2) / hz as u64;
    if divisor > 0xFFFF {
        0xFFFF
    } else if divisor < 1 {
        1
    } else {
        divisor as u16
    }
}

/// Programs channel 0 (IRQ 0) to interrupt `hz` times a second and returns
/// the exact rate the divisor gives.
pub fn start_periodic(hz: u32) -> f64 {
    let divisor = divisor_for(hz);
    let mut command: Port<u8> = Port::new(COMMAND);
    let mut data: Port<u8> = Port::new(CHANNEL0_DATA);
    // SAFETY: the PIT's ports belong to this module; this sets channel 0's
    // mode and divisor, nothing else.
    unsafe {
        command.write(CHANNEL0_PERIODIC);
        data.write(divisor as u8);
        data.write((divisor >> 8) as u8);
    }
    PIT_FREQUENCY_HZ as f64 / f64::from(divisor)
}

/// PIT input clock periods in `nanos` nanoseconds, rounded up and clamped
/// to what one one-shot can count (1 to [`MAX_ONE_SHOT_COUNT`]).
pub fn one_shot_count(nanos: u64) -> u16 {
    let count = (u128::from(nanos) * u128::from(PIT_FREQUENCY_HZ)).div_ceil(1_000_000_000);
    count.clamp(1, u128::from(MAX_ONE_SHOT_COUNT)) as u16
}

/// Makes channel 0 raise IRQ 0 once, `count` input clock periods from now
/// (mode 0). A count in progress is replaced.
pub fn start_one_shot(count: u16) {
    let mut command: Port<u8> = Port::new(COMMAND);
    let mut data: Port<u8> = Port::new(CHANNEL0_DATA);
    // SAFETY: the PIT's ports belong to this module; this sets channel 0's
    // mode and count, nothing else.
    unsafe {
        command.write(CHANNEL0_ONE_SHOT);
        data.write(count as u8);
        data.write((count >> 8) as u8);
    }
}

/// Stops channel 0: mode 0 without a count waits, its output low, so IRQ 0
/// stays quiet (the firmware leaves it running periodically).
pub fn stop_channel0() {
    let mut command: Port<u8> = Port::new(COMMAND);
    // SAFETY: as in `start_one_shot`; only the mode is written.
    unsafe { command.write(CHANNEL0_ONE_SHOT) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisors() {
        assert_eq!(divisor_for(100), 11932);
        assert_eq!(divisor_for(1000), 1193);
        assert_eq!(divisor_for(1), 0xFFFF);
        assert_eq!(divisor_for(2_000_000), 1);
    }

    #[test]
    fn one_shot_counts_round_up_and_clamp() {
        assert_eq!(one_shot_count(0), 1);
        assert_eq!(one_shot_count(1_000_000), 1194);
        assert_eq!(one_shot_count(10_000_000), 11932);
        assert_eq!(one_shot_count(1_000_000_000), MAX_ONE_SHOT_COUNT);
    }
}
