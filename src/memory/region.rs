//! Plain descriptions of physical memory: ranges, and what the memory map
//! says about them. The boot code fills these in; the memory code reads them.

use core::fmt;

use x86_64::PhysAddr;

/// A half-open range of physical addresses `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysRange {
    /// First address in the range.
    pub start: PhysAddr,
    /// First address after the range.
    pub end: PhysAddr,
}

impl PhysRange {
    /// The range `[start, end)`.
    pub fn new(start: PhysAddr, end: PhysAddr) -> Self {
        debug_assert!(start <= end);
        Self { start, end }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range holds no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `addr` lies in the range.
    pub fn contains(&self, addr: PhysAddr) -> bool {
        self.start <= addr && addr < self.end
    }
}

impl fmt::Display for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}-{:#x}", self.start.as_u64(), self.end.as_u64())
    }
}

/// What a memory-map entry says about its range (Multiboot2 spec 3.6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// RAM free for the kernel.
    Usable,
    /// Reserved by the firmware or a device.
    Reserved,
    /// RAM holding ACPI tables, usable once they are read.
    AcpiReclaimable,
    /// Must be preserved across sleep (ACPI NVS).
    AcpiNvs,
    /// Defective RAM.
    Defective,
    /// The firmware's own code that stays in use after boot: on UEFI, the
    /// runtime services' code (GRUB reports it as its type 20,
    /// `GRUB_MEMORY_CODE`). Never handed out: runtime services may be
    /// called at any time after boot, and their code must then be where the
    /// firmware left it. Pyrite calls none today, but the memory is small
    /// (tens of KiB to a few MiB) and keeping it is what the UEFI
    /// specification asks of an operating system.
    FirmwareCode,
    /// A type the specification does not define.
    Other(u32),
}

impl fmt::Display for MemoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usable => f.write_str("usable"),
            Self::Reserved => f.write_str("reserved"),
            Self::AcpiReclaimable => f.write_str("ACPI reclaimable"),
            Self::AcpiNvs => f.write_str("ACPI NVS"),
            Self::Defective => f.write_str("defective"),
            Self::FirmwareCode => f.write_str("firmware code (kept)"),
            Self::Other(code) => write!(f, "type {code}"),
        }
    }
}

/// One entry of the memory map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRegion {
    /// The physical range.
    pub range: PhysRange,
    /// What it may be used for.
    pub kind: MemoryKind,
}

/// A loaded section of the kernel image and the access it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSection {
    /// Where the section was loaded; it runs at this range +
    /// `layout::KERNEL_OFFSET` (`memory::regions::kernel_address`).
    pub range: PhysRange,
    /// The section is written to (data, bss).
    pub writable: bool,
    /// The section holds code.
    pub executable: bool,
}
