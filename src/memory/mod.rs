//! Physical and virtual memory: the frame allocator, our own recursive page
//! tables, the kernel remap with per-section permissions, and kernel stacks
//! with guard pages.
//!
//! This module takes plain memory areas ([`MemoryRegion`]), never Multiboot2
//! tags, and knows nothing of the modules above it.
//!
//! # Virtual memory layout
//! | address | what |
//! |---|---|
//! | `0x0010_0000` ... | kernel sections, identity-mapped with per-section flags |
//! | `0x000b_8000` | VGA text buffer, identity-mapped, writable, NX |
//! | physical address | boot information and frame bitmap, identity-mapped, NX |
//! | [`HEAP_START`] | kernel heap |
//! | [`STACKS_START`] | kernel stacks, each above an unmapped guard page |
//! | [`MMIO_START`] | framebuffer and other device memory |
//! | [`TEMPORARY_PAGE`] | the temporary page for editing inactive tables |
//! | P4 slot 510 | the recursive mapping: the page tables themselves |

pub mod allocator;
pub mod audit;
mod describe;
pub mod frame;
pub mod frame_bitmap;
pub mod heap;
pub mod page;
pub mod paging;
pub mod region;
pub mod remap;
pub mod stack;

use core::fmt;

use spin::Mutex;
use x86_64::VirtAddr;
use x86_64::instructions::interrupts::without_interrupts;

pub use describe::{AddressKind, describe_address};
pub use frame::{Frame, FrameAllocator, PAGE_SIZE};
pub use frame_bitmap::{FrameBitmap, FrameStats};
pub use page::Page;
pub use region::{KernelSection, MemoryKind, MemoryRegion, PhysRange};

use crate::layout::BOOT_IDENTITY_MAP_END;
use paging::ActivePageTable;
use paging::MapError;
use remap::{KernelLayout, RemapError};
use stack::StackAllocator;

/// Start of the kernel heap.
pub const HEAP_START: u64 = 0x0000_4444_4444_0000;
/// Start of the kernel stack region.
pub const STACKS_START: u64 = 0x0000_5555_0000_0000;
/// Pages in the kernel stack region (1 GiB).
pub const STACKS_PAGES: u64 = (1 << 30) / PAGE_SIZE;
/// Start of the region for device memory.
pub const MMIO_START: u64 = 0x0000_6666_0000_0000;
/// The page used to edit page tables that are not active.
pub const TEMPORARY_PAGE: u64 = 0x0000_7777_0000_0000;
/// Where the recursive slot's 512 GiB window onto the page tables starts.
pub const RECURSIVE_SLOT_START: u64 =
    0xFFFF_0000_0000_0000 | ((crate::layout::RECURSIVE_P4_SLOT as u64) << 39);

/// The kernel's memory: frames, the active page table, the stack region.
pub struct Memory {
    /// The physical frame allocator.
    pub frames: FrameBitmap<'static>,
    /// The active page table.
    pub tables: ActivePageTable,
    /// Where kernel stacks come from.
    pub stacks: StackAllocator,
    /// The kernel's sections, for describing addresses.
    kernel_sections: &'static [KernelSection],
    /// The guard page below the boot stack.
    boot_stack_guard: Page,
    /// The next free page of the MMIO region.
    next_mmio: Page,
}

static MEMORY: Mutex<Option<Memory>> = Mutex::new(None);

/// What the boot code knows about memory. `R` yields the ranges to keep:
/// an iterator rather than a slice, so that there is no limit on how many
/// (every boot module must be kept, however many GRUB loaded).
pub struct BootMemory<'a, R> {
    /// The memory map.
    pub regions: &'static [MemoryRegion],
    /// The kernel's loaded sections.
    pub kernel_sections: &'static [KernelSection],
    /// The whole kernel image.
    pub kernel: PhysRange,
    /// Ranges to keep and map read-only: the boot information, modules.
    pub keep_read_only: R,
    /// Device memory to keep mapped writable: the VGA text buffer.
    pub devices: &'a [PhysRange],
}

/// Why memory management could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryError {
    /// No usable area below 4 GiB had room for the frame bitmap.
    NoRoomForFrameBitmap {
        /// The bitmap's size.
        bytes: u64,
    },
    /// The remap failed.
    Remap(RemapError),
}

impl fmt::Display for MemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRoomForFrameBitmap { bytes } => write!(
                f,
                "no usable memory outside the kernel for the {} frame bitmap",
                crate::units::ByteSize(*bytes)
            ),
            Self::Remap(err) => write!(f, "{err}"),
        }
    }
}

/// What [`init`] did, for the boot log.
#[derive(Debug, Clone, Copy)]
pub struct MemorySummary {
    /// Frame counts after init.
    pub frames: FrameStats,
    /// Where the frame bitmap lives.
    pub bitmap: PhysRange,
    /// Pages the remap mapped.
    pub pages_mapped: usize,
    /// The guard page below the boot stack.
    pub guard_page: Page,
    /// The W^X check of the new page table.
    pub audit: audit::AuditReport,
}

