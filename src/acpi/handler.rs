//! Maps ACPI table memory for the `acpi` crate: each request goes into the
//! MMIO region through the memory code, and is unmapped when the crate
//! drops it.
//!
//! The memory code's duty for [`memory::map_device`] is that the range is
//! not RAM the frame allocator hands out. ACPI tables live in memory the
//! map calls ACPI reclaimable, ACPI NVS or reserved; a table that claims to
//! lie in usable RAM is refused here (with a warning), and the crate gets a
//! zeroed stand-in instead, which it reads as "no table here".
//!
//! Tables are mapped read-only; registers (see [`map_firmware`]) uncached.

use alloc::boxed::Box;
use core::mem::size_of;
use core::ops::Range;
use core::ptr::NonNull;

use acpi::{AcpiHandler, PhysicalMapping};
use log::warn;
use x86_64::PhysAddr;

use crate::memory::paging::EntryFlags;
use crate::memory::{self, MemoryKind, MemoryRegion, PAGE_SIZE, PhysRange, regions};

/// The largest structure the crate maps (its FADT type, 276 bytes) fits in
/// this many bytes with room to spare.
const STAND_IN_LEN: usize = 1024;

/// The most the handler maps at once: far above any real table (DSDTs run
/// to a few hundred KiB), far below what would strain the page tables if a
/// corrupt length asked for gigabytes.
const MAX_MAP_LEN: u64 = 16 << 20;

/// A stand-in is made of these, so it is aligned for any of the crate's
/// structures.
type StandInWord = u64;
const STAND_IN_WORDS: usize = STAND_IN_LEN / size_of::<StandInWord>();

/// Why a range of table memory was not mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// Empty, past the end of the physical address space, or larger than
    /// any table could be.
    BadRange,
    /// It overlaps RAM the frame allocator may hand out.
    UsableRam,
    /// The memory code could not map it.
    Map(memory::DeviceMapError),
}

impl core::fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadRange => f.write_str("not a valid physical range"),
            Self::UsableRam => f.write_str("it lies in usable RAM per the memory map"),
            Self::Map(err) => write!(f, "{err}"),
        }
    }
}

/// The physical range `[address, address + len)`, if it is one.
pub fn phys_range(address: u64, len: u64) -> Option<PhysRange> {
    if len > MAX_MAP_LEN {
        return None;
    }
    let end = address.checked_add(len)?;
    let range = PhysRange::new(
        PhysAddr::try_new(address).ok()?,
        PhysAddr::try_new(end).ok()?,
    );
    (!range.is_empty()).then_some(range)
}

/// Whether `range` overlaps a usable area of `regions`.
pub fn in_usable_ram(regions: &[MemoryRegion], range: PhysRange) -> bool {
    regions.iter().any(|r| {
        r.kind == MemoryKind::Usable && r.range.start < range.end && range.start < r.range.end
    })
}

/// Maps firmware memory (tables, registers) that the memory map does not
/// call usable, with page flags `flags`, and returns its address.
pub fn map_firmware(
    regions: &[MemoryRegion],
    range: PhysRange,
    flags: EntryFlags,
) -> Result<NonNull<u8>, RefusalReason> {
    if in_usable_ram(regions, range) {
        return Err(RefusalReason::UsableRam);
    }
    // SAFETY: the range overlaps no usable area of the memory map, and the
    // frame allocator hands out only frames that overlap nothing else: no
    // frame of this range is RAM it may give away.
    let at = unsafe { memory::map_device_with(range, flags) }.map_err(RefusalReason::Map)?;
    NonNull::new(at.as_mut_ptr::<u8>()).ok_or(RefusalReason::BadRange)
}

/// How many bytes a mapping of `size` bytes at `address` holds from
/// `address` on: through the end of the last page it touches.
pub fn mapped_length(address: u64, size: u64) -> u64 {
    let offset = address % PAGE_SIZE;
    (offset + size).div_ceil(PAGE_SIZE) * PAGE_SIZE - offset
}

