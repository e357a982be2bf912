//! The CMOS real-time clock's periodic interrupt (MC146818: index port
//! 0x70, data port 0x71; registers A, B and C). Pyrite uses it as a second
//! time base where the PIT does not tick (some boards gate the PIT; QEMU's
//! `-machine pc,pit=off`): to calibrate the TSC, and to drive the timer on
//! IRQ 8. The clock's date and time registers are not touched.

use x86_64::instructions::port::Port;

const INDEX: u16 = 0x70;
const DATA: u16 = 0x71;
/// Bit 7 of the index port keeps NMIs off while a register is selected.
const NMI_OFF: u8 = 0x80;
const REGISTER_A: u8 = 0x0A;
const REGISTER_B: u8 = 0x0B;
const REGISTER_C: u8 = 0x0C;
/// Register B: periodic interrupt enable.
const PIE: u8 = 1 << 6;
/// Register C: periodic flag (set at every period, cleared by reading C).
const PF: u8 = 1 << 6;
/// The RTC's time-base oscillator, 32.768 kHz.
const BASE_HZ: u32 = 32_768;
/// An upper bound on polls of register C, so a missing RTC cannot hang boot
/// (each poll is two port accesses, about a microsecond or more).
const MAX_POLLS: u32 = 5_000_000;

/// The rate-select code for `hz` (a power of two from 2 to 8192 Hz):
/// the rate is 32768 >> (code - 1).
pub const fn rate_code(hz: u32) -> u8 {
    let mut code = 1u8;
    while code < 15 && (BASE_HZ >> (code - 1)) > hz {
        code += 1;
    }
    code
}

/// The rate in Hz that rate code `code` gives.
pub const fn rate_hz(code: u8) -> u32 {
    BASE_HZ >> (code - 1)
}

/// The index left selected between accesses: register D (read-only),
/// with bit 7 clear, so NMIs are enabled again.
const RESTING_INDEX: u8 = 0x0D;

fn read(register: u8) -> u8 {
    let mut index: Port<u8> = Port::new(INDEX);
    let mut data: Port<u8> = Port::new(DATA);
    // SAFETY: the RTC's ports belong to this module; selecting a register
    // and reading it changes nothing but register C's flags (on purpose).
    // Bit 7 of the index masks NMIs during the access (the index port
    // carries the NMI mask); the resting index clears it again after.
    unsafe {
        index.write(NMI_OFF | register);
        let value = data.read();
        index.write(RESTING_INDEX);
        value
    }
}

fn write(register: u8, value: u8) {
    let mut index: Port<u8> = Port::new(INDEX);
    let mut data: Port<u8> = Port::new(DATA);
    // SAFETY: as in `read`; callers write only registers A and B's rate and
    // interrupt-enable bits; NMIs are masked only for the access.
    unsafe {
        index.write(NMI_OFF | register);
        data.write(value);
        index.write(RESTING_INDEX);
    }
}

/// Starts the periodic interrupt at `hz` (rounded down to a power of two)
/// and returns the rate set. The line is IRQ 8.
pub fn start_periodic(hz: u32) -> u32 {
    let code = rate_code(hz);
    write(REGISTER_A, (read(REGISTER_A) & 0xF0) | code);
    write(REGISTER_B, read(REGISTER_B) | PIE);
    read(REGISTER_C);
    rate_hz(code)
}

/// Acknowledges the RTC's interrupt; returns whether a period ended. The
/// IRQ 8 handler must call it, or the RTC raises no further interrupt.
pub fn take_interrupt() -> bool {
    read(REGISTER_C) & PF != 0
}

/// Waits for the next periodic flag, at most [`MAX_POLLS`] polls.
fn wait_period() -> bool {
    (0..MAX_POLLS).any(|_| read(REGISTER_C) & PF != 0)
}

/// Measures how many TSC ticks pass in `periods` periods of 1/1024 s,
/// polling register C with interrupts off for the RTC (IRQ 8 stays masked).
/// Returns `None` if the RTC does not tick. Restores registers A and B.
pub fn measure_tsc_ticks(periods: u32) -> Option<(u64, u32)> {
    let saved_a = read(REGISTER_A);
    let saved_b = read(REGISTER_B);
    let hz = start_periodic(1024);
    let mut result = None;
    // Start on a period's edge, then count whole periods.
    if wait_period() {
        let start = crate::arch::read_tsc();
        if (0..periods).all(|_| wait_period()) {
            result = Some((crate::arch::read_tsc() - start, hz));
        }
    }
    write(REGISTER_A, saved_a);
    write(REGISTER_B, saved_b);
    read(REGISTER_C);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_codes_are_powers_of_two() {
        assert_eq!(rate_code(1024), 6);
        assert_eq!(rate_hz(6), 1024);
        assert_eq!(rate_code(256), 8);
        assert_eq!(rate_hz(rate_code(256)), 256);
        // Not a power of two: the next lower rate.
        assert_eq!(rate_hz(rate_code(300)), 256);
        assert_eq!(rate_hz(rate_code(2)), 2);
    }
}
