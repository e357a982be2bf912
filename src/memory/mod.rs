//! Physical and virtual memory: the frame allocator, our own recursive page
//! tables, the kernel remap with per-section permissions, and kernel stacks
//! with guard pages.
//!
//! This module takes plain memory areas ([`MemoryRegion`]), never Multiboot2
//! tags, and knows nothing of the modules above it.
//!
//! # Virtual memory layout
//! Defined once in [`regions::REGIONS`] (a host test checks that this table
//! lists every region at its address). The lower half, P4 slots 0-255, is
//! empty in the kernel's table: page 0 and the boot identity map are gone
//! after the remap.
//!
//! | address | P4 slot | region | what |
//! |---|---|---|---|
//! | `0x0000_0000_0000_0000` | 0-255 | (user space) | nothing in the kernel's table |
//! | `0xffff_8000_0000_0000` | 256 | boot data | physical address + start: boot information and modules (read-only), frame bitmap |
//! | `0xffff_8080_0000_0000` | 257 | heap | the kernel heap, grown on demand |
//! | `0xffff_8100_0000_0000` | 258 | kernel stacks | each above an unmapped guard page |
//! | `0xffff_8180_0000_0000` | 259 | per-CPU | one page per CPU: its block, reached through the GS base (`crate::sched`) |
//! | `0xffff_8200_0000_0000` | 260 | MMIO | VGA text buffer, framebuffer, ACPI tables, device registers (uncached), DMA frames (`dma`) |
//! | `0xffff_8280_0000_0000` | 261 | temporary page | one page for editing inactive tables |
//! | `0xffff_fe00_0000_0000` | 508 | frame window | each table's own: one frame at a time, to read or fill it; never shared |
//! | `0xffff_fe80_0000_0000` | 509 | address-space window | each table's own: another space's P4, to edit its tables; never shared |
//! | `0xffff_ff00_0000_0000` | 510 | (page tables) | the recursive mapping, in every address space |
//! | `0xffff_ffff_8000_0000` | 511 | kernel image | sections at physical address + `KERNEL_OFFSET`, per-section flags |
//!
//! The kernel's P3 tables for every shared slot (256-507 and 511:
//! [`regions::shared_kernel_slots`]) exist from boot (the remap makes them),
//! so an address space that copies those P4 entries sees every kernel
//! mapping made later. The two window slots get no P3: they are pointed
//! elsewhere at run time.

pub mod allocator;
pub mod audit;
mod describe;
pub mod dma;
pub mod frame;
pub mod frame_bitmap;
pub mod heap;
pub mod page;
pub mod paging;
pub mod region;
pub mod regions;
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

/// Start of the kernel heap ([`regions::HEAP`]).
pub const HEAP_START: u64 = regions::HEAP.start;
/// Start of the kernel stack region ([`regions::STACKS`]).
pub const STACKS_START: u64 = regions::STACKS.start;
/// Pages in the kernel stack region.
pub const STACKS_PAGES: u64 = regions::STACKS.size / PAGE_SIZE;
/// Start of the region for device memory ([`regions::MMIO`]).
pub const MMIO_START: u64 = regions::MMIO.start;
/// The page used to edit page tables that are not active.
pub const TEMPORARY_PAGE: u64 = regions::TEMPORARY_PAGE.start;
/// Where the recursive slot's 512 GiB window onto the page tables starts.
pub const RECURSIVE_SLOT_START: u64 = regions::PAGE_TABLES_START;

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
    /// Device memory to keep mapped writable in the boot data region until
    /// it is moved to the MMIO region (the early screen).
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
    /// Frames the new page table's tables took, the pre-made P3s included.
    pub table_frames: u64,
    /// Of those, the P3 tables made for every kernel P4 slot.
    pub kernel_p3_tables: usize,
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
    // kernel, the boot information and the modules), 4 KiB aligned, below
    // BOOT_IDENTITY_MAP_END, so the boot tables map it in the boot data
    // region, and the remap below maps it there too, so the slice stays
    // valid for the kernel's whole run.
    let storage = unsafe {
        core::slice::from_raw_parts_mut(
            regions::boot_data_address(bitmap.start).as_mut_ptr::<u64>(),
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
    let free_before = frames.stats().free;
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
        table_frames: free_before - frames.stats().free,
        kernel_p3_tables: report.kernel_p3_tables,
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

/// Page flags for a framebuffer or text buffer: writable, never
/// executable, and write-through, so writes reach the screen at once while
/// reads may hit the cache (short of write-combining, which needs the PAT).
/// What [`map_device`] uses.
pub const DEVICE_FLAGS: paging::EntryFlags = paging::EntryFlags::WRITABLE
    .union(paging::EntryFlags::NO_EXECUTE)
    .union(paging::EntryFlags::WRITE_THROUGH);

/// Page flags for device registers: writable, never executable, and
/// uncached (PCD and PWT), so every read and write reaches the device, in
/// order, and no read is answered from the cache.
pub const REGISTER_FLAGS: paging::EntryFlags = paging::EntryFlags::WRITABLE
    .union(paging::EntryFlags::NO_EXECUTE)
    .union(paging::EntryFlags::NO_CACHE)
    .union(paging::EntryFlags::WRITE_THROUGH);

/// Page flags for firmware tables that are only read: never writable or
/// executable, cached as ordinary memory.
pub const READ_ONLY_FLAGS: paging::EntryFlags = paging::EntryFlags::NO_EXECUTE;

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

/// Why device memory could not be mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceMapError {
    /// The MMIO region has no room left for the range.
    RegionFull,
    /// Memory management has not started.
    NotStarted,
    /// Mapping a page failed.
    Map(MapError),
}

impl From<MapError> for DeviceMapError {
    fn from(err: MapError) -> Self {
        Self::Map(err)
    }
}

impl fmt::Display for DeviceMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RegionFull => f.write_str("the MMIO region is full"),
            Self::NotStarted => f.write_str("memory management has not started"),
            Self::Map(err) => write!(f, "{err}"),
        }
    }
}