/// The page-aligned addresses of the pages `mapped_length` bytes from
/// `start` cover: what to unmap for a mapping the crate hands back, whose
/// `region_length` may be smaller than what was mapped (it reuses a
/// header's mapping for a table that fits in it, even one shorter than the
/// header).
pub fn mapped_pages(start: u64, mapped_length: u64) -> Range<u64> {
    let first = start - start % PAGE_SIZE;
    if mapped_length == 0 {
        return first..first;
    }
    first..(start + mapped_length).div_ceil(PAGE_SIZE) * PAGE_SIZE
}

/// The pages to unmap for a mapping the crate hands back: all it holds
/// (`mapped_length` from its start), whatever its `region_length` says.
pub fn unmap_extent<H: AcpiHandler, T>(region: &PhysicalMapping<H, T>) -> Range<u64> {
    mapped_pages(
        region.virtual_start().as_ptr() as u64,
        region.mapped_length() as u64,
    )
}

/// The `acpi` crate's view of the kernel's memory code.
#[derive(Debug, Clone, Copy)]
pub struct KernelHandler {
    /// The boot memory map, to refuse tables in usable RAM.
    pub regions: &'static [MemoryRegion],
}

impl AcpiHandler for KernelHandler {
    unsafe fn map_physical_region<T>(
        &self,
        physical_address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        let mapped = phys_range(physical_address as u64, size as u64)
            .ok_or(RefusalReason::BadRange)
            .and_then(|range| map_firmware(self.regions, range, memory::READ_ONLY_FLAGS));
        match mapped {
            Ok(at) => {
                let mapped_length = mapped_length(physical_address as u64, size as u64);
                // SAFETY: `size` bytes at `physical_address` are mapped at
                // `at` (through the end of their last page) until
                // unmap_physical_region; the memory map says they are
                // firmware memory, not RAM the kernel hands out.
                unsafe {
                    PhysicalMapping::new(
                        physical_address,
                        at.cast(),
                        size,
                        mapped_length as usize,
                        *self,
                    )
                }
            }
            Err(why) => {
                warn!("not reading {size} bytes of table memory at {physical_address:#x}: {why}");
                stand_in(physical_address, size, *self)
            }
        }
    }

    fn unmap_physical_region<T>(region: &PhysicalMapping<Self, T>) {
        let at = region.virtual_start().as_ptr() as u64;
        if !regions::MMIO.contains(at) {
            // A stand-in, made in `stand_in`.
            let words = core::ptr::slice_from_raw_parts_mut(
                region.virtual_start().as_ptr().cast::<StandInWord>(),
                STAND_IN_WORDS,
            );
            // SAFETY: only stand-ins lie outside the MMIO region; each is a
            // leaked Box of STAND_IN_WORDS words, and the crate calls this
            // once, after its last use.
            drop(unsafe { Box::from_raw(words) });
            return;
        }
        let pages = unmap_extent(region);
        let physical = region.physical_start() as u64 - at % PAGE_SIZE;
        let range = PhysRange::new(
            PhysAddr::new_truncate(physical),
            PhysAddr::new_truncate(physical + (pages.end - pages.start)),
        );
        // SAFETY: the crate calls this when it drops the mapping, after its
        // last use; map_physical_region mapped these pages for it.
        unsafe { memory::unmap_device(x86_64::VirtAddr::new(pages.start), range) };
    }
}

/// The zeroed stand-in for a refused request: the crate reads a header of
/// zeros, whose signature matches no table, and reads no further.
fn stand_in<T>(
    physical_address: usize,
    size: usize,
    handler: KernelHandler,
) -> PhysicalMapping<KernelHandler, T> {
    const {
        assert!(
            size_of::<T>() <= STAND_IN_LEN,
            "an ACPI structure larger than the stand-in"
        )
    };
    let words: Box<[StandInWord]> = alloc::vec![0; STAND_IN_WORDS].into_boxed_slice();
    let at = NonNull::new(Box::leak(words).as_mut_ptr()).expect("a Box is never null");
    // SAFETY: the stand-in is a zeroed heap buffer of its own, aligned to 8
    // (the crate's structures are packed), at least size_of::<T>() bytes,
    // alive until unmap_physical_region frees it; reads and writes through
    // the mapping touch only it.
    unsafe {
        PhysicalMapping::new(
            physical_address,
            at.cast::<T>(),
            size.min(STAND_IN_LEN),
            STAND_IN_LEN,
            handler,
        )
    }
}
