//! Finding every function: bus 0 first, then the secondary bus behind each
//! PCI-to-PCI bridge. Each bus is scanned at most once, so a bridge that
//! claims a bus already seen (a loop, or firmware that left bus numbers
//! unassigned) cannot make the walk run forever.

use alloc::vec::Vec;

use pci_types::{ConfigRegionAccess, HeaderType, PciAddress, PciHeader, PciPciBridgeHeader};

/// One function found, before its BARs are read.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    /// Where it is.
    pub address: PciAddress,
    /// Its header layout.
    pub header_type: HeaderType,
}

/// Every function on every reachable bus, in bus order of discovery.
pub fn scan(access: &impl ConfigRegionAccess) -> Vec<Found> {
    let mut seen = [false; 256];
    let mut pending: Vec<u8> = Vec::new();
    let mut found = Vec::new();
    // A multi-function host bridge at 00:00 means one root bus per function.
    let host = PciHeader::new(PciAddress::new(0, 0, 0, 0));
    if host.has_multiple_functions(access) {
        for function in 0..8u8 {
            let header = PciHeader::new(PciAddress::new(0, 0, 0, function));
            if present(access, &header) {
                pending.push(function);
            }
        }
    } else {
        pending.push(0);
    }
    while let Some(bus) = pending.pop() {
        if core::mem::replace(&mut seen[usize::from(bus)], true) {
            continue;
        }
        for device in 0..32 {
            scan_device(access, bus, device, &mut found, &mut pending);
        }
    }
    found.sort_by_key(|f| {
        let a = f.address;
        (a.bus(), a.device(), a.function())
    });
    found
}

fn present(access: &impl ConfigRegionAccess, header: &PciHeader) -> bool {
    header.id(access).0 != 0xFFFF
}

fn scan_device(
    access: &impl ConfigRegionAccess,
    bus: u8,
    device: u8,
    found: &mut Vec<Found>,
    pending: &mut Vec<u8>,
) {
    let first = PciHeader::new(PciAddress::new(0, bus, device, 0));
    if !present(access, &first) {
        return;
    }
    let functions = if first.has_multiple_functions(access) {
        8
    } else {
        1
    };
    for function in 0..functions {
        let header = PciHeader::new(PciAddress::new(0, bus, device, function));
        if !present(access, &header) {
            continue;
        }
        let address = header.address();
        let header_type = header.header_type(access);
        if header_type == HeaderType::PciPciBridge
            && let Some(bridge) = PciPciBridgeHeader::from_header(header, access)
        {
            let secondary = bridge.secondary_bus_number(access);
            if secondary > bus {
                pending.push(secondary);
            }
        }
        found.push(Found {
            address,
            header_type,
        });
    }
}
