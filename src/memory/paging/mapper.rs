//! [`Mapper`]: reads and changes the mappings of one four-level hierarchy,
//! whichever way its tables are reached ([`TableAccess`]).

use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;

use x86_64::{PhysAddr, VirtAddr};

use super::access::{RecursiveAccess, TableAccess};
use super::entry::EntryFlags;
use super::table::{HierarchicalLevel, Level1, Level4, Table, TableLevel};
use super::{MapError, MapperFlush, UnmapError};
use crate::layout::RECURSIVE_P4_SLOT;
use crate::memory::frame::{Frame, FrameAllocator, PAGE_SIZE};
use crate::memory::page::{ENTRY_COUNT, Page};

/// The virtual address of the active P4 table through the recursive slot.
pub fn recursive_p4_address() -> VirtAddr {
    RecursiveAccess::p4_address(RECURSIVE_P4_SLOT)
}

/// The first P4 slot of the kernel half: slots below it map user space.
pub const KERNEL_HALF_FIRST_SLOT: usize = 256;

/// Walks and edits the tables reached through `A`.
pub struct Mapper<A: TableAccess = RecursiveAccess> {
    access: A,
}

// SAFETY: the mapper holds only the way to its tables; the owner of the
// Mapper (behind a lock) is the only one who edits them.
unsafe impl<A: TableAccess> Send for Mapper<A> {}

/// A table reached through a mapper, borrowed from it: the only way to
/// walk to a child table, so every walk starts from a real P4.
pub struct TableRef<'a, L: TableLevel, A: TableAccess> {
    table: NonNull<Table<L>>,
    access: &'a A,
    level: PhantomData<&'a Table<L>>,
}

impl<L: TableLevel, A: TableAccess> Clone for TableRef<'_, L, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L: TableLevel, A: TableAccess> Copy for TableRef<'_, L, A> {}

impl<L: TableLevel, A: TableAccess> Deref for TableRef<'_, L, A> {
    type Target = Table<L>;

    fn deref(&self) -> &Table<L> {
        // SAFETY: the access vouches for the pointer (TableAccess contract);
        // the shared borrow of the mapper keeps writers away while it lives.
        unsafe { self.table.as_ref() }
    }
}

impl<'a, L: HierarchicalLevel, A: TableAccess> TableRef<'a, L, A> {
    /// The child table at `index`, if the entry points to one.
    pub fn next_table(&self, index: usize) -> Option<TableRef<'a, L::NextLevel, A>> {
        let frame = self[index].table_frame()?;
        Some(TableRef {
            table: self.access.next(self.table, index, frame),
            access: self.access,
            level: PhantomData,
        })
    }
}

impl Mapper<RecursiveAccess> {
    /// A mapper over the active tables, through the recursive slot.
    ///
    /// # Safety
    /// The active P4 must have its recursive entry in `RECURSIVE_P4_SLOT`,
    /// and only one `Mapper` over it may exist at a time.
    pub unsafe fn new() -> Self {
        Self {
            access: RecursiveAccess::ACTIVE,
        }
    }
}

impl<A: TableAccess> Mapper<A> {
    /// A mapper over the tables `access` reaches.
    ///
    /// # Safety
    /// No other mapper or reference may use those tables while this one
    /// lives (the rest is `TableAccess`'s contract).
    pub unsafe fn with_access(access: A) -> Self {
        Self { access }
    }

