//! The kernel's virtual memory layout, defined once: [`REGIONS`]. The heap,
//! the stack allocator, the MMIO mapper, the remap, the fault describer, the
//! boot log and the layout table in this module's parent docs all read it.
//!
//! The lower half (P4 slots 0-255) belongs to user space and is empty in the
//! kernel's table. Each kernel region has whole P4 slots of its own in
//! 256-509, so that an address space sharing the kernel's P4 entries shares
//! each region whole; slot 510 is the recursive mapping in every address
//! space; slot 511 holds the kernel image.
//!
//! Two regions are not shared: the frame window and the address-space
//! window are P4 slots each page table uses for itself, pointed elsewhere at
//! run time (at one frame, at another space's P4). They get no P3 table at
//! boot and a new address space never copies them ([`shared_kernel_slots`]).

use core::fmt;

use x86_64::{PhysAddr, VirtAddr};

use crate::layout::{KERNEL_OFFSET, PHYSICAL_WINDOW_P4_SLOT, RECURSIVE_P4_SLOT};

/// Bytes one P4 slot covers (512 GiB).
pub const P4_SLOT_SIZE: u64 = 1 << 39;

/// The first address of P4 slot `slot` (sign-extended for the higher half).
pub const fn slot_start(slot: usize) -> u64 {
    let addr = (slot as u64) << 39;
    if slot >= 256 {
        addr | 0xFFFF_0000_0000_0000
    } else {
        addr
    }
}

/// The P4 slot that holds `addr`.
pub const fn slot_of(addr: u64) -> usize {
    ((addr >> 39) & 511) as usize
}

/// What a region holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// Physical memory at [`BOOT_DATA`]`.start` + its physical address: the
    /// boot information and boot modules (read-only), the frame bitmap.
    BootData,
    /// The kernel heap.
    Heap,
    /// Kernel stacks, each above an unmapped guard page.
    Stacks,
    /// Per-CPU blocks, a page each, reached through the GS base.
    PerCpu,
    /// Device memory: the VGA text buffer, the framebuffer, device
    /// registers, and frames of RAM that devices read and write (DMA).
    Mmio,
    /// The page for editing page tables that are not active.
    TemporaryPage,
    /// A P4 slot of each table alone, pointed at one frame at a time to
    /// read or fill it.
    FrameWindow,
    /// A P4 slot of each table alone, pointed at another address space's P4
    /// to edit that space's tables.
    SpaceWindow,
    /// The kernel's sections at their physical address + `KERNEL_OFFSET`.
    KernelImage,
}

/// One region of the kernel's virtual address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Its name in the boot log and the docs.
    pub name: &'static str,
    /// What it holds.
    pub kind: RegionKind,
    /// Its first address.
    pub start: u64,
    /// Its size in bytes.
    pub size: u64,
}

impl RegionKind {
    /// Whether every address space shares the region's P4 entries (and so
    /// its P3 tables). The windows belong to each page table alone.
    pub const fn is_shared(self) -> bool {
        !matches!(self, Self::FrameWindow | Self::SpaceWindow)
    }
}

impl Region {
    /// One past its last address (wraps to 0 for a region ending at the top).
    pub const fn end(&self) -> u64 {
        self.start.wrapping_add(self.size)
    }

    /// Its last address.
    pub const fn last(&self) -> u64 {
        self.start + (self.size - 1)
    }

    /// Whether `addr` lies in it.
    pub const fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr <= self.last()
    }

    /// Its first address, typed.
    pub fn start_addr(&self) -> VirtAddr {
        VirtAddr::new(self.start)
    }

    /// The P4 slots it lies in, first and last.
    pub const fn p4_slots(&self) -> (usize, usize) {
        (slot_of(self.start), slot_of(self.last()))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, last) = self.p4_slots();
        write!(f, "{:<20} {:#018x} P4 {first}", self.name, self.start)?;
        if last != first {
            write!(f, "-{last}")?;
        }
        write!(f, " ({})", crate::units::ByteSize(self.size))
    }
}

const fn whole_slot(name: &'static str, kind: RegionKind, slot: usize) -> Region {
    Region {
        name,
        kind,
        start: slot_start(slot),
        size: P4_SLOT_SIZE,
    }
}

