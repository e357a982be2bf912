//! The MADT (ACPI 6.5 section 5.2.12) as bytes -> [`InterruptFacts`].
//!
//! The entries are walked here rather than through the `acpi` crate's
//! iterator: that one trusts every entry's length byte (a zero length loops
//! for ever, a long one reads past the table). Here every length is checked
//! against the table's end, and a bad entry ends the walk with a problem
//! the caller reports, keeping what was read before it.

use alloc::vec::Vec;
use core::fmt;

use super::bytes::{le_u16, le_u32, le_u64};
use super::facts::{
    InterruptFacts, IoApicInfo, IsaOverride, LocalApicInfo, LocalNmi, Polarity, Trigger,
};
use super::tables::HEADER_LEN;

/// Where the entries start: the header, the local APIC address, the flags.
const ENTRIES_START: usize = HEADER_LEN + 8;
/// MADT flags bit 0 (PCAT_COMPAT): the machine also has 8259 PICs.
const PCAT_COMPAT: u32 = 1;
/// Local APIC flags bit 0: enabled.
const LAPIC_ENABLED: u32 = 1 << 0;
/// Local APIC flags bit 1: online capable (ACPI 6.3 and later).
const LAPIC_ONLINE_CAPABLE: u32 = 1 << 1;

/// Entry types (ACPI 6.5 table 5.20), with each one's fixed length.
const LOCAL_APIC: (u8, usize) = (0, 8);
const IO_APIC: (u8, usize) = (1, 12);
const SOURCE_OVERRIDE: (u8, usize) = (2, 10);
const LOCAL_APIC_NMI: (u8, usize) = (4, 6);
const LOCAL_APIC_ADDRESS: (u8, usize) = (5, 12);
const LOCAL_X2APIC: (u8, usize) = (9, 16);
const LOCAL_X2APIC_NMI: (u8, usize) = (10, 12);

/// The UID a local APIC NMI entry gives for "every processor".
const ALL_PROCESSORS_XAPIC: u8 = 0xff;
/// The UID a local x2APIC NMI entry gives for "every processor".
const ALL_PROCESSORS_X2APIC: u32 = 0xffff_ffff;

/// What is wrong with a MADT, or with one of its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MadtProblem {
    /// The table is shorter than its fixed fields.
    TooShort(usize),
    /// An entry's length is below 2 or runs past the table's end; the
    /// walk stops there.
    BadEntryLength {
        /// Where the entry starts in the table.
        offset: usize,
        /// Its length byte.
        length: u8,
    },
    /// A known entry is shorter than its type requires; it is skipped.
    ShortEntry {
        /// The entry type.
        kind: u8,
        /// Its length byte.
        length: u8,
    },
    /// An interrupt source override for a bus other than ISA (0).
    OverrideNotIsa {
        /// The bus.
        bus: u8,
        /// The source IRQ.
        source: u8,
    },
    /// An override for an ISA IRQ above 15.
    OverrideSourceOutOfRange(u8),
    /// A flags field with the reserved polarity or trigger value (0b10);
    /// the bus default is assumed.
    ReservedFlags {
        /// The entry type.
        kind: u8,
        /// The flags.
        flags: u16,
    },
    /// A local APIC NMI entry names a LINT pin other than 0 or 1.
    BadLint(u8),
}

impl fmt::Display for MadtProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort(len) => write!(
                f,
                "the MADT is {len} bytes, shorter than its {ENTRIES_START} bytes of fixed fields"
            ),
            Self::BadEntryLength { offset, length } => write!(
                f,
                "MADT entry at offset {offset} has length {length}, which does not fit the \
                 table; entries from there on are ignored"
            ),
            Self::ShortEntry { kind, length } => {
                write!(
                    f,
                    "MADT entry of type {kind} is only {length} bytes; skipped"
                )
            }
            Self::OverrideNotIsa { bus, source } => write!(
                f,
                "MADT override of IRQ {source} on bus {bus}, not ISA (0); skipped"
            ),
            Self::OverrideSourceOutOfRange(irq) => {
                write!(f, "MADT override of ISA IRQ {irq}, above 15; skipped")
            }
            Self::ReservedFlags { kind, flags } => write!(
                f,
                "MADT entry of type {kind} has reserved polarity/trigger bits ({flags:#x}); \
                 the bus default is assumed"
            ),
            Self::BadLint(lint) => write!(f, "MADT NMI entry names LINT{lint}; skipped"),
        }
    }
}

/// The facts a MADT gives, and what was wrong with it on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MadtParse {
    /// What was read.
    pub facts: InterruptFacts,
    /// Problems met; each is reported as a warning.
    pub problems: Vec<MadtProblem>,
}

