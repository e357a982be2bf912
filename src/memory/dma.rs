//! Memory a device reads and writes by itself (DMA): whole frames from the
//! frame allocator, zeroed, mapped into the MMIO region for the driver, with
//! their physical address for the device.
//!
//! One frame at a time: there is no contiguous allocation, so a driver keeps
//! every structure a device needs in one piece within one 4 KiB frame.
//! Mapped write-back: x86 keeps device accesses coherent with the caches.

use x86_64::{PhysAddr, VirtAddr};

use super::paging::EntryFlags;
use super::{DeviceMapError, FrameAllocator, PAGE_SIZE, Page, regions, with};

/// One frame of DMA memory, mapped. Never unmapped: a driver that is done
/// with it keeps it for reuse (a device may still write to memory it was
/// given, so giving it back to the allocator would need the device quiet).
#[derive(Debug)]
pub struct DmaPage {
    virt: VirtAddr,
    phys: PhysAddr,
}

impl DmaPage {
    /// Where the kernel sees it.
    pub fn virt(&self) -> VirtAddr {
        self.virt
    }

    /// Where the device sees it.
    pub fn phys(&self) -> PhysAddr {
        self.phys
    }

    /// Zeroes the page (before reuse).
    pub fn zero(&mut self) {
        // SAFETY: the page is mapped writable and owned by `self`.
        unsafe { core::ptr::write_bytes(self.virt.as_mut_ptr::<u8>(), 0, PAGE_SIZE as usize) };
    }
}

/// Takes a frame, maps it and zeroes it.
pub fn allocate() -> Result<DmaPage, DeviceMapError> {
    let page = with(|mem| {
        let page = mem.next_mmio;
        let end = Page::containing(VirtAddr::new(regions::MMIO.last())) + 1;
        if page + 1 > end {
            return Err(DeviceMapError::RegionFull);
        }
        let frame = mem.frames.allocate_frame().ok_or(DeviceMapError::Map(
            super::paging::MapError::FrameAllocationFailed,
        ))?;
        // SAFETY: the frame was just allocated, so nothing else maps or uses
        // it; the MMIO page is fresh.
        unsafe {
            mem.tables.map_to(
                page,
                frame,
                EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE,
                &mut mem.frames,
            )
        }?
        .flush();
        mem.next_mmio = page + 1;
        Ok(DmaPage {
            virt: page.start_address(),
            phys: frame.start_address(),
        })
    })
    .ok_or(DeviceMapError::NotStarted)??;
    let mut page = page;
    page.zero();
    Ok(page)
}
