//! Our own four-level page tables, reached through the recursive entry in
//! P4 slot 510 (`layout::RECURSIVE_P4_SLOT`).
//!
//! [`ActivePageTable`] edits the tables in CR3. [`InactivePageTable`] is a
//! table being built: [`ActivePageTable::with`] points the recursive slot at
//! it for a while, so the same [`Mapper`] code edits it, and
//! [`ActivePageTable::switch`] makes it active.

mod entry;
mod mapper;
mod table;
mod temporary_page;

use core::fmt;
use core::ops::{Deref, DerefMut};

use x86_64::PhysAddr;
use x86_64::instructions::tlb;
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::PhysFrame;

pub use entry::{Entry, EntryFlags};
pub use mapper::{Mapper, recursive_p4_address};
pub use table::{HierarchicalLevel, Level1, Level2, Level3, Level4, Table, TableLevel};
pub use temporary_page::TemporaryPage;

use crate::layout::RECURSIVE_P4_SLOT;
use crate::memory::frame::Frame;
use crate::memory::page::Page;

/// Flags of the recursive entry: not executable, so the page tables seen
/// through it are never code.
pub const RECURSIVE_ENTRY_FLAGS: EntryFlags = EntryFlags::PRESENT
    .union(EntryFlags::WRITABLE)
    .union(EntryFlags::NO_EXECUTE);

/// Why a mapping could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// The page already maps this frame.
    PageAlreadyMapped(Frame),
    /// No frame was free for a page table (or for the page itself).
    FrameAllocationFailed,
    /// A huge page already covers the page.
    ParentEntryHugePage,
    /// The page lies in the recursive slot's 512 GiB, which shows the tables.
    RecursiveRegion,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PageAlreadyMapped(frame) => write!(f, "page already maps {frame}"),
            Self::FrameAllocationFailed => f.write_str("out of physical frames"),
            Self::ParentEntryHugePage => f.write_str("a huge page covers the page"),
            Self::RecursiveRegion => f.write_str("the page lies in the recursive mapping"),
        }
    }
}

/// Why a mapping could not be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnmapError {
    /// Nothing maps the page.
    PageNotMapped,
    /// The page is part of a huge page, which cannot be unmapped in part.
    ParentEntryHugePage,
    /// The page lies in the recursive slot's window onto the tables.
    RecursiveRegion,
}

impl fmt::Display for UnmapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PageNotMapped => f.write_str("page is not mapped"),
            Self::ParentEntryHugePage => f.write_str("page is part of a huge page"),
            Self::RecursiveRegion => f.write_str("the page lies in the recursive mapping"),
        }
    }
}

/// A changed mapping whose TLB entry must be flushed: call [`flush`] (or
/// [`ignore`], when a CR3 switch flushes everything anyway).
///
/// [`flush`]: MapperFlush::flush
/// [`ignore`]: MapperFlush::ignore
#[must_use = "the TLB may still hold the old mapping: call flush() or ignore()"]
pub struct MapperFlush(Page);

impl MapperFlush {
    fn new(page: Page) -> Self {
        Self(page)
    }

    /// Flushes the page's TLB entry.
    pub fn flush(self) {
        tlb::flush(self.0.start_address());
    }

    /// Skips the flush: only for tables that are not active.
    pub fn ignore(self) {}
}

/// The page table in CR3.
pub struct ActivePageTable {
    mapper: Mapper,
}

impl Deref for ActivePageTable {
    type Target = Mapper;

    fn deref(&self) -> &Mapper {
        &self.mapper
    }
}

impl DerefMut for ActivePageTable {
    fn deref_mut(&mut self) -> &mut Mapper {
        &mut self.mapper
    }
}

impl ActivePageTable {
    /// The active table.
    ///
    /// # Safety
    /// The P4 in CR3 must have its recursive entry in slot 510, and only one
    /// `ActivePageTable` may exist.
    pub unsafe fn new() -> Self {
        Self {
            // SAFETY: the caller's promise is Mapper::new's contract.
            mapper: unsafe { Mapper::new() },
        }
    }

    /// The frame of the active P4.
    pub fn p4_frame(&self) -> Frame {
        Frame::containing(Cr3::read().0.start_address())
    }

    /// Runs `f` with a mapper that edits `table` instead of the active table,
    /// by pointing the recursive slot at `table` for the duration.
    pub fn with<R>(
        &mut self,
        table: &mut InactivePageTable,
        temporary_page: &mut TemporaryPage,
        f: impl FnOnce(&mut Mapper) -> R,
    ) -> Result<R, MapError> {
        let active_p4 = self.p4_frame();
        // Keep a way back to the active P4 while the slot points elsewhere.
        let backup = temporary_page.map_table_frame(active_p4, self)? as *mut Table<Level1>;

        self.p4_mut()[RECURSIVE_P4_SLOT].set(table.p4_frame, RECURSIVE_ENTRY_FLAGS);
        tlb::flush_all();

        let result = f(self);

        // SAFETY: `backup` is the temporary page, which maps the active P4
        // until the unmap below; nothing else references it now.
        let backup = unsafe { &mut *backup };
        backup[RECURSIVE_P4_SLOT].set(active_p4, RECURSIVE_ENTRY_FLAGS);
        tlb::flush_all();
        temporary_page
            .unmap(self)
            .expect("the temporary page was mapped above");
        Ok(result)
    }

    /// Makes `new` the active table and returns the previous one.
    pub fn switch(&mut self, new: InactivePageTable) -> InactivePageTable {
        let old = InactivePageTable {
            p4_frame: self.p4_frame(),
        };
        let (_, flags) = Cr3::read();
        let frame = PhysFrame::containing_address(new.p4_frame.start_address());
        // SAFETY: `new` was built with a recursive entry in slot 510 and, by
        // the caller's construction, maps the kernel's code, data and stack,
        // so execution continues normally in the new address space.
        unsafe { Cr3::write(frame, flags) };
        old
    }
}

/// A P4 table that is not in CR3.
pub struct InactivePageTable {
    p4_frame: Frame,
}

impl InactivePageTable {
    /// Turns `frame` into an empty P4 with its recursive entry.
    pub fn new(
        frame: Frame,
        active: &mut ActivePageTable,
        temporary_page: &mut TemporaryPage,
    ) -> Result<Self, MapError> {
        let table = temporary_page.map_table_frame(frame, active)?;
        table.zero();
        table[RECURSIVE_P4_SLOT].set(frame, RECURSIVE_ENTRY_FLAGS);
        temporary_page
            .unmap(active)
            .expect("the temporary page was mapped above");
        Ok(Self { p4_frame: frame })
    }

    /// The frame that holds this table's P4.
    pub fn p4_frame(&self) -> Frame {
        self.p4_frame
    }

    /// The physical address of the P4.
    pub fn p4_address(&self) -> PhysAddr {
        self.p4_frame.start_address()
    }
}
