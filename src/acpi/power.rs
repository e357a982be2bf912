//! Powering off (S5 through the PM1 control registers) and resetting (the
//! FADT's reset register, then the 8042, then a triple fault): the one
//! reset path of the kernel.
//!
//! Every wait here is bounded: a machine that ignores a request gets the
//! next way, or an error that says it is still running.

use core::fmt;
use core::time::Duration;

use log::{debug, warn};
use x86_64::instructions::interrupts::without_interrupts;
use x86_64::instructions::port::Port;

use super::fadt::PowerFacts;
use super::register::{Reachable, Unreachable};
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
/// PM1 control registers are 16 bits wide.
const PM1_WIDTH: u64 = 2;
/// The reset register is written a byte at a time.
const RESET_WIDTH: u64 = 1;

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
    /// A PM1 control register lies where it cannot be mapped.
    Unreachable(Unreachable),
    /// The request was written, yet the machine still runs.
    StillRunning {
        /// This kernel switched the machine to ACPI mode first.
        switched_to_acpi_mode: bool,
    },
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoFadt => f.write_str("no ACPI FADT, so no power registers (see the boot log)"),
            Self::HardwareReduced => {
                f.write_str("a hardware-reduced ACPI machine, which has no PM1 control")
            }
            Self::NoPm1Control => f.write_str("the FADT names no PM1 control register"),
            Self::NoS5 => {
                f.write_str("no \\_S5 sleep values from the ACPI tables (see the boot log)")
            }
            Self::Unreachable(u) => write!(f, "the PM1 control register at {u}"),
            Self::StillRunning {
                switched_to_acpi_mode,
            } => {
                f.write_str(
                    "the S5 request was written to PM1 control, but the machine is still running",
                )?;
                if *switched_to_acpi_mode {
                    f.write_str(
                        " (and it is now in ACPI mode, whose SCI this kernel does not handle)",
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// A checked power-off request, ready to be carried out: its registers
/// already reachable (mapped once, uncached, if in memory space).
#[derive(Debug)]
pub struct PowerOff {
    pm1a: Reachable,
    pm1b: Option<Reachable>,
    sleep: SleepTypes,
    /// This kernel asked the firmware for ACPI mode.
    switched_to_acpi_mode: bool,
    /// ACPI mode was not handed over in time; the write is tried anyway.
    pub acpi_mode_late: bool,
}

/// Checks that the tables allow a power-off, makes the PM1 control
/// registers reachable and puts the machine in ACPI mode if it is not.
/// Nothing is turned off yet: the caller can still say goodbye (and drain
/// its consoles) before [`PowerOff::power_off`].
pub fn prepare_shutdown() -> Result<PowerOff, ShutdownError> {
    let facts = super::power_facts().ok_or(ShutdownError::NoFadt)?;
    if facts.hardware_reduced {
        return Err(ShutdownError::HardwareReduced);
    }
    let pm1a = facts.pm1a_control.ok_or(ShutdownError::NoPm1Control)?;
    let sleep = *super::s5_sleep_types().ok_or(ShutdownError::NoS5)?;
    let open = |r| Reachable::open(r, PM1_WIDTH).map_err(ShutdownError::Unreachable);
    let pm1a = open(pm1a)?;
    let pm1b = facts.pm1b_control.map(open).transpose()?;
    let mode = enable_acpi_mode(facts, &pm1a);
    Ok(PowerOff {
        pm1a,
        pm1b,
        sleep,
        switched_to_acpi_mode: mode != AcpiMode::AlreadyOn,
        acpi_mode_late: mode == AcpiMode::Late,
    })
}

impl PowerOff {
    /// Writes SLP_TYP to PM1a and PM1b control, then SLP_TYP | SLP_EN to
    /// both (the order ACPICA keeps), with interrupts off so nothing runs
    /// between the writes. Returns only if the machine still runs after a
    /// bounded wait (with interrupts on again).
    pub fn power_off(self) -> ShutdownError {
        let a = self.pm1a.read_u16();
        let b = self.pm1b.as_ref().map(Reachable::read_u16);
        without_interrupts(|| {
            for (block, value) in sleep_writes(a, b, self.sleep) {
                let register = match block {
                    Block::A => Some(&self.pm1a),
                    Block::B => self.pm1b.as_ref(),
                };
                if let Some(register) = register {
                    // SAFETY: each value keeps every bit of its register as
                    // read but the sleep fields, set to the \_S5 values:
                    // the writes the specification asks for to enter S5
                    // (ACPI 6.5 section 16.1.7).
                    unsafe { register.write_u16(value) };
                }
            }
        });
        spin_for(POWER_OFF_WAIT);
        ShutdownError::StillRunning {
            switched_to_acpi_mode: self.switched_to_acpi_mode,
        }
    }
}

/// A PM1 control block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// PM1a, which every machine with PM1 control has.
    A,
    /// PM1b, which some have too.
    B,
}

/// The writes that enter S5, in order, given PM1a control (and PM1b's if
/// there is one) as read: SLP_TYP to each block, then SLP_TYP | SLP_EN to
/// each, the order ACPICA keeps (a machine may sleep at the first SLP_EN,
/// so both sleep types must be in place by then).
pub fn sleep_writes(
    a: u16,
    b: Option<u16>,
    sleep: SleepTypes,
) -> impl Iterator<Item = (Block, u16)> {
    let a = (Block::A, sleep_value(a, sleep.a));
    let b = b.map(|b| (Block::B, sleep_value(b, sleep.b)));
    let typ = core::iter::once(a).chain(b);
    typ.clone()
        .chain(typ.map(|(block, value)| (block, value | SLP_EN)))
}

/// PM1 control `current` with SLP_TYP set to `typ` and SLP_EN clear (the
/// other bits, SCI_EN among them, kept).
pub fn sleep_value(current: u16, typ: u8) -> u16 {
    (current & !(SLP_TYP_MASK | SLP_EN)) | ((u16::from(typ) << SLP_TYP_SHIFT) & SLP_TYP_MASK)
}

/// How the machine came to be in ACPI mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AcpiMode {
    /// SCI_EN was set, or there is no SMI command port to ask.
    AlreadyOn,
    /// Asked for, and SCI_EN came on in time.
    Switched,
    /// Asked for, and SCI_EN did not come on in time.
    Late,
}

/// Hands the fixed hardware to the OS through the SMI command port if
/// SCI_EN is clear, and waits (bounded) for SCI_EN.
fn enable_acpi_mode(facts: &PowerFacts, pm1a: &Reachable) -> AcpiMode {
    let sci_on = || pm1a.read_u16() & SCI_EN != 0;
    if sci_on() {
        return AcpiMode::AlreadyOn;
    }
    let Some((port, value)) = facts.acpi_enable else {
        // No SMI command port: the machine is in ACPI mode by design.
        return AcpiMode::AlreadyOn;
    };
    debug!(
        "SCI_EN is clear: asking the firmware for ACPI mode (SMI command {port:#x} <- {value:#x})"
    );
    // SAFETY: the FADT names this port as the SMI command port and this
    // value as its ACPI-enable command; writing it is what the
    // specification asks of the OS (ACPI 6.5 section 16.3.1).
    unsafe { Port::<u8>::new(port).write(value) };
    if wait_until(ACPI_MODE_WAIT, sci_on) {
        AcpiMode::Switched
    } else {
        AcpiMode::Late
    }
}

/// Resets the machine: the FADT's reset register if it has a supported
/// one, then the 8042's reset line, then a triple fault. Each way gets a
/// bounded wait and a log line if it fails.
pub fn reboot() -> ! {
    let facts = super::power_facts();
    if let Some(reset) = facts.and_then(|f| f.reset).filter(|r| r.supported) {
        match Reachable::open(reset.register, RESET_WIDTH) {
            Ok(register) => {
                // SAFETY: the FADT names this register as the reset
                // register and this value as the one that resets the
                // machine.
                unsafe { register.write_u8(reset.value) };
                spin_for(RESET_WAIT);
                warn!(
                    "the FADT reset register ({}) did not reset the machine; trying the 8042",
                    reset.register
                );
            }
            Err(err) => warn!("the FADT reset register at {err}; trying the 8042"),
        }
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
