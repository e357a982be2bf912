//! The MCFG parser over hand-built tables, and the table found through the
//! crate with the rest.

use super::sdt;
use crate::acpi::describe;
use crate::acpi::mcfg::{EcamRegion, parse};
use crate::acpi::tables::Problem;
use std::vec::Vec;

fn entry(base: u64, segment: u16, start: u8, end: u8) -> Vec<u8> {
    let mut e = base.to_le_bytes().to_vec();
    e.extend_from_slice(&segment.to_le_bytes());
    e.extend_from_slice(&[start, end, 0, 0, 0, 0]);
    e
}

pub fn mcfg(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut body = vec![0u8; 8];
    for e in entries {
        body.extend_from_slice(e);
    }
    sdt(b"MCFG", 1, &body)
}

#[test]
fn q35s_single_region_is_read() {
    let regions = parse(&mcfg(&[entry(0xB000_0000, 0, 0, 0xFF)])).unwrap();
    let q35 = EcamRegion {
        base: 0xB000_0000,
        segment: 0,
        start_bus: 0,
        end_bus: 0xFF,
    };
    assert_eq!(regions, [q35]);
    assert_eq!(
        describe::mcfg(&regions),
        "MCFG: ECAM for segment 0 buses 0-255 at 0xb0000000"
    );
}

#[test]
fn several_regions_and_none_are_read() {
    let regions = parse(&mcfg(&[
        entry(0xE000_0000, 0, 0, 0x3F),
        entry(0xF000_0000, 1, 0x80, 0x81),
    ]))
    .unwrap();
    assert_eq!(regions.len(), 2);
    assert!(
        regions[1].covers(1, 0x81) && !regions[1].covers(1, 0x7F) && !regions[1].covers(0, 0x80)
    );
    assert_eq!(parse(&mcfg(&[])), Ok(Vec::new()));
}

#[test]
fn a_truncated_table_or_entry_is_too_short() {
    let whole = mcfg(&[entry(0xB000_0000, 0, 0, 0xFF)]);
    // Cut in the last entry, in the reserved bytes, inside the header.
    for len in [whole.len() - 1, whole.len() - 15, 40, 20] {
        assert_eq!(parse(&whole[..len]), Err(Problem::TooShort), "{len} bytes");
    }
}

#[test]
fn a_backwards_bus_range_or_an_unaligned_base_is_refused() {
    assert_eq!(
        parse(&mcfg(&[entry(0xB000_0000, 0, 5, 4)])),
        Err(Problem::Other)
    );
    assert_eq!(
        parse(&mcfg(&[entry(0xB000_1000, 0, 0, 4)])),
        Err(Problem::Other)
    );
}

#[test]
fn an_address_packs_bus_device_function_and_offset_over_bus_0s_base() {
    let r = EcamRegion {
        base: 0xB000_0000,
        segment: 0,
        start_bus: 1,
        end_bus: 2,
    };
    assert_eq!(r.address(0, 0, 0, 0), 0xB000_0000);
    assert_eq!(
        r.address(1, 3, 2, 0x104),
        0xB000_0000 + (1 << 20) + (3 << 15) + (2 << 12) + 0x104
    );
    assert_eq!(r.address(0xFF, 31, 7, 0xFFC), 0xB000_0000 + 0x0FFF_FFFC);
}
