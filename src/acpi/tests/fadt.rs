//! FADT bytes -> power facts, and the PM1 control value.

use std::vec::Vec;

use super::sdt;
use crate::acpi::describe;
use crate::acpi::fadt::{Register, ResetRegister, TooShort, dsdt_address, parse};
use crate::acpi::power::{Block, sleep_value, sleep_writes};
use crate::acpi::sleep_object::SleepTypes;

/// A FADT of `len` bytes and `revision`; `set` writes fields at their
/// table offsets.
pub fn fadt(len: usize, revision: u8, set: &[(usize, &[u8])]) -> Vec<u8> {
    let mut body = vec![0u8; len - 36];
    for (at, bytes) in set {
        body[at - 36..at - 36 + bytes.len()].copy_from_slice(bytes);
    }
    sdt(b"FACP", revision, &body)
}

/// A Generic Address Structure.
pub fn gas(space: u8, address: u64) -> Vec<u8> {
    let mut g = vec![space, 16, 0, 2];
    g.extend_from_slice(&address.to_le_bytes());
    g
}

/// QEMU q35's FADT as far as power goes: revision 3, 244 bytes.
pub fn q35_like(dsdt: u64) -> Vec<u8> {
    fadt(
        244,
        3,
        &[
            (40, &(dsdt as u32).to_le_bytes()),
            (46, &9u16.to_le_bytes()),
            (48, &0xb2u32.to_le_bytes()),
            (52, &[0x02]),
            (64, &0x604u32.to_le_bytes()),
            (108, &[0x32]),
            (109, &0b10u16.to_le_bytes()),
            (112, &(1u32 << 10).to_le_bytes()),
            (116, &gas(1, 0xcf9)),
            (128, &[0x06]),
            (140, &dsdt.to_le_bytes()),
        ],
    )
}

#[test]
fn q35_fadt_gives_reset_register_pm1_and_acpi_enable() {
    let p = parse(&q35_like(0x1234_5678)).unwrap();
    assert_eq!(
        p.reset,
        Some(ResetRegister {
            register: Register::Io(0xcf9),
            value: 6,
            supported: true
        })
    );
    assert_eq!(p.pm1a_control, Some(Register::Io(0x604)));
    assert_eq!(p.pm1b_control, None);
    assert_eq!(p.acpi_enable, Some((0xb2, 2)));
    assert_eq!(p.sci_interrupt, 9);
    assert_eq!(p.century, Some(0x32));
    assert!(p.has_8042 && !p.hardware_reduced);
    let line = describe::power(&p);
    assert!(
        line.starts_with("FADT reset register I/O 0xcf9 value 0x6, PM1a control I/O 0x604"),
        "{line}"
    );
}

#[test]
fn an_acpi_1_fadt_has_no_reset_register_and_assumes_an_8042() {
    let t = fadt(
        116,
        1,
        &[
            (64, &0xb004u32.to_le_bytes()),
            (68, &0xb008u32.to_le_bytes()),
        ],
    );
    let p = parse(&t).unwrap();
    assert_eq!(p.reset, None);
    assert_eq!(p.pm1a_control, Some(Register::Io(0xb004)));
    assert_eq!(p.pm1b_control, Some(Register::Io(0xb008)));
    assert_eq!(p.acpi_enable, None);
    assert!(p.has_8042);
    assert!(describe::power(&p).starts_with("FADT no reset register"));
}

#[test]
fn extended_blocks_win_and_flags_are_read() {
    let t = fadt(
        244,
        5,
        &[
            (64, &0x604u32.to_le_bytes()),
            (109, &0u16.to_le_bytes()),
            (112, &(1u32 << 20).to_le_bytes()),
            (116, &gas(0, 0xfe00_0000)),
            (128, &[0x01]),
            (172, &gas(0, 0xfed8_0804)),
            (184, &gas(1, 0x608)),
        ],
    );
    let p = parse(&t).unwrap();
    assert_eq!(p.pm1a_control, Some(Register::Memory(0xfed8_0804)));
    assert_eq!(p.pm1b_control, Some(Register::Io(0x608)));
    assert_eq!(
        p.reset,
        Some(ResetRegister {
            register: Register::Memory(0xfe00_0000),
            value: 1,
            supported: false
        })
    );
    assert!(p.hardware_reduced && !p.has_8042);
}

#[test]
fn a_short_fadt_is_an_error_and_dsdt_prefers_the_64_bit_field() {
    assert_eq!(parse(&fadt(100, 1, &[])), Err(TooShort(100)));
    assert_eq!(dsdt_address(&q35_like(0x7fe_0040)), Some(0x7fe_0040));
    let old = fadt(116, 1, &[(40, &0x1000u32.to_le_bytes())]);
    assert_eq!(dsdt_address(&old), Some(0x1000));
    let both = fadt(
        244,
        3,
        &[
            (40, &0x1000u32.to_le_bytes()),
            (140, &0x2000u64.to_le_bytes()),
        ],
    );
    assert_eq!(dsdt_address(&both), Some(0x2000));
}

#[test]
fn sleep_value_sets_slp_typ_and_keeps_sci_en() {
    // SCI_EN (bit 0) set, an old SLP_TYP 7 and SLP_EN set.
    let current = 0b1 | (0b111 << 10) | (1 << 13);
    assert_eq!(sleep_value(current, 5), 0b1 | (5 << 10));
    assert_eq!(sleep_value(0, 0), 0);
    // Only three bits of SLP_TYP exist.
    assert_eq!(sleep_value(0, 0xff), 0b111 << 10);
}

#[test]
fn both_sleep_types_are_written_before_either_slp_en() {
    let sleep = SleepTypes { a: 5, b: 3 };
    let writes: std::vec::Vec<_> = sleep_writes(0b1, Some(0), sleep).collect();
    let a = 0b1 | (5 << 10);
    let b = 3 << 10;
    let en = 1 << 13;
    assert_eq!(
        writes,
        [
            (Block::A, a),
            (Block::B, b),
            (Block::A, a | en),
            (Block::B, b | en)
        ]
    );
    let only_a: std::vec::Vec<_> = sleep_writes(0, None, sleep).collect();
    assert_eq!(only_a, [(Block::A, 5 << 10), (Block::A, (5 << 10) | en)]);
}
