//! The MCFG table (PCI Firmware specification 3.0, 4.1.2) as bytes ->
//! [`EcamRegion`]s: where each PCI segment's memory-mapped configuration
//! space lies, and which buses it covers.
//!
//! After the 36-byte header come 8 reserved bytes, then 16-byte entries:
//! base address (u64), segment group (u16), start bus, end bus (u8 each),
//! 4 reserved bytes. The base is that of bus 0 of the segment, even when
//! the entry starts at a later bus.

use alloc::vec::Vec;

use super::bytes::{le_u16, le_u64};
use super::tables::Problem;

/// Where the entries start.
const ENTRIES: usize = 44;
/// One entry's size.
const ENTRY_LEN: usize = 16;
/// Entries read at most (one per segment and bus range; firmware lists a
/// handful): a length field gone wild cannot make a long list.
pub const MAX_REGIONS: usize = 64;

/// One segment's (or bus range's) memory-mapped configuration space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcamRegion {
    /// Physical address of bus 0's configuration space in the segment.
    pub base: u64,
    /// The PCI segment group.
    pub segment: u16,
    /// The first bus decoded.
    pub start_bus: u8,
    /// The last bus decoded.
    pub end_bus: u8,
}

impl EcamRegion {
    /// Whether `bus` of `segment` is reached through this region.
    pub fn covers(&self, segment: u16, bus: u8) -> bool {
        segment == self.segment && (self.start_bus..=self.end_bus).contains(&bus)
    }

    /// Physical address of `offset` in the configuration space of
    /// `bus:device.function`: 1 MiB per bus, 32 KiB per device, 4 KiB per
    /// function (PCI Express base specification, 7.2.2).
    pub fn address(&self, bus: u8, device: u8, function: u8, offset: u16) -> u64 {
        self.base
            + (u64::from(bus) << 20
                | u64::from(device & 0x1F) << 15
                | u64::from(function & 0x7) << 12
                | u64::from(offset & 0xFFF))
    }
}

/// Reads an MCFG table (header included). Too short for its 8 reserved
/// bytes, or with a partial entry at the end, is an error; an entry whose
/// end bus is before its start bus, or whose base is not 1 MiB aligned, is
/// an error too (it would make configuration reads land elsewhere).
pub fn parse(table: &[u8]) -> Result<Vec<EcamRegion>, Problem> {
    if table.len() < ENTRIES || !(table.len() - ENTRIES).is_multiple_of(ENTRY_LEN) {
        return Err(Problem::TooShort);
    }
    table[ENTRIES..]
        .chunks_exact(ENTRY_LEN)
        .take(MAX_REGIONS)
        .map(|entry| {
            let region = EcamRegion {
                base: le_u64(entry, 0),
                segment: le_u16(entry, 8),
                start_bus: entry[10],
                end_bus: entry[11],
            };
            if region.end_bus < region.start_bus || !region.base.is_multiple_of(1 << 20) {
                return Err(Problem::Other);
            }
            Ok(region)
        })
        .collect()
}