    /// The P4 table, as the start of a walk.
    pub fn p4(&self) -> TableRef<'_, Level4, A> {
        TableRef {
            table: self.access.p4(),
            access: &self.access,
            level: PhantomData,
        }
    }

    /// The P4 table, mutably.
    pub fn p4_mut(&mut self) -> &mut Table<Level4> {
        // SAFETY: the access vouches for the pointer; `&mut self` makes this
        // the only reference.
        unsafe { &mut *self.access.p4().as_ptr() }
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

    /// The child of `parent` at `index`, created empty from a new frame if
    /// absent. Tables for user space (`user`) let user mode through; the
    /// leaf decides.
    fn next_table_create<L: HierarchicalLevel, F: FrameAllocator>(
        &mut self,
        parent: NonNull<Table<L>>,
        index: usize,
        user: bool,
        allocator: &mut F,
    ) -> Result<NonNull<Table<L::NextLevel>>, MapError> {
        // SAFETY: `parent` was reached through the access; `&mut self`
        // makes this the only reference, dropped before the next one.
        let entry = unsafe { &mut (&mut *parent.as_ptr())[index] };
        if entry.flags().contains(EntryFlags::HUGE_PAGE) {
            return Err(MapError::ParentEntryHugePage);
        }
        if let Some(frame) = entry.table_frame() {
            return Ok(self.access.next(parent, index, frame));
        }
        let frame = allocator
            .allocate_frame()
            .ok_or(MapError::FrameAllocationFailed)?;
        let mut flags = EntryFlags::PRESENT | EntryFlags::WRITABLE;
        if user {
            flags |= EntryFlags::USER_ACCESSIBLE;
        }
        entry.set(frame, flags);
        let table = self.access.next(parent, index, frame);
        self.access.table_created(table);
        // SAFETY: the new table is reached through the access and nothing
        // else knows its frame yet.
        unsafe { (*table.as_ptr()).zero() };
        Ok(table)
    }

    /// Makes sure P4 entry `slot` points at a P3 table, creating an empty one
    /// if absent: the remap makes the kernel's shared P3 tables ahead this
    /// way, so that address spaces copying the P4 entry share them.
    pub fn p3_create<F: FrameAllocator>(
        &mut self,
        slot: usize,
        allocator: &mut F,
    ) -> Result<(), MapError> {
        if slot == RECURSIVE_P4_SLOT {
            return Err(MapError::RecursiveRegion);
        }
        let p4 = self.access.p4();
        let user = slot < KERNEL_HALF_FIRST_SLOT;
        self.next_table_create(p4, slot, user, allocator)
            .map(|_| ())
    }

    /// The P1 table for `page`, with the tables on the way created.
    fn p1_create<F: FrameAllocator>(
        &mut self,
        page: Page,
        allocator: &mut F,
    ) -> Result<NonNull<Table<Level1>>, MapError> {
        let user = page.p4_index() < KERNEL_HALF_FIRST_SLOT;
        let p4 = self.access.p4();
        let p3 = self.next_table_create(p4, page.p4_index(), user, allocator)?;
        let p2 = self.next_table_create(p3, page.p3_index(), user, allocator)?;
        self.next_table_create(p2, page.p2_index(), user, allocator)
    }

    /// Maps `page` to `frame` with `flags` (PRESENT is added), creating the
    /// tables on the way with frames from `allocator`. A page that is
    /// already mapped is an error and stays as it was.
    ///
    /// # Safety
    /// `frame` becomes reachable through `page`: nothing else may rely on
    /// its contents staying private (it must be unused RAM the caller owns,
    /// or device memory meant to be mapped), and it must not be freed while
    /// mapped.
    pub unsafe fn map_to<F: FrameAllocator>(
        &mut self,
        page: Page,
        frame: Frame,
        flags: EntryFlags,
        allocator: &mut F,
    ) -> Result<MapperFlush, MapError> {
        if page.p4_index() == RECURSIVE_P4_SLOT {
            return Err(MapError::RecursiveRegion);
        }
        let p1 = self.p1_create(page, allocator)?;
        // SAFETY: reached through the access; `&mut self` makes it ours.
        let entry = unsafe { &mut (&mut *p1.as_ptr())[page.p1_index()] };
        if let Some(existing) = entry.pointed_frame() {
            return Err(MapError::PageAlreadyMapped(existing));
        }
        entry.set(frame, flags | EntryFlags::PRESENT);
        Ok(MapperFlush::new(page))
    }

    /// Maps `page` to a new frame from `allocator`.
    pub fn map<F: FrameAllocator>(
        &mut self,
        page: Page,
        flags: EntryFlags,
        allocator: &mut F,
    ) -> Result<MapperFlush, MapError> {
        let frame = allocator
            .allocate_frame()
            .ok_or(MapError::FrameAllocationFailed)?;
        // SAFETY: the frame was just allocated: unused and now ours.
        unsafe { self.map_to(page, frame, flags, allocator) }.inspect_err(|_| {
            // SAFETY: the frame was just allocated and never mapped.
            unsafe { allocator.deallocate_frame(frame) }
        })
    }

    /// Removes the 4 KiB mapping of `page` and returns the frame it mapped.
    /// The frame stays allocated: see [`Mapper::unmap_and_free`].
    pub fn unmap(&mut self, page: Page) -> Result<(Frame, MapperFlush), UnmapError> {
        if page.p4_index() == RECURSIVE_P4_SLOT {
            return Err(UnmapError::RecursiveRegion);
        }
        let p3 = self
            .p4()
            .next_table(page.p4_index())
            .ok_or(UnmapError::PageNotMapped)?;
        if p3[page.p3_index()].flags().contains(EntryFlags::HUGE_PAGE) {
            return Err(UnmapError::ParentEntryHugePage);
        }
        let p2 = p3
            .next_table(page.p3_index())
            .ok_or(UnmapError::PageNotMapped)?;
        if p2[page.p2_index()].flags().contains(EntryFlags::HUGE_PAGE) {
            return Err(UnmapError::ParentEntryHugePage);
        }
        let p1 = p2
            .next_table(page.p2_index())
            .ok_or(UnmapError::PageNotMapped)?
            .table;
        // SAFETY: reached through the access; `&mut self` makes it ours (the
        // shared walk above has ended).
        let entry = unsafe { &mut (&mut *p1.as_ptr())[page.p1_index()] };
        let frame = entry.pointed_frame().ok_or(UnmapError::PageNotMapped)?;
        entry.set_unused();
        Ok((frame, MapperFlush::new(page)))
    }

    /// Removes the mapping of `page`, flushes it from the TLB, and gives its
    /// frame back to `allocator`.
    ///
    /// # Safety
    /// Nothing else may use the frame (no other mapping of it, no pointer).
    pub unsafe fn unmap_and_free<F: FrameAllocator>(
        &mut self,
        page: Page,
        allocator: &mut F,
    ) -> Result<Frame, UnmapError> {
        let (frame, flush) = self.unmap(page)?;
        flush.flush();
        // SAFETY: the mapping is gone and flushed; the caller promised nothing
        // else uses the frame.
        unsafe { allocator.deallocate_frame(frame) };
        Ok(frame)
    }

    /// Empties the user half (P4 slots 0-255): gives every frame a 4 KiB
    /// page there maps, and every table below the P4 there, to `allocator`.
    /// Huge pages are only unmapped (their frames are not the space's).
    /// Returns how many frames were freed.
    ///
    /// # Safety
    /// The hierarchy must not be active, and every frame its user half maps
    /// must belong to it alone (nothing else maps or uses them).
    pub unsafe fn free_user_half<F: FrameAllocator>(&mut self, allocator: &mut F) -> usize {
        let mut freed = 0;
        let mut free = |frame: Frame| {
            // SAFETY: the caller gives up the user half's frames. Each table
            // is freed after the walk has left it (and an allocator does not
            // touch the frames it is given back).
            unsafe { allocator.deallocate_frame(frame) };
            freed += 1;
        };
        let p4 = self.p4();
        for i4 in 0..KERNEL_HALF_FIRST_SLOT {
            let Some(p3) = p4.next_table(i4) else {
                continue;
            };
            for i3 in 0..ENTRY_COUNT {
                let Some(p2) = p3.next_table(i3) else {
                    continue;
                };
                for i2 in 0..ENTRY_COUNT {
                    let Some(p1) = p2.next_table(i2) else {
                        continue;
                    };
                    p1.entries()
                        .filter_map(|(_, entry)| entry.pointed_frame())
                        .for_each(&mut free);
                    p2[i2].table_frame().into_iter().for_each(&mut free);
                }
                p3[i3].table_frame().into_iter().for_each(&mut free);
            }
            p4[i4].table_frame().into_iter().for_each(&mut free);
        }
        let p4 = self.p4_mut();
        (0..KERNEL_HALF_FIRST_SLOT).for_each(|i| p4[i].set_unused());
        freed
    }
}
