//! The HPET description table (IA-PC HPET specification 1.0a, section
//! 3.2.4) as bytes -> [`HpetFacts`].

use super::bytes::{le_u32, le_u64};
use super::tables::Problem;

/// The event timer block id (the capabilities register's low half).
const BLOCK_ID: usize = 36;
/// The base address, a Generic Address Structure.
const BASE_ADDRESS: usize = 40;
/// The table's length with every field.
const TABLE_LEN: usize = 56;

/// The HPET the firmware describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HpetFacts {
    /// The physical address of its registers.
    pub address: u64,
    /// How many comparators (timers) it has.
    pub comparators: u8,
    /// Its main counter is 64 bits wide (else 32).
    pub counter_64bit: bool,
}

/// Reads an HPET table (header included): too short, or with registers
/// outside memory space, is an error.
pub fn parse(table: &[u8]) -> Result<HpetFacts, Problem> {
    if table.len() < TABLE_LEN {
        return Err(Problem::TooShort);
    }
    if table[BASE_ADDRESS] != 0 {
        return Err(Problem::AddressSpace(table[BASE_ADDRESS]));
    }
    let id = le_u32(table, BLOCK_ID);
    Ok(HpetFacts {
        address: le_u64(table, BASE_ADDRESS + 4),
        // Bits 8-12: the number of the last comparator.
        comparators: ((id >> 8) & 0x1f) as u8 + 1,
        // Bit 13: COUNT_SIZE_CAP.
        counter_64bit: id & (1 << 13) != 0,
    })
}
