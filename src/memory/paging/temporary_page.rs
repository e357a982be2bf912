//! A page for looking at a frame that is not mapped anywhere, such as the P4
//! of an inactive page table.

use x86_64::VirtAddr;

use super::table::{Level1, Table};
use super::{ActivePageTable, EntryFlags, MapError, UnmapError};
use crate::memory::frame::{Frame, FrameAllocator};
use crate::memory::page::Page;

/// A fixed page that maps one frame at a time. It brings the (at most three)
/// frames its own page tables may need, so mapping it never fails for lack
/// of memory.
pub struct TemporaryPage {
    page: Page,
    allocator: TinyAllocator,
}

impl TemporaryPage {
    /// A temporary page at `page`, with frames for its tables from `allocator`.
    pub fn new<A: FrameAllocator>(page: Page, allocator: &mut A) -> Result<Self, MapError> {
        Ok(Self {
            page,
            allocator: TinyAllocator::new(allocator)?,
        })
    }

    /// Maps `frame` at the temporary page (writable, not executable) in the
    /// active table and returns its address.
    ///
    /// # Safety
    /// Nothing else may use `frame` while it is mapped here, and what is
    /// written through the page must not break whoever uses it afterwards.
    pub unsafe fn map(
        &mut self,
        frame: Frame,
        active: &mut ActivePageTable,
    ) -> Result<VirtAddr, MapError> {
        // SAFETY: the caller's promise covers this mapping of `frame`.
        unsafe {
            active.map_to(
                self.page,
                frame,
                EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE,
                &mut self.allocator,
            )
        }?
        .flush();
        Ok(self.page.start_address())
    }

    /// Maps `frame`, which holds a page table, and returns it as a table.
    /// Its entries are read as P1 entries: no walk goes below it.
    ///
    /// # Safety
    /// `frame` must hold a page table (or become one) that the caller may
    /// edit, and nothing else may use it while the table is borrowed.
    pub unsafe fn map_table_frame(
        &mut self,
        frame: Frame,
        active: &mut ActivePageTable,
    ) -> Result<&mut Table<Level1>, MapError> {
        // SAFETY: the caller's promise is `map`'s contract.
        let addr = unsafe { self.map(frame, active) }?;
        // SAFETY: the page now maps `frame`, a 4 KiB page table; the reference
        // borrows `self`, so the page is not remapped while it lives.
        Ok(unsafe { &mut *addr.as_mut_ptr::<Table<Level1>>() })
    }

    /// Removes the mapping.
    pub fn unmap(&mut self, active: &mut ActivePageTable) -> Result<(), UnmapError> {
        let (_, flush) = active.unmap(self.page)?;
        flush.flush();
        Ok(())
    }
}

/// Holds three frames, enough for one P3, P2 and P1 table.
struct TinyAllocator([Option<Frame>; 3]);

impl TinyAllocator {
    fn new<A: FrameAllocator>(allocator: &mut A) -> Result<Self, MapError> {
        let mut frames = [None; 3];
        for slot in &mut frames {
            *slot = Some(
                allocator
                    .allocate_frame()
                    .ok_or(MapError::FrameAllocationFailed)?,
            );
        }
        Ok(Self(frames))
    }
}

// SAFETY: it only hands out the frames it was given, each once until returned.
unsafe impl FrameAllocator for TinyAllocator {
    fn allocate_frame(&mut self) -> Option<Frame> {
        self.0.iter_mut().find_map(Option::take)
    }

    unsafe fn deallocate_frame(&mut self, frame: Frame) {
        if let Some(slot) = self.0.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(frame);
        }
    }
}