/// Boot information, boot modules and the frame bitmap, at this region's
/// start + their physical address (the boot tables map it too).
pub const BOOT_DATA: Region =
    whole_slot("boot data", RegionKind::BootData, PHYSICAL_WINDOW_P4_SLOT);
/// The kernel heap.
pub const HEAP: Region = whole_slot("heap", RegionKind::Heap, 257);
/// Kernel stacks.
pub const STACKS: Region = whole_slot("kernel stacks", RegionKind::Stacks, 258);
/// Per-CPU areas (reserved).
pub const PER_CPU: Region = whole_slot("per-CPU", RegionKind::PerCpu, 259);
/// Device memory.
pub const MMIO: Region = whole_slot("MMIO", RegionKind::Mmio, 260);
/// The temporary page: one page at the start of its slot.
pub const TEMPORARY_PAGE: Region = Region {
    name: "temporary page",
    kind: RegionKind::TemporaryPage,
    start: slot_start(261),
    size: 4096,
};
/// The frame window: its P4 entry points at one frame while the kernel
/// reads or fills it (`paging::ActivePageTable::with_frame`).
pub const FRAME_WINDOW: Region = whole_slot("frame window", RegionKind::FrameWindow, 508);
/// The address-space window: its P4 entry points at the P4 of the space
/// being edited (`paging::ActivePageTable::with_space`).
pub const SPACE_WINDOW: Region = whole_slot("address-space window", RegionKind::SpaceWindow, 509);
/// The kernel image: the top 2 GiB of P4 slot 511.
pub const KERNEL_IMAGE: Region = Region {
    name: "kernel image",
    kind: RegionKind::KernelImage,
    start: KERNEL_OFFSET,
    size: 0u64.wrapping_sub(KERNEL_OFFSET),
};

/// Every region of the kernel's address space, by address.
pub const REGIONS: [Region; 9] = [
    BOOT_DATA,
    HEAP,
    STACKS,
    PER_CPU,
    MMIO,
    TEMPORARY_PAGE,
    FRAME_WINDOW,
    SPACE_WINDOW,
    KERNEL_IMAGE,
];

/// Where the recursive slot's 512 GiB window onto the page tables starts.
pub const PAGE_TABLES_START: u64 = slot_start(RECURSIVE_P4_SLOT);

/// Whether P4 slot `slot` of the kernel half is the same in every address
/// space: every slot from 256 up but the recursive slot and the slots of
/// regions that are not shared (the windows). Free slots are shared too, so
/// a region added there later is seen by every space.
pub fn is_shared_kernel_slot(slot: usize) -> bool {
    (256..512).contains(&slot)
        && slot != RECURSIVE_P4_SLOT
        && !REGIONS.iter().any(|region| {
            let (first, last) = region.p4_slots();
            !region.kind.is_shared() && (first..=last).contains(&slot)
        })
}

/// The kernel's shared P4 slots ([`is_shared_kernel_slot`]): the remap makes
/// a P3 table for each, and a new address space copies exactly these.
pub fn shared_kernel_slots() -> impl Iterator<Item = usize> {
    (256..512).filter(|&slot| is_shared_kernel_slot(slot))
}

/// The region that holds `addr`, if any.
pub fn region_of(addr: u64) -> Option<&'static Region> {
    REGIONS.iter().find(|region| region.contains(addr))
}

/// Where physical address `phys` lies in the boot data region.
pub fn boot_data_address(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(BOOT_DATA.start + phys.as_u64())
}

/// Where the kernel image's byte at physical address `phys` is linked.
pub fn kernel_address(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(KERNEL_OFFSET + phys.as_u64())
}

