//! What a virtual address is, in words, for fault reports.

use core::fmt;

use x86_64::VirtAddr;

use super::{HEAP_START, MMIO_START, STACKS_PAGES, STACKS_START, TEMPORARY_PAGE};
use super::{MEMORY, Page, RECURSIVE_SLOT_START};

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
    /// The temporary page.
    TemporaryPage,
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
            Self::TemporaryPage => "temporary page",
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
    if (RECURSIVE_SLOT_START..RECURSIVE_SLOT_START + (1 << 39)).contains(&addr) {
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
    if let Some(section) = memory
        .kernel_sections
        .iter()
        .find(|s| s.range.start.as_u64() <= addr && addr < s.range.end.as_u64())
    {
        return AddressKind::KernelSection {
            writable: section.writable,
            executable: section.executable,
        };
    }
    let mapped = memory.tables.translate_page(page).is_some();
    let stacks_end = STACKS_START + STACKS_PAGES * 4096;
    match addr {
        _ if (STACKS_START..stacks_end).contains(&addr) => {
            if mapped {
                AddressKind::Stack
            } else {
                AddressKind::StackGuard
            }
        }
        _ if (HEAP_START..STACKS_START).contains(&addr) => AddressKind::Heap,
        _ if (MMIO_START..TEMPORARY_PAGE).contains(&addr) => AddressKind::Mmio,
        _ if page == Page::containing(VirtAddr::new(TEMPORARY_PAGE)) => AddressKind::TemporaryPage,
        _ if mapped => AddressKind::Mapped,
        _ => AddressKind::Unmapped,
    }
}
