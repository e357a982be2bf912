//! xHCI registers (xHCI 1.2, chapter 5): offsets and bits, and volatile
//! access to a mapped register block. Only the fields the driver uses.

use x86_64::VirtAddr;

/// A mapped block of 32-bit registers.
#[derive(Debug, Clone, Copy)]
pub struct Mmio {
    base: VirtAddr,
}

impl Mmio {
    /// The block at `base`.
    ///
    /// # Safety
    /// `base` must map the controller's registers (uncached) for as long as
    /// the value and its copies live, and every offset used must lie in it.
    pub unsafe fn new(base: VirtAddr) -> Self {
        Self { base }
    }

    /// The block `offset` bytes further on.
    pub fn at(self, offset: u64) -> Self {
        Self {
            base: self.base + offset,
        }
    }

    /// The block's virtual address.
    pub fn base(self) -> VirtAddr {
        self.base
    }

    /// Reads the dword at `offset`.
    pub fn read(self, offset: u64) -> u32 {
        // SAFETY: `new`'s contract: the block is mapped device registers.
        unsafe { (self.base + offset).as_ptr::<u32>().read_volatile() }
    }

    /// Writes the dword at `offset`.
    pub fn write(self, offset: u64, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            (self.base + offset)
                .as_mut_ptr::<u32>()
                .write_volatile(value)
        }
    }

    /// Writes a 64-bit register as two dwords, low first (what controllers
    /// without 64-bit access accept too).
    pub fn write64(self, offset: u64, value: u64) {
        self.write(offset, value as u32);
        self.write(offset + 4, (value >> 32) as u32);
    }
}

// Capability registers.
pub const CAPLENGTH: u64 = 0x00;
pub const HCSPARAMS1: u64 = 0x04;
pub const HCSPARAMS2: u64 = 0x08;
pub const HCCPARAMS1: u64 = 0x10;
pub const DBOFF: u64 = 0x14;
pub const RTSOFF: u64 = 0x18;
/// HCCPARAMS1: 64-bit addresses.
pub const HCC_AC64: u32 = 1 << 0;
/// HCCPARAMS1: contexts are 64 bytes, not 32.
pub const HCC_CSZ: u32 = 1 << 2;

// Operational registers.
pub const USBCMD: u64 = 0x00;
pub const USBSTS: u64 = 0x04;
pub const CRCR: u64 = 0x18;
pub const DCBAAP: u64 = 0x30;
pub const CONFIG: u64 = 0x38;
/// PORTSC of port `n` (1-based) is at `PORTSC_BASE + 0x10 * (n - 1)`.
pub const PORTSC_BASE: u64 = 0x400;

pub const CMD_RUN: u32 = 1 << 0;
pub const CMD_RESET: u32 = 1 << 1;
/// USBCMD INTE: interrupters may interrupt the host.
pub const CMD_INTERRUPTS: u32 = 1 << 2;
pub const STS_HALTED: u32 = 1 << 0;
pub const STS_HOST_ERROR: u32 = 1 << 2;
pub const STS_EVENT_INTERRUPT: u32 = 1 << 3;
pub const STS_PORT_CHANGE: u32 = 1 << 4;
pub const STS_NOT_READY: u32 = 1 << 11;
pub const STS_CONTROLLER_ERROR: u32 = 1 << 12;

// PORTSC bits.
pub const PORT_CONNECTED: u32 = 1 << 0;
pub const PORT_ENABLED: u32 = 1 << 1;
pub const PORT_RESET: u32 = 1 << 4;
pub const PORT_POWER: u32 = 1 << 9;
pub const PORT_SPEED_SHIFT: u32 = 10;
pub const PORT_CONNECT_CHANGE: u32 = 1 << 17;
pub const PORT_RESET_CHANGE: u32 = 1 << 21;
/// Every write-1-to-clear change bit (CSC, PEC, WRC, OCC, PRC, PLC, CEC).
pub const PORT_CHANGE_BITS: u32 = 0x7F << 17;
/// Bits a read-modify-write must not write back as read: PED (writing 1
/// disables the port), the change bits, and PR and LWS (actions).
pub const PORT_PRESERVE_MASK: u32 = !(PORT_ENABLED | PORT_CHANGE_BITS | PORT_RESET | (1 << 16));

// Runtime registers: interrupter 0.
pub const IR0: u64 = 0x20;
/// Interrupter management: IP (write 1 to clear) and IE.
pub const IMAN: u64 = 0x00;
/// Interrupter moderation: the interval in 250 ns units, bits 15:0.
pub const IMOD: u64 = 0x04;
pub const IMAN_PENDING: u32 = 1 << 0;
pub const IMAN_ENABLE: u32 = 1 << 1;
pub const ERSTSZ: u64 = 0x08;
pub const ERSTBA: u64 = 0x10;
pub const ERDP: u64 = 0x18;
/// ERDP: the event handler is busy (write 1 to clear).
pub const ERDP_BUSY: u64 = 1 << 3;

// Extended capabilities.
pub const XCAP_LEGACY: u8 = 1;
pub const XCAP_PROTOCOL: u8 = 2;
pub const LEGACY_BIOS_OWNED: u32 = 1 << 16;
pub const LEGACY_OS_OWNED: u32 = 1 << 24;
