//! The APIC: the boot CPU's local APIC and the I/O APICs the MADT lists,
//! which together replace the 8259s when the ACPI facts allow it.
//!
//! [`init`] checks everything before it changes anything: a machine whose
//! facts do not hold (no I/O APIC, an override pointing nowhere, registers
//! that cannot be mapped) keeps the 8259s, and the caller says why.

pub mod io;
pub mod local;
pub mod routing;

use alloc::vec::Vec;
use core::fmt;

use spin::Once;

use crate::acpi::facts::{InterruptFacts, Polarity};
use crate::memory::DeviceMapError;
use io::{IoApic, Redirection};
use routing::RouteError;

/// Why the APIC cannot take over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApicError {
    /// CPUID says the CPU has no local APIC.
    NoLocalApic,
    /// The facts give no route (no I/O APIC, an override pointing nowhere).
    Route(RouteError),
    /// A register page could not be mapped.
    Map(DeviceMapError),
}

impl fmt::Display for ApicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoLocalApic => f.write_str("the CPU has no local APIC"),
            Self::Route(err) => write!(f, "{err}"),
            Self::Map(err) => write!(f, "cannot map the APIC registers: {err}"),
        }
    }
}

/// The APIC set-up in use.
struct Apic {
    io_apics: Vec<IoApic>,
    facts: &'static InterruptFacts,
    /// The boot CPU's APIC id: every ISA line goes to it.
    boot_cpu: u8,
}

static APIC: Once<Apic> = Once::new();

/// What [`init`] set up, for the boot log.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// The local APIC's registers are MSRs.
    pub x2apic: bool,
    /// I/O APICs in use.
    pub io_apics: usize,
    /// The CPU's APIC and timer features.
    pub features: local::Features,
}

/// Maps the I/O APICs and masks all their pins, checks that every
/// override leads to a pin, then turns the local APIC on. Call with
/// interrupts off, once, after the 8259s are remapped and masked.
pub fn init(facts: &'static InterruptFacts) -> Result<Summary, ApicError> {
    let features = local::Features::read();
    if !features.apic {
        return Err(ApicError::NoLocalApic);
    }
    if facts.io_apics.is_empty() {
        return Err(ApicError::Route(RouteError::NoIoApic));
    }
    let mut io_apics = Vec::with_capacity(facts.io_apics.len());
    for &info in &facts.io_apics {
        // SAFETY: the MADT names this address as an I/O APIC's registers,
        // and each chip is mapped once, here.
        io_apics.push(unsafe { IoApic::map(info) }.map_err(ApicError::Map)?);
    }
    routing::check_isa_routes(facts, |i| io_apics[i].pins).map_err(ApicError::Route)?;
    for chip in &io_apics {
        chip.mask_all();
    }
    let lapic = local::init(facts.local_apic_address).map_err(ApicError::Map)?;
    let boot_cpu = (core::arch::x86_64::__cpuid(1).ebx >> 24) as u8;
    wire_local_nmis(lapic, facts, boot_cpu);
    let count = io_apics.len();
    APIC.call_once(|| Apic {
        io_apics,
        facts,
        boot_cpu,
    });
    Ok(Summary {
        x2apic: lapic.is_x2apic(),
        io_apics: count,
        features,
    })
}

/// Sets the boot CPU's LINT pins that the MADT wires to NMI (for it, or
/// for every processor), so the platform's NMIs (a watchdog, a front-panel
/// button) are delivered.
fn wire_local_nmis(lapic: &local::LocalApic, facts: &InterruptFacts, boot_cpu: u8) {
    let uid = facts
        .local_apics
        .iter()
        .find(|cpu| cpu.apic_id == u32::from(boot_cpu))
        .map(|cpu| cpu.processor_uid);
    for nmi in &facts.local_nmis {
        if nmi.processor_uid.is_none() || nmi.processor_uid == uid {
            lapic.set_lint_nmi(nmi.lint, nmi.polarity == Polarity::ActiveLow);
        }
    }
}

/// Whether the APIC took over.
pub fn is_active() -> bool {
    APIC.get().is_some()
}

/// Routes ISA IRQ `irq` to `vector` on the boot CPU, honouring the
/// overrides, and unmasks it. Call with interrupts off.
pub fn route_isa(irq: u8, vector: u8) -> Result<routing::Route, RouteError> {
    let apic = APIC.get().ok_or(RouteError::NoIoApic)?;
    let route = routing::route_isa(apic.facts, |i| apic.io_apics[i].pins, irq)?;
    apic.io_apics[route.io_apic].route(
        route.pin,
        Redirection {
            vector,
            active_low: route.active_low,
            level: route.level,
            destination: apic.boot_cpu,
        },
    );
    Ok(route)
}
