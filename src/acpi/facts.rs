//! What the ACPI tables say about the machine, as plain data: the rest of
//! the kernel reads these and never an ACPI table. Built once at boot by
//! [`super::init`]; host tests build them by hand.

use alloc::vec::Vec;

/// One processor's local APIC, from the MADT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalApicInfo {
    /// The ACPI processor UID.
    pub processor_uid: u32,
    /// The local APIC id (x2APIC ids may exceed 255).
    pub apic_id: u32,
    /// Enabled now (the firmware started it or it may be started).
    pub enabled: bool,
    /// Disabled now, but may be brought online later.
    pub online_capable: bool,
}

/// One I/O APIC, from the MADT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoApicInfo {
    /// The I/O APIC's id.
    pub id: u8,
    /// The physical address of its registers.
    pub address: u64,
    /// The first global system interrupt (GSI) its pins serve.
    pub gsi_base: u32,
}

/// The polarity of an interrupt input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// What the bus says: active high for ISA.
    BusDefault,
    /// Active high.
    ActiveHigh,
    /// Active low.
    ActiveLow,
}

/// The trigger mode of an interrupt input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// What the bus says: edge for ISA.
    BusDefault,
    /// Edge triggered.
    Edge,
    /// Level triggered.
    Level,
}

/// An ISA interrupt that does not arrive on the GSI of the same number, or
/// not with ISA's polarity and trigger (an interrupt source override).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsaOverride {
    /// The ISA IRQ (0-15).
    pub isa_irq: u8,
    /// The GSI it arrives on.
    pub gsi: u32,
    /// Its polarity.
    pub polarity: Polarity,
    /// Its trigger mode.
    pub trigger: Trigger,
}

/// A local APIC LINT pin wired to NMI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalNmi {
    /// The processor UID it applies to (`None`: all processors).
    pub processor_uid: Option<u32>,
    /// LINT0 or LINT1.
    pub lint: u8,
    /// Its polarity.
    pub polarity: Polarity,
    /// Its trigger mode.
    pub trigger: Trigger,
}

/// The interrupt hardware the MADT describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterruptFacts {
    /// The local APICs' physical address (the MADT's, or its 64-bit
    /// override).
    pub local_apic_address: u64,
    /// Every processor's local APIC, in MADT order (the boot CPU first).
    pub local_apics: Vec<LocalApicInfo>,
    /// Every I/O APIC.
    pub io_apics: Vec<IoApicInfo>,
    /// Every ISA interrupt source override.
    pub overrides: Vec<IsaOverride>,
    /// Local APIC NMI entries.
    pub local_nmis: Vec<LocalNmi>,
    /// The machine also has 8259 PICs (which must be masked when the APIC
    /// takes over).
    pub has_8259: bool,
}
