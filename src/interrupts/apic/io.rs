//! One I/O APIC: its two registers (IOREGSEL at offset 0x00, IOWIN at
//! 0x10) through which every internal register is reached, and its
//! redirection entries (registers 0x10 + 2n and 0x11 + 2n for pin n).

use x86_64::{PhysAddr, VirtAddr};

use crate::acpi::facts::IoApicInfo;
use crate::memory::{self, DeviceMapError, PhysRange};

const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
const REG_VERSION: u32 = 0x01;
const REG_REDIRECTION: u32 = 0x10;

/// Redirection entry bits (82093AA datasheet, section 3.2.4).
const ENTRY_ACTIVE_LOW: u32 = 1 << 13;
const ENTRY_LEVEL: u32 = 1 << 15;
const ENTRY_MASKED: u32 = 1 << 16;

/// How one pin is delivered: fixed delivery, physical destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redirection {
    /// The vector the CPU sees.
    pub vector: u8,
    /// The line is active low.
    pub active_low: bool,
    /// The line is level triggered.
    pub level: bool,
    /// The destination local APIC id.
    pub destination: u8,
}

impl Redirection {
    /// The entry's low and high words, unmasked.
    pub fn words(&self) -> (u32, u32) {
        let mut low = u32::from(self.vector);
        if self.active_low {
            low |= ENTRY_ACTIVE_LOW;
        }
        if self.level {
            low |= ENTRY_LEVEL;
        }
        (low, u32::from(self.destination) << 24)
    }
}

/// A mapped I/O APIC.
pub struct IoApic {
    base: VirtAddr,
    /// What the MADT says of it.
    pub info: IoApicInfo,
    /// Its pin count, from the version register.
    pub pins: u32,
}

impl IoApic {
    /// Maps the I/O APIC the MADT describes and reads its pin count.
    ///
    /// # Safety
    /// `info.address` must be an I/O APIC's register page (device memory),
    /// and no other `IoApic` may drive the same chip.
    pub unsafe fn map(info: IoApicInfo) -> Result<Self, DeviceMapError> {
        let start = PhysAddr::new(info.address);
        // SAFETY: the caller promised this is the chip's register page.
        let base = unsafe { memory::map_registers(PhysRange::new(start, start + 0x20u64)) }?;
        let mut chip = Self {
            base,
            info,
            pins: 0,
        };
        chip.pins = ((chip.read(REG_VERSION) >> 16) & 0xFF) + 1;
        Ok(chip)
    }

    /// Reads register `reg`. The select-then-access pair runs with
    /// interrupts off, so no handler can select another register between.
    fn read(&self, reg: u32) -> u32 {
        crate::arch::without_interrupts(|| {
            // SAFETY: IOREGSEL and IOWIN lie in the page mapped in `map`.
            unsafe {
                (self.base + IOREGSEL)
                    .as_mut_ptr::<u32>()
                    .write_volatile(reg);
                (self.base + IOWIN).as_ptr::<u32>().read_volatile()
            }
        })
    }

    /// Writes register `reg`, as [`Self::read`] reads it.
    fn write(&self, reg: u32, value: u32) {
        crate::arch::without_interrupts(|| {
            // SAFETY: as in `read`.
            unsafe {
                (self.base + IOREGSEL)
                    .as_mut_ptr::<u32>()
                    .write_volatile(reg);
                (self.base + IOWIN)
                    .as_mut_ptr::<u32>()
                    .write_volatile(value);
            }
        })
    }

    /// Masks every pin.
    pub fn mask_all(&self) {
        for pin in 0..self.pins {
            self.write(REG_REDIRECTION + 2 * pin, ENTRY_MASKED);
        }
    }

    /// Sets pin `pin`'s entry and unmasks it. The high word is written
    /// first, while the entry is still masked.
    pub fn route(&self, pin: u8, redirection: Redirection) {
        let reg = REG_REDIRECTION + 2 * u32::from(pin);
        let (low, high) = redirection.words();
        self.write(reg, ENTRY_MASKED);
        self.write(reg + 1, high);
        self.write(reg, low);
    }

    /// Masks pin `pin`.
    pub fn mask(&self, pin: u8) {
        let reg = REG_REDIRECTION + 2 * u32::from(pin);
        self.write(reg, self.read(reg) | ENTRY_MASKED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_carry_vector_polarity_trigger_and_destination() {
        let edge = Redirection {
            vector: 0x31,
            active_low: false,
            level: false,
            destination: 0,
        };
        assert_eq!(edge.words(), (0x31, 0));
        let level_low = Redirection {
            vector: 0x39,
            active_low: true,
            level: true,
            destination: 3,
        };
        assert_eq!(level_low.words(), (0x39 | 1 << 13 | 1 << 15, 3 << 24));
    }
}
