//! PCI: finding every function on the configuration space, sizing its BARs,
//! and the list drivers bind to (what `lspci` shows).
//!
//! Configuration space is reached through [`config::LegacyPorts`] now; the
//! enumeration and drivers see only `pci_types::ConfigRegionAccess`, so ECAM
//! from the ACPI MCFG table can replace it without changes here. This module
//! maps no device memory: a driver maps the BARs it uses, through
//! `memory::map_device`.

pub mod bar;
pub mod config;
pub mod msi;
mod scan;

use alloc::vec::Vec;
use core::fmt;

use pci_types::device_type::DeviceType;
use pci_types::{ConfigRegionAccess, HeaderType, PciAddress, PciHeader};
use spin::Mutex;

pub use bar::Bar;
pub use config::LegacyPorts;

/// One PCI function, as found at boot.
#[derive(Debug, Clone)]
pub struct PciFunction {
    /// Where it is.
    pub address: PciAddress,
    /// Vendor id.
    pub vendor: u16,
    /// Device id.
    pub device: u16,
    /// Base class.
    pub class: u8,
    /// Sub-class.
    pub subclass: u8,
    /// Programming interface.
    pub interface: u8,
    /// Its header layout.
    pub header_type: HeaderType,
    /// Its BARs by slot (the second slot of a 64-bit BAR is `None`).
    pub bars: [Option<Bar>; 6],
    /// The driver that took it, if any.
    pub driver: Option<&'static str>,
}

impl PciFunction {
    /// The class as a name (from the PCI class code tables).
    pub fn class_name(&self) -> DeviceType {
        DeviceType::from((self.class, self.subclass))
    }

    /// Whether it has this class, sub-class and interface.
    pub fn is(&self, class: u8, subclass: u8, interface: u8) -> bool {
        (self.class, self.subclass, self.interface) == (class, subclass, interface)
    }
}

/// `bb:dd.f`, as `lspci` writes it.
pub struct Bdf(pub PciAddress);

impl fmt::Display for Bdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        write!(f, "{:02x}:{:02x}.{}", a.bus(), a.device(), a.function())
    }
}

impl fmt::Display for PciFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:04x}:{:04x} [{:02x}{:02x}{:02x}] {:?}",
            Bdf(self.address),
            self.vendor,
            self.device,
            self.class,
            self.subclass,
            self.interface,
            self.class_name()
        )?;
        match self.driver {
            Some(driver) => write!(f, " (driver: {driver})"),
            None => f.write_str(" (no driver)"),
        }
    }
}

/// Every function found by [`init`].
static FUNCTIONS: Mutex<Vec<PciFunction>> = Mutex::new(Vec::new());

/// The configuration access the kernel uses.
pub fn access() -> LegacyPorts {
    LegacyPorts
}

/// Finds every function, sizes its BARs and keeps the list. Logs one line
/// per function (debug) and a summary (info). Call once, before drivers
/// look for their devices.
pub fn init() {
    let access = access();
    let mut functions = Vec::new();
    for found in scan::scan(&access) {
        let function = read_function(&access, found.address, found.header_type);
        log::debug!("pci: {function}");
        for (slot, bar) in function.bars.iter().enumerate() {
            if let Some(bar) = bar {
                log::trace!("pci: {} BAR{slot}: {bar}", Bdf(function.address));
            }
        }
        functions.push(function);
    }
    let bridges = functions
        .iter()
        .filter(|f| f.header_type == HeaderType::PciPciBridge)
        .count();
    let buses = {
        let mut buses: Vec<u8> = functions.iter().map(|f| f.address.bus()).collect();
        buses.dedup();
        buses.len()
    };
    log::info!(
        "pci: {} functions on {} buses ({} bridges), configuration through ports 0xCF8/0xCFC",
        functions.len(),
        buses,
        bridges
    );
    *FUNCTIONS.lock() = functions;
}

fn read_function(
    access: &impl ConfigRegionAccess,
    address: PciAddress,
    header_type: HeaderType,
) -> PciFunction {
    let header = PciHeader::new(address);
    let (vendor, device) = header.id(access);
    let (_, class, subclass, interface) = header.revision_and_class(access);
    let slots = match header_type {
        HeaderType::Endpoint => 6,
        HeaderType::PciPciBridge => 2,
        _ => 0,
    };
    // SAFETY: enumeration runs before any driver binds, so no one uses the
    // BARs while they are sized.
    let bars = unsafe { bar::size_all(access, address, slots) };
    PciFunction {
        address,
        vendor,
        device,
        class,
        subclass,
        interface,
        header_type,
        bars,
        driver: None,
    }
}

/// A copy of the function list.
pub fn functions() -> Vec<PciFunction> {
    FUNCTIONS.lock().clone()
}

/// Records that `driver` took the function at `address`.
pub fn bind(address: PciAddress, driver: &'static str) {
    if let Some(f) = FUNCTIONS.lock().iter_mut().find(|f| f.address == address) {
        f.driver = Some(driver);
    }
}

/// Turns on memory decoding and bus mastering (DMA) for a function.
pub fn enable_memory_and_dma(address: PciAddress) {
    let mut header = PciHeader::new(address);
    header.update_command(access(), |command| {
        command
            | pci_types::CommandRegister::MEMORY_ENABLE
            | pci_types::CommandRegister::BUS_MASTER_ENABLE
    });
}
