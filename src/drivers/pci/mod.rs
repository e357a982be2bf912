//! PCI: finding every function on the configuration space, sizing its BARs,
//! and the list drivers bind to (what `lspci` shows).
//!
//! Configuration space is reached through ECAM ([`ecam::Ecam`]) where the
//! ACPI MCFG table names a region, else through ports 0xCF8/0xCFC
//! ([`config::LegacyPorts`]); the enumeration and drivers see only
//! `pci_types::ConfigRegionAccess` ([`Access`]). Message-signalled
//! interrupts are set up through [`msi`]. Drivers map the BARs they use,
//! through `memory::map_registers`.

pub mod bar;
pub mod config;
pub mod ecam;
pub mod msi;
mod scan;

use alloc::vec::Vec;
use core::fmt;

use pci_types::device_type::DeviceType;
use pci_types::{ConfigRegionAccess, HeaderType, PciAddress, PciHeader};
use spin::{Mutex, Once};

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

/// ECAM, once [`init`] found an MCFG region.
static ECAM: Once<ecam::Ecam> = Once::new();

/// The configuration access the kernel uses: ECAM or the ports.
#[derive(Clone, Copy)]
pub enum Access {
    /// Memory-mapped, from the MCFG.
    Ecam(&'static ecam::Ecam),
    /// Ports 0xCF8/0xCFC.
    Ports(LegacyPorts),
}

impl ConfigRegionAccess for Access {
    unsafe fn read(&self, address: PciAddress, offset: u16) -> u32 {
        // SAFETY: the caller's promise, passed on.
        unsafe {
            match self {
                Self::Ecam(ecam) => ecam.read(address, offset),
                Self::Ports(ports) => ports.read(address, offset),
            }
        }
    }

    unsafe fn write(&self, address: PciAddress, offset: u16, value: u32) {
        // SAFETY: the caller's promise, passed on.
        unsafe {
            match self {
                Self::Ecam(ecam) => ecam.write(address, offset, value),
                Self::Ports(ports) => ports.write(address, offset, value),
            }
        }
    }
}

/// The configuration access the kernel uses.
pub fn access() -> Access {
    match ECAM.get() {
        Some(ecam) => Access::Ecam(ecam),
        None => Access::Ports(LegacyPorts),
    }
}

/// How configuration space is reached, for the boot log.
fn access_name() -> alloc::string::String {
    match ECAM.get() {
        Some(ecam) => {
            let mut line = alloc::string::String::from("ECAM");
            for r in ecam.regions() {
                let _ = core::fmt::Write::write_fmt(
                    &mut line,
                    format_args!(
                        " (segment {} buses {}-{} at {:#x})",
                        r.segment, r.start_bus, r.end_bus, r.base
                    ),
                );
            }
            line
        }
        None => alloc::string::String::from("ports 0xCF8/0xCFC"),
    }
}

/// Finds every function, sizes its BARs and keeps the list. Logs one line
/// per function (debug) and a summary (info). Call once, before drivers
/// look for their devices.
pub fn init() {
    // Segment 0 is what enumeration walks; a region for it makes ECAM the
    // way in (other segments' regions are kept for their addresses).
    let regions = crate::acpi::ecam_regions();
    if regions.iter().any(|r| r.segment == 0 && r.start_bus == 0) {
        ECAM.call_once(|| ecam::Ecam::new(regions.to_vec()));
    }
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
        "pci: {} functions on {} buses ({} bridges), configuration through {}",
        functions.len(),
        buses,
        bridges,
        access_name()
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
