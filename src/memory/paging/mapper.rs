//! [`Mapper`]: reads and changes the mappings of the page tables that the
//! recursive P4 slot currently points to.

use core::ptr::NonNull;

use x86_64::{PhysAddr, VirtAddr};

use super::entry::EntryFlags;
use super::table::{Level4, Table};
use super::{MapError, MapperFlush, UnmapError};
use crate::layout::RECURSIVE_P4_SLOT;
use crate::memory::frame::{Frame, FrameAllocator, PAGE_SIZE};
use crate::memory::page::{ENTRY_COUNT, Page};

/// The virtual address of the P4 table through the recursive slot.
pub fn recursive_p4_address() -> VirtAddr {
    let slot = RECURSIVE_P4_SLOT;
    Page::from_indices(slot, slot, slot, slot).start_address()
}

/// Walks and edits the page tables reached through the recursive slot.
pub struct Mapper {
    p4: NonNull<Table<Level4>>,
}

// SAFETY: the mapper only holds the fixed recursive address; which tables it
// edits is decided by CR3 and the recursive entry, and the owner of the
// Mapper (behind a lock) is the only one who edits them.
unsafe impl Send for Mapper {}

impl Mapper {
    /// A mapper over the tables the recursive slot points to.
    ///
    /// # Safety
    /// The active P4 must have its recursive entry in `RECURSIVE_P4_SLOT`,
    /// and only one `Mapper` may exist at a time.
    pub unsafe fn new() -> Self {
        Self {
            p4: NonNull::new(recursive_p4_address().as_mut_ptr()).expect("not null"),
        }
    }

    /// The P4 table.
    pub fn p4(&self) -> &Table<Level4> {
        // SAFETY: the recursive slot maps the P4 at this address (`new`'s
        // contract); the reference's lifetime is bound to `self`.
        unsafe { self.p4.as_ref() }
    }

    /// The P4 table, mutably.
    pub fn p4_mut(&mut self) -> &mut Table<Level4> {
        // SAFETY: as in `p4`; `&mut self` makes this the only reference.
        unsafe { self.p4.as_mut() }
    }

    /// The physical address `addr` maps to, if it is mapped.
    pub fn translate(&self, addr: VirtAddr) -> Option<PhysAddr> {
        let offset = addr.as_u64() % PAGE_SIZE;
        self.translate_page(Page::containing(addr))
            .map(|frame| frame.start_address() + offset)
    }

    /// The frame `page` maps to, also inside 1 GiB and 2 MiB pages.
    pub fn translate_page(&self, page: Page) -> Option<Frame> {
        let p3 = self.p4().next_table(page.p4_index())?;
        let p3_entry = p3[page.p3_index()];
        if p3_entry.flags().contains(EntryFlags::HUGE_PAGE) {
            let start = p3_entry.pointed_frame()?;
            let offset = (page.p2_index() * ENTRY_COUNT + page.p1_index()) as u64;
            return Some(Frame::from_number(start.number() + offset));
        }
        let p2 = p3.next_table(page.p3_index())?;
        let p2_entry = p2[page.p2_index()];
        if p2_entry.flags().contains(EntryFlags::HUGE_PAGE) {
            let start = p2_entry.pointed_frame()?;
            return Some(Frame::from_number(start.number() + page.p1_index() as u64));
        }
        let p1 = p2.next_table(page.p2_index())?;
        p1[page.p1_index()].pointed_frame()
    }

    /// The flags of the P1 entry that maps `page`, if it is mapped by a 4 KiB page.
    pub fn page_flags(&self, page: Page) -> Option<EntryFlags> {
        let p1 = self
            .p4()
            .next_table(page.p4_index())?
            .next_table(page.p3_index())?
            .next_table(page.p2_index())?;
        let entry = p1[page.p1_index()];
        entry.pointed_frame().map(|_| entry.flags())
    }