/// Maps device memory `range` into the MMIO region with [`DEVICE_FLAGS`],
/// an unmapped page after it, and returns the address of `range.start`.
///
/// # Safety
/// `range` must be device memory (a framebuffer, device registers), not
/// RAM the frame allocator may hand out: mapping such RAM here would give
/// it a second, writable owner.
pub unsafe fn map_device(range: PhysRange) -> Result<VirtAddr, DeviceMapError> {
    // SAFETY: the caller's promise, passed on.
    unsafe { map_device_with(range, DEVICE_FLAGS) }
}

/// Maps device registers `range` (a PCI memory BAR) uncached into the MMIO
/// region: [`map_device_with`] and [`REGISTER_FLAGS`].
///
/// # Safety
/// As [`map_device`]: `range` must be device memory, not RAM.
pub unsafe fn map_registers(range: PhysRange) -> Result<VirtAddr, DeviceMapError> {
    // SAFETY: the caller's promise, passed on.
    unsafe { map_device_with(range, REGISTER_FLAGS) }
}

/// Maps `range` as [`map_device`] does, with page flags `flags` (such as
/// [`REGISTER_FLAGS`] or [`READ_ONLY_FLAGS`]). The MMIO pages are taken
/// before the first is mapped, and a failure part way unmaps what was
/// mapped: a failed request leaves nothing behind and spoils no later one.
///
/// # Safety
/// As for [`map_device`]: `range` must not be RAM the frame allocator may
/// hand out.
pub unsafe fn map_device_with(
    range: PhysRange,
    flags: paging::EntryFlags,
) -> Result<VirtAddr, DeviceMapError> {
    with(|mem| {
        let first = mem.next_mmio;
        let pages = frames_of(range).count() as u64;
        let end = Page::containing(VirtAddr::new(regions::MMIO.last())) + 1;
        if first + (pages + 1) > end {
            return Err(DeviceMapError::RegionFull);
        }
        mem.next_mmio = first + (pages + 1);
        for (i, frame) in frames_of(range).enumerate() {
            // SAFETY: the caller promised `range` is device memory, not RAM
            // the allocator owns; the MMIO pages are fresh.
            let mapped = unsafe {
                mem.tables
                    .map_to(first + i as u64, frame, flags, &mut mem.frames)
            };
            match mapped {
                Ok(flush) => flush.flush(),
                Err(err) => {
                    for page in (0..i as u64).map(|j| first + j) {
                        if let Ok((_, flush)) = mem.tables.unmap(page) {
                            flush.flush();
                        }
                    }
                    return Err(err.into());
                }
            }
        }
        Ok(first.start_address() + range.start.as_u64() % PAGE_SIZE)
    })
    .ok_or(DeviceMapError::NotStarted)?
}

/// Removes a mapping [`map_device`] made: `at` is the address it returned
/// for `range`. The virtual pages are not handed out again (the MMIO region
/// is large and mappings are few), so a stale pointer faults rather than
/// reaching other memory. Pages outside the MMIO region are left alone.
///
/// # Safety
/// Nothing may use the mapping any more: references into it would dangle.
pub unsafe fn unmap_device(at: VirtAddr, range: PhysRange) {
    let first = Page::containing(at);
    with(|mem| {
        for (i, _) in frames_of(range).enumerate() {
            let page = first + i as u64;
            if !regions::MMIO.contains(page.start_address().as_u64()) {
                return;
            }
            if let Ok((_, flush)) = mem.tables.unmap(page) {
                flush.flush();
            }
        }
    });
}

/// Removes the boot data region's mapping of device memory `range`, once
/// it is mapped in the MMIO region (its frames are not RAM: none is freed).
pub fn unmap_boot_data(range: PhysRange) {
    with(|mem| {
        for frame in frames_of(range) {
            let page = Page::containing(regions::boot_data_address(frame.start_address()));
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
        "frame bitmap: {} at {}, mapped at {:#x}",
        ByteSize(summary.bitmap.len()),
        summary.bitmap,
        regions::boot_data_address(summary.bitmap.start).as_u64()
    );
    log::info!(
        "kernel remapped to the higher half: {} pages mapped, {} frames of page tables \
         ({} kernel P3s made ahead); nothing below {:#x}; guard page at {:#x}",
        summary.pages_mapped,
        summary.table_frames,
        summary.kernel_p3_tables,
        regions::BOOT_DATA.start,
        summary.guard_page.start_address().as_u64()
    );
    regions::log_regions();
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
