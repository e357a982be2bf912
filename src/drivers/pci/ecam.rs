//! Configuration space through ECAM: each function's 4 KiB of
//! configuration space is memory at a fixed place in a region the ACPI MCFG
//! table names (one region per segment and bus range).
//!
//! A bus's 1 MiB is mapped, uncached, the first time one of its functions
//! is read, and stays mapped: enumeration follows bridges, so only buses
//! that exist are mapped, never the whole 256 MiB a segment may span.
//! The list of mapped buses is locked briefly with interrupts off; a bus
//! is mapped outside the lock.

use alloc::vec::Vec;

use pci_types::{ConfigRegionAccess, PciAddress};
use spin::Mutex;
use x86_64::instructions::interrupts::without_interrupts;
use x86_64::{PhysAddr, VirtAddr};

use crate::acpi::mcfg::EcamRegion;
use crate::memory::{self, PhysRange};

/// One bus's configuration space.
const BUS_SPAN: u64 = 1 << 20;

/// A bus: mapped at this address, or its mapping failed (reads give all
/// ones, as from an absent function).
type Bus = ((u16, u8), Option<VirtAddr>);

/// ECAM over the regions of an MCFG table.
pub struct Ecam {
    regions: Vec<EcamRegion>,
    buses: Mutex<Vec<Bus>>,
}

impl Ecam {
    /// Access through `regions` (as read from the MCFG).
    pub fn new(regions: Vec<EcamRegion>) -> Self {
        Self {
            regions,
            buses: Mutex::new(Vec::new()),
        }
    }

    /// The regions in use.
    pub fn regions(&self) -> &[EcamRegion] {
        &self.regions
    }

    /// The address of `offset` in `address`'s configuration space, mapping
    /// its bus first if needed; `None` outside every region or if mapping
    /// failed.
    fn locate(&self, address: PciAddress, offset: u16) -> Option<VirtAddr> {
        let (segment, bus) = (address.segment(), address.bus());
        let region = self.regions.iter().find(|r| r.covers(segment, bus))?;
        let base = match self.mapped(segment, bus) {
            Some(base) => base,
            None => self.map_bus(region, segment, bus),
        }?;
        let within = region.address(bus, address.device(), address.function(), offset & 0xFFC)
            - region.address(bus, 0, 0, 0);
        Some(base + within)
    }

    /// The bus's mapping, if it was mapped (or tried) before.
    fn mapped(&self, segment: u16, bus: u8) -> Option<Option<VirtAddr>> {
        without_interrupts(|| {
            let buses = self.buses.lock();
            buses
                .iter()
                .find(|(at, _)| *at == (segment, bus))
                .map(|(_, base)| *base)
        })
    }

    /// Maps the bus and records it. The mapping is made outside the lock
    /// (it takes the memory code's); two threads mapping the same bus at
    /// once each get a mapping, and the first recorded is kept for good.
    fn map_bus(&self, region: &EcamRegion, segment: u16, bus: u8) -> Option<VirtAddr> {
        let start = PhysAddr::new(region.address(bus, 0, 0, 0));
        // SAFETY: the MCFG names this range as configuration space: device
        // memory, never RAM the allocator hands out.
        let mapped = unsafe { memory::map_registers(PhysRange::new(start, start + BUS_SPAN)) };
        if let Err(err) = &mapped {
            log::warn!("pci: bus {segment:04x}:{bus:02x} not mapped for ECAM: {err}");
        }
        without_interrupts(|| {
            let mut buses = self.buses.lock();
            match buses.iter().find(|(at, _)| *at == (segment, bus)) {
                Some((_, first)) => *first,
                None => {
                    buses.push(((segment, bus), mapped.ok()));
                    mapped.ok()
                }
            }
        })
    }
}

impl ConfigRegionAccess for Ecam {
    unsafe fn read(&self, address: PciAddress, offset: u16) -> u32 {
        match self.locate(address, offset) {
            // SAFETY: a dword inside the bus's mapped configuration space
            // (offset masked to 4 KiB, dword aligned).
            Some(at) => unsafe { at.as_ptr::<u32>().read_volatile() },
            None => u32::MAX,
        }
    }

    unsafe fn write(&self, address: PciAddress, offset: u16, value: u32) {
        if let Some(at) = self.locate(address, offset) {
            // SAFETY: as in `read`; what the write does to the device is
            // the caller's duty (the trait's contract).
            unsafe { at.as_mut_ptr::<u32>().write_volatile(value) }
        }
    }
}
