//! Chip quirks that decide whether a keyboard is seen at all.
//!
//! Intel's 7, 8 and 9 series chipsets (Panther Point, Lynx Point, Wildcat
//! Point) share their USB 2 ports between the xHCI controller and the older
//! EHCI controllers, and route them to EHCI until the system software says
//! otherwise. A keyboard on such a port is invisible to xHCI until the
//! switch: every port the firmware allows (the mask registers) is moved to
//! xHCI, as other systems do.

use pci_types::{ConfigRegionAccess, PciAddress};

/// PCI vendor id of Intel.
const INTEL: u16 = 0x8086;
/// xHCI controllers with switchable ports.
const SWITCHABLE: [u16; 5] = [0x1E31, 0x8C31, 0x9C31, 0x8CB1, 0x9CB1];

/// USB 2 port routing (1 = xHCI) and its mask of switchable ports.
const XUSB2PR: u16 = 0xD0;
const USB2PRM: u16 = 0xD4;
/// USB 3 SuperSpeed enable and its mask.
const USB3_PSSEN: u16 = 0xD8;
const USB3PRM: u16 = 0xDC;

/// Whether the controller `vendor:device` routes shared ports elsewhere.
pub fn has_switchable_ports(vendor: u16, device: u16) -> bool {
    vendor == INTEL && SWITCHABLE.contains(&device)
}

/// Moves every switchable port to the xHCI controller at `address`;
/// returns the USB 2 ports now routed to it (a bit per port).
pub fn route_ports_to_xhci(access: &impl ConfigRegionAccess, address: PciAddress) -> u32 {
    // SAFETY: the chipset's documented routing registers of the function
    // the driver is taking; only ports the masks allow are switched.
    unsafe {
        access.write(address, USB3_PSSEN, access.read(address, USB3PRM));
        access.write(address, XUSB2PR, access.read(address, USB2PRM));
        access.read(address, XUSB2PR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_intel_switchable_controllers_match() {
        assert!(has_switchable_ports(0x8086, 0x1E31));
        assert!(has_switchable_ports(0x8086, 0x9CB1));
        // QEMU's and NEC's controllers, and a later Intel one, have none.
        assert!(!has_switchable_ports(0x1B36, 0x000D));
        assert!(!has_switchable_ports(0x1033, 0x0194));
        assert!(!has_switchable_ports(0x8086, 0xA12F));
    }
}
