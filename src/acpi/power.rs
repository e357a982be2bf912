//! Powering off (S5 through the PM1 control registers) and resetting (the
//! FADT's reset register, then the 8042, then a triple fault): the one
//! reset path of the kernel.
//!
//! Every wait here is bounded: a machine that ignores a request gets the
//! next way, or an error that says it is still running.

use core::fmt;
use core::time::Duration;

use log::{debug, warn};
use x86_64::instructions::port::Port;

use super::fadt::{PowerFacts, Register};
use super::handler::{map_firmware, phys_range};
use super::sleep_object::SleepTypes;
use crate::{arch, drivers::ps2, time};

/// PM1 control bit 0: the SCI is enabled, so the fixed hardware belongs to
/// the OS (ACPI mode) rather than to SMM firmware.
const SCI_EN: u16 = 1 << 0;
/// PM1 control bits 10-12: the sleep type.
const SLP_TYP_SHIFT: u16 = 10;
const SLP_TYP_MASK: u16 = 0b111 << SLP_TYP_SHIFT;
/// PM1 control bit 13: enter the sleep state SLP_TYP names.
const SLP_EN: u16 = 1 << 13;

/// How long the firmware gets to hand over ACPI mode (ACPICA and Linux
/// allow 3 s).
const ACPI_MODE_WAIT: Duration = Duration::from_secs(3);
/// How long a machine gets to turn off after SLP_EN.
const POWER_OFF_WAIT: Duration = Duration::from_secs(2);
/// The POST diagnostic port, written to wait about a microsecond.
const POST_PORT: u16 = 0x80;
/// How long each reset way gets before the next is tried.
const RESET_WAIT: Duration = Duration::from_millis(200);

/// Why the machine cannot be, or was not, powered off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownError {
    /// No usable FADT (the boot log says why).
    NoFadt,
    /// A hardware-reduced machine: no PM1 control block; it sleeps through
    /// registers this kernel does not drive.
    HardwareReduced,
    /// The FADT names no PM1a control block.
    NoPm1Control,
    /// No S5 values from `\_S5` (the boot log says why).
    NoS5,
    /// The PM1 control register lies where it cannot be mapped.
    Unreachable,
    /// The request was written, yet the machine still runs.
    StillRunning,
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoFadt => "no ACPI FADT, so no power registers (see the boot log)",
            Self::HardwareReduced => "a hardware-reduced ACPI machine, which has no PM1 control",
            Self::NoPm1Control => "the FADT names no PM1 control register",
            Self::NoS5 => "no \\_S5 sleep values from the ACPI tables (see the boot log)",
            Self::Unreachable => "the PM1 control register cannot be mapped",
            Self::StillRunning => {
                "the S5 request was written to PM1 control, but the machine is still running"
            }
        })
    }
}

/// A checked power-off request, ready to be carried out.
#[derive(Debug, Clone, Copy)]
pub struct PowerOff {
    pm1a: Register,
    pm1b: Option<Register>,
    sleep: SleepTypes,
    /// ACPI mode was not handed over in time; the write is tried anyway.
    pub acpi_mode_late: bool,
}

/// Checks that the tables allow a power-off and puts the machine in ACPI
/// mode if it is not. Nothing is turned off yet: the caller can still say
/// goodbye (and drain its consoles) before [`PowerOff::power_off`].
pub fn prepare_shutdown() -> Result<PowerOff, ShutdownError> {
    let facts = super::power_facts().ok_or(ShutdownError::NoFadt)?;
    if facts.hardware_reduced {
        return Err(ShutdownError::HardwareReduced);
    }
    let pm1a = facts.pm1a_control.ok_or(ShutdownError::NoPm1Control)?;
    let sleep = *super::s5_sleep_types().ok_or(ShutdownError::NoS5)?;
    let acpi_mode_late = !enable_acpi_mode(facts, pm1a)?;
    Ok(PowerOff {
        pm1a,
        pm1b: facts.pm1b_control,
        sleep,
        acpi_mode_late,
    })
}

impl PowerOff {
    /// Writes SLP_TYP, then SLP_TYP | SLP_EN, to PM1a (and PM1b) control.
    /// Returns only if the machine still runs after a bounded wait.
    pub fn power_off(self) -> ShutdownError {
        let targets = [(Some(self.pm1a), self.sleep.a), (self.pm1b, self.sleep.b)];
        for (register, typ) in targets {
            let Some(register) = register else { continue };
            let Some(value) = read_pm1(register) else {
                return ShutdownError::Unreachable;
            };
            let value = sleep_value(value, typ);
            write_pm1(register, value);
            write_pm1(register, value | SLP_EN);
        }
        spin_for(POWER_OFF_WAIT);
        ShutdownError::StillRunning
    }
}

