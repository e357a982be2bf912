//! Configuration space through the legacy mechanism #1: an address written
//! to port 0xCF8, then the dword read or written at port 0xCFC.
//!
//! This covers offsets 0-255 of buses 0-255 in segment 0: the way in on
//! machines without an ACPI MCFG table (the pc machine, old chipsets);
//! where there is one, [`super::ecam`] is used instead.

use pci_types::{ConfigRegionAccess, PciAddress};
use spin::Mutex;
use x86_64::instructions::interrupts::without_interrupts;
use x86_64::instructions::port::Port;

const ADDRESS_PORT: u16 = 0xCF8;
const DATA_PORT: u16 = 0xCFC;
const ENABLE: u32 = 1 << 31;

/// The 0xCF8/0xCFC pair is one shared cursor: an address and its data access
/// must not interleave with another's. The lock is taken with interrupts off.
static PORTS: Mutex<()> = Mutex::new(());

/// Configuration access through ports 0xCF8/0xCFC (segment 0 only).
#[derive(Debug, Clone, Copy, Default)]
pub struct LegacyPorts;

/// The value of the address port for `offset` of `address`'s function.
pub fn address_word(address: PciAddress, offset: u16) -> u32 {
    ENABLE
        | u32::from(address.bus()) << 16
        | u32::from(address.device() & 0x1F) << 11
        | u32::from(address.function() & 0x7) << 8
        | u32::from(offset & 0xFC)
}

impl ConfigRegionAccess for LegacyPorts {
    unsafe fn read(&self, address: PciAddress, offset: u16) -> u32 {
        if address.segment() != 0 || offset > 0xFC {
            return u32::MAX;
        }
        without_interrupts(|| {
            let _guard = PORTS.lock();
            // SAFETY: the configuration ports are owned by this module; the
            // lock keeps the address and data access together. A read of a
            // function that does not exist returns all ones.
            unsafe {
                Port::<u32>::new(ADDRESS_PORT).write(address_word(address, offset));
                Port::<u32>::new(DATA_PORT).read()
            }
        })
    }

    unsafe fn write(&self, address: PciAddress, offset: u16, value: u32) {
        if address.segment() != 0 || offset > 0xFC {
            return;
        }
        without_interrupts(|| {
            let _guard = PORTS.lock();
            // SAFETY: as in `read`; what the write does to the device is the
            // caller's duty (the trait's contract).
            unsafe {
                Port::<u32>::new(ADDRESS_PORT).write(address_word(address, offset));
                Port::<u32>::new(DATA_PORT).write(value);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_word_packs_bus_device_function_and_offset() {
        let word = address_word(PciAddress::new(0, 0x12, 0x1F, 7), 0x3E);
        assert_eq!(word, 0x8000_0000 | 0x12 << 16 | 0x1F << 11 | 7 << 8 | 0x3C);
    }
}
