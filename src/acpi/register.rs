//! The fixed-hardware registers power-off and reset write (PM1 control, the
//! reset register), made reachable once: an I/O port as it is, a register
//! in memory space mapped uncached for as long as the handle lives.

use core::fmt;
use core::ptr::NonNull;

use x86_64::VirtAddr;
use x86_64::instructions::port::Port;

use super::fadt::Register;
use super::handler::{RefusalReason, map_firmware, phys_range};
use crate::memory::{self, PhysRange};

/// Why a register cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable {
    /// The register.
    pub register: Register,
    /// Why it was not mapped.
    pub why: RefusalReason,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cannot be mapped: {}", self.register, self.why)
    }
}

/// A register ready for reads and writes.
#[derive(Debug)]
pub enum Reachable {
    /// An I/O port.
    Io(u16),
    /// A register in memory space, mapped uncached.
    Memory(Mapped),
}

/// A register's page(s), mapped with [`memory::REGISTER_FLAGS`] until drop.
#[derive(Debug)]
pub struct Mapped {
    at: NonNull<u8>,
    range: PhysRange,
}

impl Reachable {
    /// Makes `register`, `width` bytes wide, reachable: maps it if it is in
    /// memory space.
    pub fn open(register: Register, width: u64) -> Result<Self, Unreachable> {
        let address = match register {
            Register::Io(port) => return Ok(Self::Io(port)),
            Register::Memory(address) => address,
        };
        let unreachable = |why| Unreachable { register, why };
        let range = phys_range(address, width).ok_or(unreachable(RefusalReason::BadRange))?;
        let regions = crate::boot_info()
            .map(|info| info.memory_regions())
            .ok_or(unreachable(RefusalReason::Map(
                memory::DeviceMapError::NotStarted,
            )))?;
        let at = map_firmware(regions, range, memory::REGISTER_FLAGS).map_err(unreachable)?;
        Ok(Self::Memory(Mapped { at, range }))
    }

    /// Reads the register's low 16 bits.
    pub fn read_u16(&self) -> u16 {
        match self {
            // SAFETY: the FADT names this port as the register; reading a
            // PM1 control register has no side effect.
            Self::Io(port) => unsafe { Port::<u16>::new(*port).read() },
            // SAFETY: `at` maps the register uncached (at least two bytes,
            // see `open`'s width) while `self` lives.
            Self::Memory(m) => unsafe { core::ptr::read_volatile(m.at.cast::<u16>().as_ptr()) },
        }
    }

    /// Writes 16 bits.
    ///
    /// # Safety
    /// `value` must be one the register may be given (a PM1 control value
    /// whose other bits are as read).
    pub unsafe fn write_u16(&self, value: u16) {
        match self {
            // SAFETY: the caller vouches for the value; the FADT names the
            // port.
            Self::Io(port) => unsafe { Port::<u16>::new(*port).write(value) },
            // SAFETY: as above, through the register's mapping.
            Self::Memory(m) => unsafe {
                core::ptr::write_volatile(m.at.cast::<u16>().as_ptr(), value)
            },
        }
    }

    /// Writes 8 bits.
    ///
    /// # Safety
    /// `value` must be one the register may be given (the FADT's reset
    /// value for the reset register).
    pub unsafe fn write_u8(&self, value: u8) {
        match self {
            // SAFETY: the caller vouches for the value; the FADT names the
            // port.
            Self::Io(port) => unsafe { Port::<u8>::new(*port).write(value) },
            // SAFETY: as above, through the register's mapping.
            Self::Memory(m) => unsafe { core::ptr::write_volatile(m.at.as_ptr(), value) },
        }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: `self` is the mapping's only user and is going away.
        unsafe { memory::unmap_device(VirtAddr::from_ptr(self.at.as_ptr()), self.range) };
    }
}
