//! MADT entries -> facts, with hand-built tables.

use std::vec::Vec;

use super::sdt;
use crate::acpi::describe;
use crate::acpi::facts::{IoApicInfo, IsaOverride, LocalApicInfo, LocalNmi, Polarity, Trigger};
use crate::acpi::madt::{MadtProblem, parse};

/// A MADT with the local APIC address, flags and entries.
pub fn madt(flags: u32, entries: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
    body.extend_from_slice(&flags.to_le_bytes());
    for e in entries {
        body.extend_from_slice(e);
    }
    sdt(b"APIC", 4, &body)
}

pub fn lapic(uid: u8, id: u8, flags: u32) -> Vec<u8> {
    let mut e = vec![0, 8, uid, id];
    e.extend_from_slice(&flags.to_le_bytes());
    e
}

pub fn ioapic(id: u8, address: u32, gsi_base: u32) -> Vec<u8> {
    let mut e = vec![1, 12, id, 0];
    e.extend_from_slice(&address.to_le_bytes());
    e.extend_from_slice(&gsi_base.to_le_bytes());
    e
}

pub fn source_override(bus: u8, irq: u8, gsi: u32, flags: u16) -> Vec<u8> {
    let mut e = vec![2, 10, bus, irq];
    e.extend_from_slice(&gsi.to_le_bytes());
    e.extend_from_slice(&flags.to_le_bytes());
    e
}

fn x2apic(uid: u32, id: u32, flags: u32) -> Vec<u8> {
    let mut e = vec![9, 16, 0, 0];
    e.extend_from_slice(&id.to_le_bytes());
    e.extend_from_slice(&flags.to_le_bytes());
    e.extend_from_slice(&uid.to_le_bytes());
    e
}

fn lapic_nmi(uid: u8, flags: u16, lint: u8) -> Vec<u8> {
    let f = flags.to_le_bytes();
    vec![4, 6, uid, f[0], f[1], lint]
}

fn x2apic_nmi(uid: u32, flags: u16, lint: u8) -> Vec<u8> {
    let mut e = vec![10, 12];
    e.extend_from_slice(&flags.to_le_bytes());
    e.extend_from_slice(&uid.to_le_bytes());
    e.extend_from_slice(&[lint, 0, 0, 0]);
    e
}

/// INTI flags: active low, level triggered.
const LOW_LEVEL: u16 = 0b11 | (0b11 << 2);
/// INTI flags: active high, edge triggered.
const HIGH_EDGE: u16 = 0b01 | (0b01 << 2);

#[test]
fn overrides_move_irq0_and_flip_polarity() {
    let t = madt(
        1,
        &[
            lapic(0, 0, 1),
            ioapic(0, 0xfec0_0000, 0),
            source_override(0, 0, 2, 0),
            source_override(0, 9, 9, LOW_LEVEL),
        ],
    );
    let out = parse(&t).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(
        out.facts.overrides,
        [
            IsaOverride {
                isa_irq: 0,
                gsi: 2,
                polarity: Polarity::BusDefault,
                trigger: Trigger::BusDefault
            },
            IsaOverride {
                isa_irq: 9,
                gsi: 9,
                polarity: Polarity::ActiveLow,
                trigger: Trigger::Level
            },
        ]
    );
    assert!(out.facts.has_8259);
    assert_eq!(out.facts.local_apic_address, 0xfee0_0000);
    let line = describe::interrupts(&out.facts);
    assert!(line.contains("IRQ 0 -> GSI 2,"), "{line}");
    assert!(line.contains("IRQ 9 -> GSI 9 level active-low"), "{line}");
}

#[test]
fn two_ioapics_and_many_cpus() {
    let t = madt(
        0,
        &[
            lapic(0, 0, 1),
            lapic(1, 1, 1),
            lapic(2, 2, 1),
            lapic(3, 3, 1),
            lapic(4, 4, 0b10),
            lapic(5, 5, 0),
            ioapic(0, 0xfec0_0000, 0),
            ioapic(1, 0xfec0_1000, 24),
        ],
    );
    let out = parse(&t).unwrap();
    assert_eq!(
        out.facts.io_apics,
        [
            IoApicInfo {
                id: 0,
                address: 0xfec0_0000,
                gsi_base: 0
            },
            IoApicInfo {
                id: 1,
                address: 0xfec0_1000,
                gsi_base: 24
            },
        ]
    );
    assert_eq!(out.facts.local_apics.len(), 6);
    assert!(!out.facts.local_apics[4].enabled && out.facts.local_apics[4].online_capable);
    assert!(!out.facts.local_apics[5].enabled && !out.facts.local_apics[5].online_capable);
    assert!(!out.facts.has_8259);
    let line = describe::interrupts(&out.facts);
    assert!(
        line.starts_with("4 CPUs (APIC ids 0-3) + 1 online-capable, 2 IOAPICs"),
        "{line}"
    );
    assert!(line.contains("id 1 at 0xfec01000, GSI base 24"), "{line}");
}

