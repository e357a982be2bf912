//! Base address registers: decoding and sizing.
//!
//! Sizing writes all ones to a BAR and reads back which address bits stick;
//! the device's decoding is switched off meanwhile (the BAR briefly points
//! at the top of the address space, where it could shadow other memory),
//! and the BAR and the command register are restored afterwards.

use core::fmt;

use pci_types::{ConfigRegionAccess, PciAddress};
use x86_64::PhysAddr;

/// Offset of the command register in the configuration header.
const COMMAND: u16 = 0x04;
const COMMAND_IO: u32 = 1 << 0;
const COMMAND_MEMORY: u32 = 1 << 1;
/// Offset of BAR 0.
const BAR0: u16 = 0x10;

/// A decoded BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bar {
    /// Memory-mapped registers or memory.
    Memory {
        /// Its physical base.
        base: PhysAddr,
        /// Its size in bytes (a power of two).
        size: u64,
        /// A 64-bit BAR (takes two slots).
        wide: bool,
        /// Reads have no side effects.
        prefetchable: bool,
    },
    /// I/O ports.
    Io {
        /// The first port.
        port: u32,
        /// How many ports.
        size: u32,
    },
}

impl fmt::Display for Bar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Memory {
                base,
                size,
                wide,
                prefetchable,
            } => write!(
                f,
                "mem{} {:#x} ({}{})",
                if wide { "64" } else { "32" },
                base.as_u64(),
                crate::units::ByteSize(size),
                if prefetchable { ", prefetchable" } else { "" }
            ),
            Self::Io { port, size } => write!(f, "io {port:#x} ({size} ports)"),
        }
    }
}

/// What one BAR slot read: its value, and its value after all ones were
/// written (for a 64-bit BAR, both halves joined).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawBar {
    /// The value (with the upper half for a 64-bit BAR).
    pub value: u64,
    /// The read-back after writing all ones.
    pub mask: u64,
}

/// Whether a BAR's low dword says it is a 64-bit memory BAR.
pub fn is_wide(low: u32) -> bool {
    low & 1 == 0 && (low >> 1) & 3 == 2
}

/// Decodes a sized BAR; `None` for an unimplemented one (no address bit
/// sticks) or a reserved memory type.
pub fn decode(raw: RawBar) -> Option<Bar> {
    let low = raw.value as u32;
    if low & 1 == 1 {
        // I/O: bits 2.. hold the port; the upper 16 bits may not be wired.
        let mask = (raw.mask as u32 & !0x3) | 0xFFFF_0000;
        let size = (!mask).wrapping_add(1);
        return (raw.mask as u32 & !0x3 != 0).then_some(Bar::Io {
            port: low & !0x3,
            size,
        });
    }
    let wide = match (low >> 1) & 3 {
        0 => false,
        2 => true,
        _ => return None,
    };
    let address_bits = raw.mask & if wide { !0xF } else { 0xFFFF_FFF0 };
    if address_bits == 0 {
        return None;
    }
    let mask = if wide {
        address_bits
    } else {
        address_bits | 0xFFFF_FFFF_0000_0000
    };
    let base = if wide {
        raw.value & !0xF
    } else {
        u64::from(low & !0xF)
    };
    Some(Bar::Memory {
        base: PhysAddr::try_new(base).ok()?,
        size: (!mask).wrapping_add(1),
        wide,
        prefetchable: low & 0x8 != 0,
    })
}

/// Reads and sizes every BAR of the function at `address` (`count` slots:
/// 6 for a device, 2 for a bridge), with its decoding off meanwhile.
///
/// # Safety
/// The function's driver must not be using its BARs (this runs at
/// enumeration, before any driver binds).
pub unsafe fn size_all(
    access: &impl ConfigRegionAccess,
    address: PciAddress,
    count: u8,
) -> [Option<Bar>; 6] {
    let mut bars = [None; 6];
    // SAFETY: reading and restoring the command register; the caller
    // promised no driver uses the BARs while decoding is off.
    let command = unsafe { access.read(address, COMMAND) };
    // SAFETY: as above.
    unsafe { access.write(address, COMMAND, command & !(COMMAND_IO | COMMAND_MEMORY)) };
    let mut slot = 0;
    while slot < count.min(6) {
        let offset = BAR0 + u16::from(slot) * 4;
        // SAFETY: BAR sizing on a function with decoding off; each BAR is
        // written back with its value before the next.
        let (raw, used) = unsafe { size_one(access, address, offset, slot + 1 < count) };
        bars[usize::from(slot)] = decode(raw);
        slot += used;
    }
    // SAFETY: restores the value read above.
    unsafe { access.write(address, COMMAND, command) };
    bars
}

/// Sizes the BAR at `offset`; returns it and the slots it takes.
///
/// # Safety
/// As [`size_all`], with the function's decoding off.
unsafe fn size_one(
    access: &impl ConfigRegionAccess,
    address: PciAddress,
    offset: u16,
    room_for_wide: bool,
) -> (RawBar, u8) {
    // SAFETY: the caller's promise; every write is undone before returning.
    unsafe {
        let low = access.read(address, offset);
        access.write(address, offset, u32::MAX);
        let low_mask = access.read(address, offset);
        access.write(address, offset, low);
        if !(is_wide(low) && room_for_wide) {
            let value = u64::from(low);
            return (
                RawBar {
                    value,
                    mask: u64::from(low_mask),
                },
                1,
            );
        }
        let high = access.read(address, offset + 4);
        access.write(address, offset + 4, u32::MAX);
        let high_mask = access.read(address, offset + 4);
        access.write(address, offset + 4, high);
        (
            RawBar {
                value: u64::from(high) << 32 | u64::from(low),
                mask: u64::from(high_mask) << 32 | u64::from(low_mask),
            },
            2,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory32_size_and_flags() {
        let bar = decode(RawBar {
            value: 0xFEBF_0008,
            mask: 0xFFFF_C008,
        });
        assert_eq!(
            bar,
            Some(Bar::Memory {
                base: PhysAddr::new(0xFEBF_0000),
                size: 0x4000,
                wide: false,
                prefetchable: true
            })
        );
    }

    #[test]
    fn memory64_size_spans_both_halves() {
        let bar = decode(RawBar {
            value: 0x0000_0008_0000_000C,
            mask: 0xFFFF_FFFF_FFF0_000C,
        });
        assert_eq!(
            bar,
            Some(Bar::Memory {
                base: PhysAddr::new(0x8_0000_0000),
                size: 0x10_0000,
                wide: true,
                prefetchable: true
            })
        );
    }

    #[test]
    fn io_bar_with_unwired_upper_bits() {
        let bar = decode(RawBar {
            value: 0xC041,
            mask: 0xFFE1,
        });
        assert_eq!(
            bar,
            Some(Bar::Io {
                port: 0xC040,
                size: 32
            })
        );
    }

    #[test]
    fn unimplemented_and_reserved_bars_are_none() {
        assert_eq!(decode(RawBar { value: 0, mask: 0 }), None);
        // Memory type 1 (below 1 MiB, reserved since PCI 3.0).
        assert_eq!(
            decode(RawBar {
                value: 0x2,
                mask: 0xFFFF_F002
            }),
            None
        );
    }
}
