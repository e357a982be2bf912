//! Maps ACPI table memory for the `acpi` crate: each request goes into the
//! MMIO region through the memory code, and is unmapped when the crate
//! drops it.
//!
//! The memory code's duty for [`memory::map_device`] is that the range is
//! not RAM the frame allocator hands out. ACPI tables live in memory the
//! map calls ACPI reclaimable, ACPI NVS or reserved; a table that claims to
//! lie in usable RAM is refused here (with a warning), and the crate gets a
//! zeroed stand-in instead, which it reads as "no table here".

use core::mem::size_of;
use core::ptr::NonNull;

use acpi::{AcpiHandler, PhysicalMapping};
use log::warn;
use x86_64::PhysAddr;

use crate::memory::{self, MemoryKind, MemoryRegion, PAGE_SIZE, PhysRange};

/// The largest structure the crate maps (its FADT type, 276 bytes) fits in
/// this many bytes with room to spare.
const STAND_IN_LEN: usize = 1024;

/// What a refused request gets: zeros, whose signature matches no table.
#[repr(C, align(8))]
struct StandIn([u8; STAND_IN_LEN]);
static STAND_IN: StandIn = StandIn([0; STAND_IN_LEN]);

/// Why a range of table memory was not mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// Empty, or past the end of the physical address space.
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
/// call usable, and returns its address.
pub fn map_firmware(
    regions: &[MemoryRegion],
    range: PhysRange,
) -> Result<NonNull<u8>, RefusalReason> {
    if in_usable_ram(regions, range) {
        return Err(RefusalReason::UsableRam);
    }
    // SAFETY: the range overlaps no usable area of the memory map, and the
    // frame allocator hands out only frames that overlap nothing else: no
    // frame of this range is RAM it may give away.
    let at = unsafe { memory::map_device(range) }.map_err(RefusalReason::Map)?;
    NonNull::new(at.as_mut_ptr::<u8>()).ok_or(RefusalReason::BadRange)
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
            .and_then(|range| map_firmware(self.regions, range));
        match mapped {
            Ok(at) => {
                let offset = physical_address as u64 % PAGE_SIZE;
                let mapped_length = (offset + size as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE;
                // SAFETY: `size` bytes at `physical_address` are mapped at
                // `at` until unmap_physical_region; the memory map says they
                // are firmware memory, not RAM the kernel hands out.
                unsafe {
                    PhysicalMapping::new(
                        physical_address,
                        at.cast(),
                        size,
                        (mapped_length - offset) as usize,
                        *self,
                    )
                }
            }
            Err(why) => {
                warn!(
                    "ACPI: not reading {size} bytes of table memory at {physical_address:#x}: {why}"
                );
                stand_in(physical_address, size, *self)
            }
        }
    }

    fn unmap_physical_region<T>(region: &PhysicalMapping<Self, T>) {
        let at = region.virtual_start().cast::<u8>();
        if core::ptr::eq(at.as_ptr(), STAND_IN.0.as_ptr()) {
            return;
        }
        if let Some(range) = phys_range(
            region.physical_start() as u64,
            region.region_length() as u64,
        ) {
            // SAFETY: the crate calls this when it drops the mapping, after
            // its last use; the mapping was made by map_physical_region.
            unsafe { memory::unmap_device(x86_64::VirtAddr::from_ptr(at.as_ptr()), range) };
        }
    }
}

/// The zeroed stand-in for a refused request: the crate reads a header of
/// zeros, whose signature matches no table, and reads no further.
fn stand_in<T>(
    physical_address: usize,
    size: usize,
    handler: KernelHandler,
) -> PhysicalMapping<KernelHandler, T> {
    assert!(
        size_of::<T>() <= STAND_IN_LEN,
        "an ACPI structure larger than the stand-in"
    );
    let at = NonNull::from(&STAND_IN.0).cast::<T>();
    // SAFETY: the stand-in is static, aligned to 8 (the crate's structures
    // are packed) and at least size_of::<T>() bytes; the crate only reads
    // through it (it reads tables and never writes them).
    unsafe {
        PhysicalMapping::new(
            physical_address,
            at,
            size.min(STAND_IN_LEN),
            STAND_IN_LEN,
            handler,
        )
    }
}