#[test]
fn x2apic_entries_nmis_and_the_address_override() {
    let mut address_override = vec![5, 12, 0, 0];
    address_override.extend_from_slice(&0x1_fee0_0000u64.to_le_bytes());
    let t = madt(
        1,
        &[
            x2apic(7, 0x100, 1),
            x2apic(8, 0x101, 0b10),
            lapic_nmi(0xff, HIGH_EDGE, 1),
            lapic_nmi(3, 0, 0),
            x2apic_nmi(0xffff_ffff, LOW_LEVEL, 1),
            x2apic_nmi(7, 0, 0),
            address_override,
        ],
    );
    let out = parse(&t).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(
        out.facts.local_apics,
        [
            LocalApicInfo {
                processor_uid: 7,
                apic_id: 0x100,
                enabled: true,
                online_capable: false
            },
            LocalApicInfo {
                processor_uid: 8,
                apic_id: 0x101,
                enabled: false,
                online_capable: true
            },
        ]
    );
    let nmi = |processor_uid, lint, polarity, trigger| LocalNmi {
        processor_uid,
        lint,
        polarity,
        trigger,
    };
    assert_eq!(
        out.facts.local_nmis,
        [
            nmi(None, 1, Polarity::ActiveHigh, Trigger::Edge),
            nmi(Some(3), 0, Polarity::BusDefault, Trigger::BusDefault),
            nmi(None, 1, Polarity::ActiveLow, Trigger::Level),
            nmi(Some(7), 0, Polarity::BusDefault, Trigger::BusDefault),
        ]
    );
    assert_eq!(out.facts.local_apic_address, 0x1_fee0_0000);
}

#[test]
fn a_truncated_entry_ends_the_walk_and_keeps_what_came_before() {
    let mut t = madt(1, &[lapic(0, 0, 1), ioapic(0, 0xfec0_0000, 0)]);
    // An override whose length byte says 10, with only 6 bytes left.
    t.extend_from_slice(&[2, 10, 0, 0, 2, 0]);
    let len = t.len() as u32;
    t[4..8].copy_from_slice(&len.to_le_bytes());
    let out = parse(&t).unwrap();
    assert_eq!(out.facts.local_apics.len(), 1);
    assert_eq!(out.facts.io_apics.len(), 1);
    assert!(out.facts.overrides.is_empty());
    assert_eq!(
        out.problems,
        [MadtProblem::BadEntryLength {
            offset: 44 + 8 + 12,
            length: 10
        }]
    );
}

#[test]
fn a_zero_length_entry_stops_rather_than_loops() {
    let t = madt(0, &[lapic(0, 0, 1), vec![0, 0, 0, 0], lapic(1, 1, 1)]);
    let out = parse(&t).unwrap();
    assert_eq!(out.facts.local_apics.len(), 1);
    assert_eq!(
        out.problems,
        [MadtProblem::BadEntryLength {
            offset: 52,
            length: 0
        }]
    );
}

#[test]
fn short_and_odd_entries_are_skipped_with_a_reason() {
    let t = madt(
        0,
        &[
            vec![1, 8, 0, 0, 0, 0, 0xc0, 0xfe], // an IOAPIC entry of 8 bytes
            source_override(1, 3, 3, 0),        // not ISA
            source_override(0, 16, 16, 0),      // not an ISA IRQ
            source_override(0, 5, 5, 0b10),     // reserved polarity
            lapic_nmi(0xff, 0, 2),              // no LINT2
            vec![0x7f, 3, 0],                   // a type of no concern
            lapic(0, 0, 1),
        ],
    );
    let out = parse(&t).unwrap();
    assert_eq!(
        out.problems,
        [
            MadtProblem::ShortEntry { kind: 1, length: 8 },
            MadtProblem::OverrideNotIsa { bus: 1, source: 3 },
            MadtProblem::OverrideSourceOutOfRange(16),
            MadtProblem::ReservedFlags {
                kind: 2,
                flags: 0b10
            },
            MadtProblem::BadLint(2),
        ]
    );
    assert_eq!(out.facts.overrides.len(), 1);
    assert_eq!(out.facts.overrides[0].polarity, Polarity::BusDefault);
    assert_eq!(out.facts.local_apics.len(), 1);
    assert!(out.facts.io_apics.is_empty() && out.facts.local_nmis.is_empty());
}

#[test]
fn a_table_without_its_fixed_fields_is_an_error() {
    let t = sdt(b"APIC", 4, &[0; 4]);
    assert_eq!(parse(&t), Err(MadtProblem::TooShort(40)));
}
