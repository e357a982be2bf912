//! Page tables typed by level. Only P4, P3 and P2 tables have a next level
//! (`HierarchicalLevel`), so a walk below P1 does not compile. How a child
//! table is reached is not the table's business: [`super::TableAccess`].

use core::marker::PhantomData;
use core::ops::{Index, IndexMut};

use super::entry::Entry;
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