    /// Maps `page` to `frame` with `flags` (PRESENT is added), creating the
    /// tables on the way with frames from `allocator`.
    pub fn map_to<A: FrameAllocator>(
        &mut self,
        page: Page,
        frame: Frame,
        flags: EntryFlags,
        allocator: &mut A,
    ) -> Result<MapperFlush, MapError> {
        if page.p4_index() == RECURSIVE_P4_SLOT {
            return Err(MapError::RecursiveRegion);
        }
        let p1 = self
            .p4_mut()
            .next_table_create(page.p4_index(), allocator)?
            .next_table_create(page.p3_index(), allocator)?
            .next_table_create(page.p2_index(), allocator)?;
        let entry = &mut p1[page.p1_index()];
        if let Some(existing) = entry.pointed_frame() {
            return Err(MapError::PageAlreadyMapped(existing));
        }
        entry.set(frame, flags | EntryFlags::PRESENT);
        Ok(MapperFlush::new(page))
    }

    /// Maps `page` to a new frame from `allocator`.
    pub fn map<A: FrameAllocator>(
        &mut self,
        page: Page,
        flags: EntryFlags,
        allocator: &mut A,
    ) -> Result<MapperFlush, MapError> {
        let frame = allocator
            .allocate_frame()
            .ok_or(MapError::FrameAllocationFailed)?;
        self.map_to(page, frame, flags, allocator).inspect_err(|_| {
            // SAFETY: the frame was just allocated and never mapped.
            unsafe { allocator.deallocate_frame(frame) }
        })
    }

    /// Maps `frame` at the virtual address equal to its physical address.
    pub fn identity_map<A: FrameAllocator>(
        &mut self,
        frame: Frame,
        flags: EntryFlags,
        allocator: &mut A,
    ) -> Result<MapperFlush, MapError> {
        let page = Page::containing(VirtAddr::new(frame.start_address().as_u64()));
        self.map_to(page, frame, flags, allocator)
    }

    /// Removes the 4 KiB mapping of `page` and returns the frame it mapped.
    /// The frame stays allocated: see [`Mapper::unmap_and_free`].
    pub fn unmap(&mut self, page: Page) -> Result<(Frame, MapperFlush), UnmapError> {
        if page.p4_index() == RECURSIVE_P4_SLOT {
            return Err(UnmapError::RecursiveRegion);
        }
        let p3 = self
            .p4_mut()
            .next_table_mut(page.p4_index())
            .ok_or(UnmapError::PageNotMapped)?;
        if p3[page.p3_index()].flags().contains(EntryFlags::HUGE_PAGE) {
            return Err(UnmapError::ParentEntryHugePage);
        }
        let p2 = p3
            .next_table_mut(page.p3_index())
            .ok_or(UnmapError::PageNotMapped)?;
        if p2[page.p2_index()].flags().contains(EntryFlags::HUGE_PAGE) {
            return Err(UnmapError::ParentEntryHugePage);
        }
        let p1 = p2
            .next_table_mut(page.p2_index())
            .ok_or(UnmapError::PageNotMapped)?;
        let entry = &mut p1[page.p1_index()];
        let frame = entry.pointed_frame().ok_or(UnmapError::PageNotMapped)?;
        entry.set_unused();
        Ok((frame, MapperFlush::new(page)))
    }

    /// Removes the mapping of `page`, flushes it from the TLB, and gives its
    /// frame back to `allocator`.
    ///
    /// # Safety
    /// Nothing else may use the frame (no other mapping of it, no pointer).
    pub unsafe fn unmap_and_free<A: FrameAllocator>(
        &mut self,
        page: Page,
        allocator: &mut A,
    ) -> Result<Frame, UnmapError> {
        let (frame, flush) = self.unmap(page)?;
        flush.flush();
        // SAFETY: the mapping is gone and flushed; the caller promised nothing
        // else uses the frame.
        unsafe { allocator.deallocate_frame(frame) };
        Ok(frame)
    }
}