/// PM1 control `current` with SLP_TYP set to `typ` and SLP_EN clear (the
/// other bits, SCI_EN among them, kept).
pub fn sleep_value(current: u16, typ: u8) -> u16 {
    (current & !(SLP_TYP_MASK | SLP_EN)) | ((u16::from(typ) << SLP_TYP_SHIFT) & SLP_TYP_MASK)
}

/// Hands the fixed hardware to the OS through the SMI command port if
/// SCI_EN is clear, and waits (bounded) for SCI_EN. Whether ACPI mode is on.
fn enable_acpi_mode(facts: &PowerFacts, pm1a: Register) -> Result<bool, ShutdownError> {
    let sci_on = || read_pm1(pm1a).map(|v| v & SCI_EN != 0);
    if sci_on().ok_or(ShutdownError::Unreachable)? {
        return Ok(true);
    }
    let Some((port, value)) = facts.acpi_enable else {
        // No SMI command port: the machine is in ACPI mode by design.
        return Ok(true);
    };
    debug!(
        "SCI_EN is clear: asking the firmware for ACPI mode (SMI command {port:#x} <- {value:#x})"
    );
    // SAFETY: the FADT names this port as the SMI command port and this
    // value as its ACPI-enable command; writing it is what the
    // specification asks of the OS (ACPI 6.5 section 16.3.1).
    unsafe { Port::<u8>::new(port).write(value) };
    Ok(wait_until(ACPI_MODE_WAIT, || sci_on() == Some(true)))
}

/// Reads a PM1 control register (16 bits).
fn read_pm1(register: Register) -> Option<u16> {
    match register {
        // SAFETY: the FADT names this port as PM1 control; reading it has
        // no side effect.
        Register::Io(port) => Some(unsafe { Port::<u16>::new(port).read() }),
        Register::Memory(address) => {
            let at = map_register(address)?;
            // SAFETY: `at` maps the register (device memory, two bytes).
            Some(unsafe { core::ptr::read_volatile(at.cast::<u16>()) })
        }
    }
}

/// Writes a PM1 control register (16 bits).
fn write_pm1(register: Register, value: u16) {
    match register {
        // SAFETY: the FADT names this port as PM1 control; the value keeps
        // every bit but the sleep fields as read.
        Register::Io(port) => unsafe { Port::<u16>::new(port).write(value) },
        Register::Memory(address) => {
            if let Some(at) = map_register(address) {
                // SAFETY: as above, through the register's mapping.
                unsafe { core::ptr::write_volatile(at.cast::<u16>(), value) };
            }
        }
    }
}

/// Maps a register in memory space (its page, once per call: power-off and
/// reset happen at most a few times in a run).
fn map_register(address: u64) -> Option<*mut u8> {
    let regions = crate::boot_info()?.memory_regions();
    let range = phys_range(address, 8)?;
    map_firmware(regions, range).ok().map(|at| at.as_ptr())
}

/// Resets the machine: the FADT's reset register if it has a supported
/// one, then the 8042's reset line, then a triple fault. Each way gets a
/// bounded wait and a log line if it fails.
pub fn reboot() -> ! {
    let facts = super::power_facts();
    if let Some(reset) = facts.and_then(|f| f.reset).filter(|r| r.supported) {
        match reset.register {
            // SAFETY: the FADT names this port as the reset register and
            // this value as the one that resets the machine.
            Register::Io(port) => unsafe { Port::<u8>::new(port).write(reset.value) },
            Register::Memory(address) => {
                if let Some(at) = map_register(address) {
                    // SAFETY: as above, through the register's mapping.
                    unsafe { core::ptr::write_volatile(at, reset.value) };
                }
            }
        }
        spin_for(RESET_WAIT);
        warn!(
            "the FADT reset register ({}) did not reset the machine; trying the 8042",
            reset.register
        );
    }
    if facts.is_none_or(|f| f.has_8042) {
        ps2::pulse_reset_line();
        spin_for(RESET_WAIT);
        warn!("the keyboard controller did not reset the machine; forcing a triple fault");
    }
    arch::triple_fault()
}

/// Waits until `done` or `limit` passes, by the TSC. With a TSC that was
/// not calibrated (the clock then stands still), counts microseconds by
/// writes to the POST port instead, each taking about one on a PC.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    if time::tsc_hz().is_some() {
        let start = time::since_boot();
        while time::since_boot().saturating_sub(start) < limit {
            if done() {
                return true;
            }
            core::hint::spin_loop();
        }
        return done();
    }
    for _ in 0..limit.as_micros() {
        if done() {
            return true;
        }
        // SAFETY: port 0x80 is the POST diagnostic port, which no device
        // of ours uses; a write there only takes time.
        unsafe { Port::<u8>::new(POST_PORT).write(0) };
    }
    done()
}

/// Spins for `limit` (bounded as in [`wait_until`]).
fn spin_for(limit: Duration) {
    wait_until(limit, || false);
}