/// Reads a whole MADT (header included, `table.len()` being the header's
/// length). A table too short for its fixed fields gives `Err`.
pub fn parse(table: &[u8]) -> Result<MadtParse, MadtProblem> {
    if table.len() < ENTRIES_START {
        return Err(MadtProblem::TooShort(table.len()));
    }
    let mut out = MadtParse::default();
    out.facts.local_apic_address = u64::from(le_u32(table, HEADER_LEN));
    out.facts.has_8259 = le_u32(table, HEADER_LEN + 4) & PCAT_COMPAT != 0;
    let mut offset = ENTRIES_START;
    while offset < table.len() {
        let rest = &table[offset..];
        let length = rest.get(1).copied().unwrap_or(0);
        if length < 2 || usize::from(length) > rest.len() {
            out.problems
                .push(MadtProblem::BadEntryLength { offset, length });
            break;
        }
        read_entry(&rest[..usize::from(length)], &mut out);
        offset += usize::from(length);
    }
    Ok(out)
}

/// Reads one entry (`entry` is exactly its length) into `out`.
fn read_entry(entry: &[u8], out: &mut MadtParse) {
    let kind = entry[0];
    let known = [
        LOCAL_APIC,
        IO_APIC,
        SOURCE_OVERRIDE,
        LOCAL_APIC_NMI,
        LOCAL_APIC_ADDRESS,
        LOCAL_X2APIC,
        LOCAL_X2APIC_NMI,
    ];
    let Some(&(_, needed)) = known.iter().find(|(k, _)| *k == kind) else {
        // Other types (NMI sources, SAPIC, GIC, wakeup) do not concern an
        // x86 APIC kernel.
        return;
    };
    if entry.len() < needed {
        out.problems.push(MadtProblem::ShortEntry {
            kind,
            length: entry.len() as u8,
        });
        return;
    }
    let facts = &mut out.facts;
    match kind {
        0 => facts.local_apics.push(local_apic(
            u32::from(entry[2]),
            u32::from(entry[3]),
            le_u32(entry, 4),
        )),
        1 => facts.io_apics.push(IoApicInfo {
            id: entry[2],
            address: u64::from(le_u32(entry, 4)),
            gsi_base: le_u32(entry, 8),
        }),
        2 => read_override(entry, out),
        4 => {
            let uid = (entry[2] != ALL_PROCESSORS_XAPIC).then_some(u32::from(entry[2]));
            push_nmi(out, kind, uid, le_u16(entry, 3), entry[5]);
        }
        5 => facts.local_apic_address = le_u64(entry, 4),
        9 => facts.local_apics.push(local_apic(
            le_u32(entry, 12),
            le_u32(entry, 4),
            le_u32(entry, 8),
        )),
        10 => {
            let uid = le_u32(entry, 4);
            let uid = (uid != ALL_PROCESSORS_X2APIC).then_some(uid);
            push_nmi(out, kind, uid, le_u16(entry, 2), entry[8]);
        }
        _ => {}
    }
}

fn local_apic(processor_uid: u32, apic_id: u32, flags: u32) -> LocalApicInfo {
    LocalApicInfo {
        processor_uid,
        apic_id,
        enabled: flags & LAPIC_ENABLED != 0,
        online_capable: flags & LAPIC_ONLINE_CAPABLE != 0,
    }
}

fn read_override(entry: &[u8], out: &mut MadtParse) {
    let (bus, source) = (entry[2], entry[3]);
    if bus != 0 {
        out.problems
            .push(MadtProblem::OverrideNotIsa { bus, source });
        return;
    }
    if source > 15 {
        out.problems
            .push(MadtProblem::OverrideSourceOutOfRange(source));
        return;
    }
    let flags = le_u16(entry, 8);
    let (polarity, trigger) = inti_flags(out, entry[0], flags);
    out.facts.overrides.push(IsaOverride {
        isa_irq: source,
        gsi: le_u32(entry, 4),
        polarity,
        trigger,
    });
}

fn push_nmi(out: &mut MadtParse, kind: u8, processor_uid: Option<u32>, flags: u16, lint: u8) {
    if lint > 1 {
        out.problems.push(MadtProblem::BadLint(lint));
        return;
    }
    let (polarity, trigger) = inti_flags(out, kind, flags);
    out.facts.local_nmis.push(LocalNmi {
        processor_uid,
        lint,
        polarity,
        trigger,
    });
}

/// Decodes MPS INTI flags (ACPI 6.5 table 5.26): bits 0-1 polarity, bits
/// 2-3 trigger mode; 0b10 is reserved in both.
fn inti_flags(out: &mut MadtParse, kind: u8, flags: u16) -> (Polarity, Trigger) {
    let polarity = match flags & 0b11 {
        0b01 => Some(Polarity::ActiveHigh),
        0b11 => Some(Polarity::ActiveLow),
        0b00 => Some(Polarity::BusDefault),
        _ => None,
    };
    let trigger = match (flags >> 2) & 0b11 {
        0b01 => Some(Trigger::Edge),
        0b11 => Some(Trigger::Level),
        0b00 => Some(Trigger::BusDefault),
        _ => None,
    };
    if polarity.is_none() || trigger.is_none() {
        out.problems
            .push(MadtProblem::ReservedFlags { kind, flags });
    }
    (
        polarity.unwrap_or(Polarity::BusDefault),
        trigger.unwrap_or(Trigger::BusDefault),
    )
}
