//! What a virtual address is, in words, for fault reports: the region of
//! [`super::regions::REGIONS`] it lies in, and whether it is mapped.

use core::fmt;

use x86_64::VirtAddr;

use super::regions::{self, P4_SLOT_SIZE, PAGE_TABLES_START, RegionKind};
use super::{MEMORY, Page};

/// The kind of memory an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// Not a canonical address: bits 48-63 do not copy bit 47.
    NonCanonical,
    /// A kernel section with these permissions.
    KernelSection {
        /// Writes allowed.
        writable: bool,
        /// Instruction fetches allowed.
        executable: bool,
    },
    /// The unmapped page below the boot stack.
    BootStackGuard,
    /// An unmapped guard page below a kernel stack.
    StackGuard,
    /// A kernel stack.
    Stack,
    /// The kernel heap region.
    Heap,
    /// The device-memory region.
    Mmio,
    /// The boot data region (boot information, modules, frame bitmap).
    BootData,
    /// The per-CPU region.
    PerCpu,
    /// The kernel image region outside every section.
    KernelImage,
    /// The temporary page.
    TemporaryPage,
    /// The frame window (one frame at a time, while the kernel fills it).
    FrameWindow,
    /// The address-space window (another space's page tables, while the
    /// kernel edits them).
    SpaceWindow,
    /// The page tables, through the recursive mapping.
    PageTables,
    /// Something else that is mapped.
    Mapped,
    /// Nothing maps it.
    Unmapped,
    /// Unknown: the memory lock was held when the fault came.
    Unknown,
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NonCanonical => "non-canonical address",
            Self::KernelSection {
                writable: false,
                executable: true,
            } => "kernel text (read-only, executable)",
            Self::KernelSection {
                writable: false,
                executable: false,
            } => "kernel read-only data (not executable)",
            Self::KernelSection {
                writable: true,
                executable: false,
            } => "kernel data (writable, not executable)",
            Self::KernelSection { .. } => "kernel section (writable and executable!)",
            Self::BootStackGuard => "guard page below the boot stack (stack overflow)",
            Self::StackGuard => "guard page below a kernel stack (stack overflow)",
            Self::Stack => "kernel stack",
            Self::Heap => "kernel heap region",
            Self::Mmio => "device memory region",
            Self::BootData => "boot data region",
            Self::PerCpu => "per-CPU region",
            Self::KernelImage => "kernel image region, outside its sections",
            Self::TemporaryPage => "temporary page",
            Self::FrameWindow => "frame window (a frame being read or filled)",
            Self::SpaceWindow => "address-space window (another space's page tables)",
            Self::PageTables => "page tables (recursive mapping)",
            Self::Mapped => "mapped memory",
            Self::Unmapped => "unmapped memory",
            Self::Unknown => "unknown (memory manager busy)",
        })
    }
}

/// Says what `addr` is. Safe to call from a fault handler: it never waits
/// for the memory lock.
pub fn describe_address(addr: u64) -> AddressKind {
    let Ok(virt) = VirtAddr::try_new(addr) else {
        return AddressKind::NonCanonical;
    };
    let page = Page::containing(virt);
    if (PAGE_TABLES_START..PAGE_TABLES_START + P4_SLOT_SIZE).contains(&addr) {
        return AddressKind::PageTables;
    }
    let Some(guard) = MEMORY.try_lock() else {
        return AddressKind::Unknown;
    };
    let Some(memory) = guard.as_ref() else {
        return AddressKind::Unknown;
    };
    if page == memory.boot_stack_guard {
        return AddressKind::BootStackGuard;
    }
    if let Some(section) = memory.kernel_sections.iter().find(|s| {
        let start = regions::kernel_address(s.range.start).as_u64();
        (start..start + s.range.len()).contains(&addr)
    }) {
        return AddressKind::KernelSection {
            writable: section.writable,
            executable: section.executable,
        };
    }
    let mapped = memory.tables.translate_page(page).is_some();
    match regions::region_of(addr).map(|region| region.kind) {
        Some(RegionKind::Stacks) if mapped => AddressKind::Stack,
        Some(RegionKind::Stacks) => AddressKind::StackGuard,
        Some(RegionKind::Heap) => AddressKind::Heap,
        Some(RegionKind::Mmio) => AddressKind::Mmio,
        Some(RegionKind::TemporaryPage) => AddressKind::TemporaryPage,
        Some(RegionKind::FrameWindow) => AddressKind::FrameWindow,
        Some(RegionKind::SpaceWindow) => AddressKind::SpaceWindow,
        Some(RegionKind::BootData) => AddressKind::BootData,
        Some(RegionKind::PerCpu) => AddressKind::PerCpu,
        Some(RegionKind::KernelImage) => AddressKind::KernelImage,
        None if mapped => AddressKind::Mapped,
        None => AddressKind::Unmapped,
    }
}
