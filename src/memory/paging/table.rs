//! Page tables typed by level. Only P4, P3 and P2 tables have a next level,
//! so a walk below P1 does not compile.
//!
//! Tables are reached through the recursive P4 slot: a table at virtual
//! address `t` finds its child at index `i` at `(t << 9) | (i << 12)`. Every
//! `&Table` in the kernel is obtained that way (from [`super::Mapper`]), which
//! is what makes the child address arithmetic valid.

use core::marker::PhantomData;
use core::ops::{Index, IndexMut};

use x86_64::VirtAddr;

use super::MapError;
use super::entry::{Entry, EntryFlags};
use crate::memory::frame::FrameAllocator;
use crate::memory::page::ENTRY_COUNT;

/// A page table of level `L`.
#[repr(C, align(4096))]
pub struct Table<L: TableLevel> {
    entries: [Entry; ENTRY_COUNT],
    level: PhantomData<L>,
}

/// A page-table level.
pub trait TableLevel {}

/// Levels whose entries point to tables of the next level.
pub trait HierarchicalLevel: TableLevel {
    /// The level below this one.
    type NextLevel: TableLevel;
}

/// The top level.
pub enum Level4 {}
/// Maps 512 GiB per table.
pub enum Level3 {}
/// Maps 1 GiB per table.
pub enum Level2 {}
/// Maps 2 MiB per table; its entries map 4 KiB pages.
pub enum Level1 {}

impl TableLevel for Level4 {}
impl TableLevel for Level3 {}
impl TableLevel for Level2 {}
impl TableLevel for Level1 {}

impl HierarchicalLevel for Level4 {
    type NextLevel = Level3;
}
impl HierarchicalLevel for Level3 {
    type NextLevel = Level2;
}
impl HierarchicalLevel for Level2 {
    type NextLevel = Level1;
}

impl<L: TableLevel> Table<L> {
    /// Clears every entry.
    pub fn zero(&mut self) {
        self.entries.fill(Entry::UNUSED);
    }

    /// The entries with their indices.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries.iter().enumerate()
    }
}

impl<L: HierarchicalLevel> Table<L> {
    /// The recursive-mapping address of the child table at `index`, if the
    /// entry points to a table (present and not a huge page).
    fn next_table_address(&self, index: usize) -> Option<VirtAddr> {
        let flags = self[index].flags();
        if flags.contains(EntryFlags::PRESENT) && !flags.contains(EntryFlags::HUGE_PAGE) {
            let table = self as *const Self as u64;
            Some(VirtAddr::new_truncate(
                (table << 9) | ((index as u64) << 12),
            ))
        } else {
            None
        }
    }

    /// The child table at `index`, if there is one.
    pub fn next_table(&self, index: usize) -> Option<&Table<L::NextLevel>> {
        self.next_table_address(index).map(|addr| {
            // SAFETY: `self` is reached through the recursive mapping (module
            // docs), so the child's recursive address maps the child table,
            // whose entry is present. Its lifetime is bound to `self`.
            unsafe { &*addr.as_ptr::<Table<L::NextLevel>>() }
        })
    }

    /// The child table at `index`, mutably, if there is one.
    pub fn next_table_mut(&mut self, index: usize) -> Option<&mut Table<L::NextLevel>> {
        self.next_table_address(index).map(|addr| {
            // SAFETY: as in `next_table`; `&mut self` makes this the only
            // reference into the subtree.
            unsafe { &mut *addr.as_mut_ptr::<Table<L::NextLevel>>() }
        })
    }

    /// The child table at `index`, created empty from a new frame if absent.
    pub fn next_table_create<A: FrameAllocator>(
        &mut self,
        index: usize,
        allocator: &mut A,
    ) -> Result<&mut Table<L::NextLevel>, MapError> {
        if self[index].flags().contains(EntryFlags::HUGE_PAGE) {
            return Err(MapError::ParentEntryHugePage);
        }
        let created = if self.next_table(index).is_none() {
            let frame = allocator
                .allocate_frame()
                .ok_or(MapError::FrameAllocationFailed)?;
            // Intermediate entries allow everything; the leaf decides.
            self[index].set(frame, EntryFlags::PRESENT | EntryFlags::WRITABLE);
            true
        } else {
            false
        };
        let table = self
            .next_table_mut(index)
            .ok_or(MapError::ParentEntryHugePage)?;
        if created {
            // The recursive address of the new table may still be cached from
            // an earlier table at the same place.
            x86_64::instructions::tlb::flush(VirtAddr::from_ptr(
                table as *const Table<L::NextLevel>,
            ));
            table.zero();
        }
        Ok(table)
    }
}

impl<L: TableLevel> Index<usize> for Table<L> {
    type Output = Entry;

    fn index(&self, index: usize) -> &Entry {
        &self.entries[index]
    }
}

impl<L: TableLevel> IndexMut<usize> for Table<L> {
    fn index_mut(&mut self, index: usize) -> &mut Entry {
        &mut self.entries[index]
    }
}