/// Logs the layout, one line per region (debug level).
pub fn log_regions() {
    log::debug!("kernel address space ({} regions):", REGIONS.len());
    for region in &REGIONS {
        log::debug!("  {region}");
    }
    log::debug!(
        "  {:<20} {:#018x} P4 {RECURSIVE_P4_SLOT} (recursive)",
        "page tables",
        PAGE_TABLES_START
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_do_not_overlap_and_are_in_address_order() {
        for pair in REGIONS.windows(2) {
            assert!(
                pair[0].last() < pair[1].start,
                "{} overlaps {}",
                pair[0].name,
                pair[1].name
            );
        }
        for (i, a) in REGIONS.iter().enumerate() {
            for b in &REGIONS[i + 1..] {
                assert!(!a.contains(b.start) && !b.contains(a.start));
            }
        }
    }

    #[test]
    fn every_region_is_in_the_higher_half_and_none_uses_the_recursive_slot() {
        for region in &REGIONS {
            assert!(region.start >= 0xFFFF_8000_0000_0000, "{}", region.name);
            let (first, last) = region.p4_slots();
            assert!(first >= 256 && first <= last, "{}", region.name);
            assert!(
                !(first..=last).contains(&RECURSIVE_P4_SLOT),
                "{} uses the recursive slot",
                region.name
            );
            assert!(VirtAddr::try_new(region.start).is_ok());
            assert!(VirtAddr::try_new(region.last()).is_ok());
        }
    }

    #[test]
    fn each_region_but_the_image_has_slots_of_its_own_below_510() {
        let mut owner = [None; 512];
        for region in REGIONS.iter().filter(|r| r.kind != RegionKind::KernelImage) {
            let (first, last) = region.p4_slots();
            assert!(last <= 509, "{}", region.name);
            for (slot, owner) in owner.iter_mut().enumerate().take(last + 1).skip(first) {
                assert_eq!(*owner, None, "{} shares slot {slot}", region.name);
                *owner = Some(region.name);
            }
        }
        assert_eq!(KERNEL_IMAGE.p4_slots(), (511, 511));
    }

    #[test]
    fn the_windows_are_in_the_table_and_not_shared() {
        for window in [FRAME_WINDOW, SPACE_WINDOW] {
            assert!(REGIONS.contains(&window), "{}", window.name);
            assert!(!window.kind.is_shared(), "{}", window.name);
            let (first, last) = window.p4_slots();
            assert_eq!(first, last, "{} is one slot", window.name);
            assert!(!is_shared_kernel_slot(first), "{}", window.name);
            assert!(!shared_kernel_slots().any(|slot| slot == first));
        }
        assert_ne!(FRAME_WINDOW.p4_slots(), SPACE_WINDOW.p4_slots());
    }

    #[test]
    fn shared_slots_are_the_kernel_half_but_recursive_and_windows() {
        let shared: std::vec::Vec<usize> = shared_kernel_slots().collect();
        assert!(shared.iter().all(|&slot| slot >= 256));
        assert!(!shared.contains(&RECURSIVE_P4_SLOT));
        assert!(shared.contains(&511));
        for region in REGIONS.iter().filter(|r| r.kind.is_shared()) {
            let (first, last) = region.p4_slots();
            assert!(
                (first..=last).all(|slot| shared.contains(&slot)),
                "{}",
                region.name
            );
        }
        // 256 slots in the kernel half, less the recursive slot and the two
        // windows.
        assert_eq!(shared.len(), 256 - 3);
        assert!(!is_shared_kernel_slot(0) && !is_shared_kernel_slot(255));
    }

    #[test]
    fn region_of_finds_each_region_and_nothing_in_the_lower_half() {
        for region in &REGIONS {
            assert_eq!(region_of(region.start), Some(region));
            assert_eq!(region_of(region.last()), Some(region));
        }
        assert_eq!(region_of(0), None);
        assert_eq!(region_of(0x20_0000), None);
        assert_eq!(region_of(PAGE_TABLES_START), None);
        assert_eq!(
            region_of(kernel_address(PhysAddr::new(0x10_0000)).as_u64()),
            Some(&KERNEL_IMAGE)
        );
    }

    #[test]
    fn the_module_docs_list_every_region() {
        let docs = include_str!("mod.rs");
        for region in &REGIONS {
            let start = format_grouped(region.start);
            assert!(
                docs.lines().any(|line| line.starts_with("//! |")
                    && line.contains(&start)
                    && line.contains(region.name)),
                "src/memory/mod.rs lacks a layout row for {} at {start}",
                region.name
            );
        }
    }

    /// `0xffff_8000_0000_0000`: the address as the docs write it.
    fn format_grouped(addr: u64) -> std::string::String {
        let hex = std::format!("{addr:016x}");
        std::format!(
            "0x{}_{}_{}_{}",
            &hex[0..4],
            &hex[4..8],
            &hex[8..12],
            &hex[12..16]
        )
    }
}
