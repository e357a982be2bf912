//! Our own four-level page tables. The walk, map, unmap and translate logic
//! ([`Mapper`]) is generic over how a table is reached ([`TableAccess`]):
//! in the kernel through the recursive entry in P4 slot 510
//! (`layout::RECURSIVE_P4_SLOT`), on the host through an emulated physical
//! memory, where the tests run it.
//!
//! [`ActivePageTable`] edits the tables in CR3, and through two scratch P4
//! slots of its own reaches what is not mapped: another address space's
//! tables ([`SPACE_WINDOW_SLOT`]) and any single frame
//! ([`FRAME_WINDOW_SLOT`]). [`AddressSpace`] is a page table of its own for
//! user space that shares the kernel half. [`InactivePageTable`] is the
//! boot's table being built: [`ActivePageTable::with`] points the recursive
//! slot at it for a while, and [`ActivePageTable::switch`] makes it active.

mod access;
#[cfg(test)]
mod emulated;
mod entry;
mod mapper;
mod space;
#[cfg(test)]
mod space_tests;
mod table;
mod temporary_page;

use core::fmt;
use core::ops::{Deref, DerefMut};

use x86_64::PhysAddr;
use x86_64::instructions::tlb;
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::PhysFrame;

pub use access::{RecursiveAccess, TableAccess};
pub use entry::{Entry, EntryFlags};
pub use mapper::{KERNEL_HALF_FIRST_SLOT, Mapper, TableRef, recursive_p4_address};
pub use space::{ActiveSpace, AddressSpace, KernelEntries, KernelSpaces, SpaceHost};
pub use table::{HierarchicalLevel, Level1, Level2, Level3, Level4, Table, TableLevel};
pub use temporary_page::TemporaryPage;

use crate::layout::RECURSIVE_P4_SLOT;
use crate::memory::frame::Frame;
use crate::memory::page::Page;
use crate::memory::regions;

/// The P4 slot through which the active table shows the tables of another
/// address space ([`ActivePageTable::with_space`]): the slot of
/// [`regions::SPACE_WINDOW`]. Each P4 has its own (it is never copied into a
/// new space), and it is empty in every P4 that is not active.
pub const SPACE_WINDOW_SLOT: usize = regions::SPACE_WINDOW.p4_slots().0;
/// The P4 slot through which the active table shows one frame at a time
/// ([`ActivePageTable::with_frame`]): the slot of [`regions::FRAME_WINDOW`].
/// Pointed at a frame, the frame appears at the recursive address of "P3
/// table number `FRAME_WINDOW_SLOT`". Empty between uses.
pub const FRAME_WINDOW_SLOT: usize = regions::FRAME_WINDOW.p4_slots().0;

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
    /// The page lies in the kernel half, which an address space shares and
    /// never maps on its own.
    KernelHalf,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PageAlreadyMapped(frame) => write!(f, "page already maps {frame}"),
            Self::FrameAllocationFailed => f.write_str("out of physical frames"),
            Self::ParentEntryHugePage => f.write_str("a huge page covers the page"),
            Self::RecursiveRegion => f.write_str("the page lies in the recursive mapping"),
            Self::KernelHalf => f.write_str("the page lies in the kernel half"),
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
    /// The page lies in the kernel half, which an address space shares.
    KernelHalf,
}