/// Starts memory management: the frame allocator over the memory map, then
/// the kernel's own page table. Call once, with interrupts off.
pub fn init(
    boot: &BootMemory<'_, impl Iterator<Item = PhysRange> + Clone>,
) -> Result<MemorySummary, MemoryError> {
    let in_use = || core::iter::once(boot.kernel).chain(boot.keep_read_only.clone());
    let bytes = frame_bitmap::bitmap_bytes(boot.regions);
    let bitmap = frame_bitmap::place_bitmap(boot.regions, in_use(), bytes, BOOT_IDENTITY_MAP_END)
        .ok_or(MemoryError::NoRoomForFrameBitmap { bytes })?;

    // SAFETY: `bitmap` is usable RAM that no one else uses (it avoids the
    // kernel, the boot information and the modules), 4 KiB aligned, inside
    // the boot identity map now and identity-mapped by the remap below, so
    // the slice stays valid for the kernel's whole run.
    let storage = unsafe {
        core::slice::from_raw_parts_mut(
            bitmap.start.as_u64() as *mut u64,
            (bitmap.len() / 8) as usize,
        )
    };
    let mut frames = FrameBitmap::new(storage, boot.regions, in_use().chain([bitmap]));

    // SAFETY: the boot code installed the recursive entry in slot 510 of the
    // P4 in CR3, and this is the only ActivePageTable ever made.
    let mut tables = unsafe { ActivePageTable::new() };
    let layout = KernelLayout {
        sections: boot.kernel_sections,
        read_only: boot.keep_read_only.clone(),
        devices: boot.devices,
        frame_bitmap: bitmap,
    };
    let report = remap::remap_kernel(
        &mut tables,
        &mut frames,
        &layout,
        Page::containing(VirtAddr::new(TEMPORARY_PAGE)),
    )
    .map_err(MemoryError::Remap)?;

    let summary = MemorySummary {
        frames: frames.stats(),
        bitmap,
        pages_mapped: report.pages_mapped,
        guard_page: report.guard_page,
        audit: audit::audit(&tables),
    };
    let stacks = StackAllocator::new(Page::containing(VirtAddr::new(STACKS_START)), STACKS_PAGES);
    without_interrupts(|| {
        *MEMORY.lock() = Some(Memory {
            frames,
            tables,
            stacks,
            kernel_sections: boot.kernel_sections,
            boot_stack_guard: report.guard_page,
            next_mmio: Page::containing(VirtAddr::new(MMIO_START)),
        })
    });
    Ok(summary)
}

/// Runs `f` with the kernel's memory, with interrupts off. Returns `None`
/// before [`init`].
pub fn with<R>(f: impl FnOnce(&mut Memory) -> R) -> Option<R> {
    without_interrupts(|| MEMORY.lock().as_mut().map(f))
}

/// Page flags for device memory: writable, never executable, and
/// write-through, so writes reach the device at once while reads may hit
/// the cache (what a framebuffer wants, short of write-combining).
pub const DEVICE_FLAGS: paging::EntryFlags = paging::EntryFlags::WRITABLE
    .union(paging::EntryFlags::NO_EXECUTE)
    .union(paging::EntryFlags::WRITE_THROUGH);

/// Every frame that holds a byte of `range`.
fn frames_of(range: PhysRange) -> impl Iterator<Item = Frame> {
    (!range.is_empty())
        .then(|| {
            Frame::range_inclusive(
                Frame::containing(range.start),
                Frame::containing(range.end - 1u64),
            )
        })
        .into_iter()
        .flatten()
}

/// Maps device memory `range` into the MMIO region with [`DEVICE_FLAGS`],
/// an unmapped page after it, and returns the address of `range.start`.
pub fn map_device(range: PhysRange) -> Result<VirtAddr, MapError> {
    with(|mem| {
        let first = mem.next_mmio;
        for (i, frame) in frames_of(range).enumerate() {
            // SAFETY: `range` is device memory the caller hands over to be
            // mapped (not RAM the allocator owns), at fresh MMIO pages.
            unsafe {
                mem.tables
                    .map_to(first + i as u64, frame, DEVICE_FLAGS, &mut mem.frames)
            }?
            .flush();
        }
        let pages = frames_of(range).count() as u64;
        mem.next_mmio = first + (pages + 1);
        Ok(first.start_address() + range.start.as_u64() % PAGE_SIZE)
    })
    .ok_or(MapError::FrameAllocationFailed)?
}

/// Removes the identity mapping of device memory `range` (its frames are
/// not RAM, so none is freed).
pub fn unmap_identity(range: PhysRange) {
    with(|mem| {
        for frame in frames_of(range) {
            let page = Page::containing(VirtAddr::new(frame.start_address().as_u64()));
            if let Ok((_, flush)) = mem.tables.unmap(page) {
                flush.flush();
            }
        }
    });
}

/// Logs the memory summary of the boot log.
pub fn log_summary(summary: &MemorySummary) {
    use crate::units::ByteSize;
    let frames = summary.frames;
    log::info!(
        "frames: {} usable, {} free, {} in use ({} each)",
        frames.total,
        frames.free,
        frames.used(),
        ByteSize(PAGE_SIZE)
    );
    log::info!(
        "frame bitmap: {} at {}",
        ByteSize(summary.bitmap.len()),
        summary.bitmap
    );
    log::info!(
        "kernel remapped: {} pages mapped; guard page at {:#x}",
        summary.pages_mapped,
        summary.guard_page.start_address().as_u64()
    );
    let audit = summary.audit;
    match audit.first_offender {
        None => log::info!(
            "W^X holds: {} mappings, {} executable, none also writable",
            audit.mappings,
            audit.executable
        ),
        Some(addr) => log::error!(
            "W^X broken: {} of {} mappings writable and executable, first at {:#x}",
            audit.writable_executable,
            audit.mappings,
            addr.as_u64()
        ),
    }
}
