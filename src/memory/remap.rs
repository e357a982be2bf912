//! Builds the kernel's own page table and switches to it: each kernel
//! section mapped in the higher half (physical address + `KERNEL_OFFSET`)
//! with the access it needs (code: executable, read-only; read-only data:
//! neither writable nor executable; data and bss: writable, not
//! executable), plus the few physical ranges the kernel still reads in the
//! boot data region. Nothing of the boot identity map survives (P4 slots
//! 0-255 stay empty, page 0 is never mapped), no page is both writable and
//! executable, and every shared kernel P4 slot
//! ([`super::regions::shared_kernel_slots`]) gets its P3 table now, so that
//! address spaces sharing the kernel's P4 entries see later mappings. The
//! window slots get none: each table points them elsewhere at run time.

use core::fmt;

use super::frame::{Frame, FrameAllocator};
use super::frames_of;
use super::page::Page;
use super::paging::{
    ActivePageTable, EntryFlags, InactivePageTable, MapError, TemporaryPage, UnmapError,
};
use super::region::{KernelSection, PhysRange};
use super::regions::{boot_data_address, kernel_address, shared_kernel_slots};

/// What the new page table maps: the sections in the kernel image region,
/// the rest in the boot data region.
pub struct KernelLayout<'a, R> {
    /// The kernel's loaded sections.
    pub sections: &'a [KernelSection],
    /// Ranges to keep readable (the boot information, boot modules): an
    /// iterator, so that however many modules GRUB loaded, all are kept.
    pub read_only: R,
    /// Device memory to keep writable, never executable (the VGA text buffer).
    pub devices: &'a [PhysRange],
    /// The frame allocator's bitmap: writable, never executable.
    pub frame_bitmap: PhysRange,
}

/// What the remap did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemapReport {
    /// Pages mapped in the new table.
    pub pages_mapped: usize,
    /// P3 tables made ahead for the kernel's shared P4 slots.
    pub kernel_p3_tables: usize,
    /// The boot P4, now unmapped: the boot stack's guard page.
    pub guard_page: Page,
}

/// Why the kernel could not be remapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemapError {
    /// A section does not start on a page boundary (see linker.ld).
    UnalignedSection(PhysRange),
    /// Two sections share a page, so it cannot get both's flags.
    SharedPage(Frame),
    /// Building the table failed.
    Map(MapError),
    /// The old P4 could not be unmapped to become the guard page.
    GuardPage(UnmapError),
}

impl From<MapError> for RemapError {
    fn from(err: MapError) -> Self {
        Self::Map(err)
    }
}

impl fmt::Display for RemapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnalignedSection(range) => {
                write!(
                    f,
                    "kernel section {range} does not start on a page boundary"
                )
            }
            Self::SharedPage(frame) => write!(f, "two kernel sections share {frame}"),
            Self::Map(err) => write!(f, "cannot build the kernel page table: {err}"),
            Self::GuardPage(err) => write!(f, "cannot unmap the boot P4 as guard page: {err}"),
        }
    }
}

/// The page flags a kernel section needs.
pub fn section_flags(section: &KernelSection) -> EntryFlags {
    let mut flags = EntryFlags::PRESENT;
    if section.writable {
        flags |= EntryFlags::WRITABLE;
    }
    if !section.executable {
        flags |= EntryFlags::NO_EXECUTE;
    }
    flags
}

/// Maps everything in `layout` in a new table, switches to it, and unmaps
/// the old P4 (which the boot code placed right below the boot stack).
pub fn remap_kernel<A: FrameAllocator>(
    active: &mut ActivePageTable,
    frames: &mut A,
    layout: &KernelLayout<'_, impl Iterator<Item = PhysRange> + Clone>,
    temporary_page: Page,
) -> Result<RemapReport, RemapError> {
    if let Some(section) = layout
        .sections
        .iter()
        .find(|s| !s.range.start.is_aligned(4096u64))
    {
        return Err(RemapError::UnalignedSection(section.range));
    }
    let mut temporary_page = TemporaryPage::new(temporary_page, frames)?;
    let p4_frame = frames
        .allocate_frame()
        .ok_or(MapError::FrameAllocationFailed)?;
    // SAFETY: `p4_frame` was just allocated: unused and ours.
    let mut new_table = unsafe { InactivePageTable::new(p4_frame, active, &mut temporary_page) }?;

    let mapped = active.with(&mut new_table, &mut temporary_page, |mapper| {
        for slot in shared_kernel_slots() {
            mapper.p3_create(slot, frames)?;
        }
        let mut count = 0;
        for section in layout.sections {
            let flags = section_flags(section);
            for frame in frames_of(section.range) {
                let page = Page::containing(kernel_address(frame.start_address()));
                // SAFETY: the kernel's own sections are what the new table
                // exists to map, at their linked addresses.
                match unsafe { mapper.map_to(page, frame, flags, frames) } {
                    // The new table is not active: nothing to flush.
                    Ok(flush) => flush.ignore(),
                    Err(MapError::PageAlreadyMapped(_)) => {
                        return Err(RemapError::SharedPage(frame));
                    }
                    Err(err) => return Err(err.into()),
                }
                count += 1;
            }
        }
        for (range, flags) in boot_data(layout) {
            for frame in frames_of(range) {
                let page = Page::containing(boot_data_address(frame.start_address()));
                // SAFETY: the ranges the caller names (boot information,
                // modules, the screen, the frame bitmap) are what the new
                // table exists to map, in the boot data region.
                match unsafe { mapper.map_to(page, frame, flags, frames) } {
                    Ok(flush) => {
                        flush.ignore();
                        count += 1;
                    }
                    // Already mapped by an earlier range (ranges may share a
                    // page): the first mapping stands.
                    Err(MapError::PageAlreadyMapped(_)) => {}
                    Err(err) => return Err(err.into()),
                }
            }
        }
        Ok(count)
    })??;

    let old_table = active.switch(new_table);
    let guard_page = Page::containing(kernel_address(old_table.p4_address()));
    let (_, flush) = active.unmap(guard_page).map_err(RemapError::GuardPage)?;
    flush.flush();
    Ok(RemapReport {
        pages_mapped: mapped,
        kernel_p3_tables: shared_kernel_slots().count(),
        guard_page,
    })
}

/// The physical ranges mapped in the boot data region, with their flags:
/// the boot information and modules read-only, the early screen as device
/// memory, the frame bitmap writable; none executable.
fn boot_data<'a>(
    layout: &'a KernelLayout<'_, impl Iterator<Item = PhysRange> + Clone>,
) -> impl Iterator<Item = (PhysRange, EntryFlags)> + 'a {
    layout
        .read_only
        .clone()
        .map(|r| (r, EntryFlags::NO_EXECUTE))
        .chain(layout.devices.iter().map(|r| (*r, super::DEVICE_FLAGS)))
        .chain([(
            layout.frame_bitmap,
            EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE,
        )])
}