impl fmt::Display for UnmapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PageNotMapped => f.write_str("page is not mapped"),
            Self::ParentEntryHugePage => f.write_str("page is part of a huge page"),
            Self::RecursiveRegion => f.write_str("the page lies in the recursive mapping"),
            Self::KernelHalf => f.write_str("the page lies in the kernel half"),
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
    /// The P4 that [`SPACE_WINDOW_SLOT`] points at, if any.
    window: Option<Frame>,
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
            window: None,
        }
    }

    /// Runs `f` with a mapper over the tables of the address space whose P4
    /// is in `p4`, through [`SPACE_WINDOW_SLOT`]. The window stays open
    /// afterwards, so repeated edits of one space pay for one TLB flush.
    ///
    /// # Safety
    /// `p4` must hold a P4 whose slot 510 points at itself, and stay so
    /// until [`ActivePageTable::forget_space`] is called for it.
    pub unsafe fn with_space<R>(&mut self, p4: Frame, f: impl FnOnce(&mut Mapper) -> R) -> R {
        if self.window != Some(p4) {
            self.p4_mut()[SPACE_WINDOW_SLOT].set(p4, RECURSIVE_ENTRY_FLAGS);
            // Every address under the window may be cached for the last P4.
            tlb::flush_all();
            self.window = Some(p4);
        }
        // SAFETY: the window slot points at `p4`, a P4 with its own
        // recursive entry (the caller's promise); `&mut self` keeps every
        // other mapper away while this one lives.
        let mut mapper =
            unsafe { Mapper::with_access(RecursiveAccess::through_slot(SPACE_WINDOW_SLOT)) };
        f(&mut mapper)
    }

    /// Closes the window if it shows the space in `p4` (before that P4 or its
    /// tables are freed).
    pub fn forget_space(&mut self, p4: Frame) {
        if self.window == Some(p4) {
            self.close_window();
        }
    }

    fn close_window(&mut self) {
        if self.window.take().is_some() {
            self.p4_mut()[SPACE_WINDOW_SLOT].set_unused();
            tlb::flush_all();
        }
    }

    /// Runs `f` with `frame` seen as 4096 bytes, through [`FRAME_WINDOW_SLOT`].
    ///
    /// # Safety
    /// Nothing else may use `frame` while `f` runs, and what `f` writes must
    /// not break whoever uses the frame afterwards (it must be RAM the caller
    /// owns or a page table the caller is building).
    pub unsafe fn with_frame<R>(
        &mut self,
        frame: Frame,
        f: impl FnOnce(&mut [u8; 4096]) -> R,
    ) -> R {
        let r = RECURSIVE_P4_SLOT;
        let view = Page::from_indices(r, r, r, FRAME_WINDOW_SLOT).start_address();
        self.p4_mut()[FRAME_WINDOW_SLOT].set(frame, RECURSIVE_ENTRY_FLAGS);
        tlb::flush(view);
        // SAFETY: the walk of `view` ends at the entry just set, so the page
        // there is `frame`; the caller promised it is ours for the duration,
        // and `&mut self` keeps the slot from changing meanwhile.
        let result = f(unsafe { &mut *view.as_mut_ptr::<[u8; 4096]>() });
        self.p4_mut()[FRAME_WINDOW_SLOT].set_unused();
        tlb::flush(view);
        result
    }

    /// Makes the P4 in `p4` the active table.
    ///
    /// # Safety
    /// `p4` must hold a P4 whose slot 510 points at itself and that maps the
    /// kernel (code, stacks, data) as the active one does, and must stay
    /// alive while it is active.
    pub unsafe fn activate(&mut self, p4: Frame) {
        // The window is per P4 and must be empty in every inactive one; the
        // CR3 write below flushes its translations.
        if self.window.take().is_some() {
            self.p4_mut()[SPACE_WINDOW_SLOT].set_unused();
        }
        let (_, flags) = Cr3::read();
        let frame = PhysFrame::containing_address(p4.start_address());
        // SAFETY: the caller's promise: the kernel stays mapped.
        unsafe { Cr3::write(frame, flags) };
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
        self.close_window();
        // SAFETY: the active P4 is a page table we edit under `&mut self`.
        let backup =
            unsafe { temporary_page.map_table_frame(active_p4, self) }? as *mut Table<Level1>;

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
        // SAFETY: `new` was built with a recursive entry in slot 510 and, by
        // the caller's construction, maps the kernel's code, data and stack,
        // so execution continues normally in the new address space.
        unsafe { self.activate(new.p4_frame) };
        old
    }
}

/// A P4 table that is not in CR3.
pub struct InactivePageTable {
    p4_frame: Frame,
}

impl InactivePageTable {
    /// Turns `frame` into an empty P4 with its recursive entry.
    ///
    /// # Safety
    /// `frame` must be unused RAM the caller owns: it is overwritten.
    pub unsafe fn new(
        frame: Frame,
        active: &mut ActivePageTable,
        temporary_page: &mut TemporaryPage,
    ) -> Result<Self, MapError> {
        // SAFETY: `frame` is the caller's fresh frame, becoming a page table.
        let table = unsafe { temporary_page.map_table_frame(frame, active) }?;
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
