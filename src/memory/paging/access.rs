//! How the page-table code reaches a table: [`TableAccess`]. The walk, map,
//! unmap and translate logic ([`super::Mapper`]) is written once against
//! this trait; the kernel reaches tables through a recursive P4 slot
//! ([`RecursiveAccess`]), the host's tests through an emulated physical
//! memory (`emulated.rs`).

use core::ptr::NonNull;

use x86_64::VirtAddr;

use super::table::{HierarchicalLevel, Level4, Table, TableLevel};
use crate::layout::RECURSIVE_P4_SLOT;
use crate::memory::frame::Frame;
use crate::memory::page::Page;

/// A way to reach the tables of one four-level hierarchy.
///
/// # Safety
/// [`p4`](TableAccess::p4) must return the hierarchy's P4 table, and
/// [`next`](TableAccess::next) the table held by `frame`, the frame that
/// entry `index` of `parent` (a table reached through this access) points
/// to. Both pointers must be valid for reads and writes of a whole table for
/// as long as the access lives, and nothing outside the [`super::Mapper`]
/// that owns the access may use those tables meanwhile.
pub unsafe trait TableAccess {
    /// The P4 table.
    fn p4(&self) -> NonNull<Table<Level4>>;

    /// The child table of `parent` at `index`, held by `frame`.
    fn next<L: HierarchicalLevel>(
        &self,
        parent: NonNull<Table<L>>,
        index: usize,
        frame: Frame,
    ) -> NonNull<Table<L::NextLevel>>;

    /// Called when `table` was just created in a fresh frame, before it is
    /// zeroed: a recursive access drops the stale translation of its address.
    fn table_created<L: TableLevel>(&self, _table: NonNull<Table<L>>) {}
}

/// Reaches the tables through a P4 slot of the active P4 that points at
/// the hierarchy's P4, whose own slot 510 points at itself.
///
/// With `slot` = 510 that is the active table. With another slot `s` that
/// points at some other P4 `q`, the walk of `(s, 510, 510, 510)` goes
/// active P4 → `q` → `q` → `q` → `q`, so `q` is the page there; `q`'s
/// tables follow by the same shift as in the plain recursive mapping, with
/// the top index kept at `s`.
#[derive(Debug, Clone, Copy)]
pub struct RecursiveAccess {
    slot: usize,
}

impl RecursiveAccess {
    /// The active table, through slot 510.
    pub const ACTIVE: Self = Self {
        slot: RECURSIVE_P4_SLOT,
    };

    /// The tables of the P4 that `slot` of the active P4 points at.
    ///
    /// # Safety
    /// Slot `slot` of the active P4 must point at a P4 whose slot 510 points
    /// at itself, for as long as the access is used.
    pub const unsafe fn through_slot(slot: usize) -> Self {
        Self { slot }
    }

    /// Where the P4 reached through `slot` appears.
    pub fn p4_address(slot: usize) -> VirtAddr {
        let r = RECURSIVE_P4_SLOT;
        Page::from_indices(slot, r, r, r).start_address()
    }
}

/// Bits 12..39: the three lower table indices of an address.
const LOWER_INDICES: u64 = ((1 << 39) - 1) & !0xFFF;

// SAFETY: `through_slot`'s contract (and, for ACTIVE, the boot code's
// recursive entry) makes the walk of `p4_address(slot)` end at the P4;
// shifting a table's address up one level and appending `index` keeps the
// walk through the same tables one step further, so `next` names the child
// table. Exclusive use is the Mapper's contract (`Mapper::new`).
unsafe impl TableAccess for RecursiveAccess {
    fn p4(&self) -> NonNull<Table<Level4>> {
        NonNull::new(Self::p4_address(self.slot).as_mut_ptr()).expect("not null")
    }

    fn next<L: HierarchicalLevel>(
        &self,
        parent: NonNull<Table<L>>,
        index: usize,
        _frame: Frame,
    ) -> NonNull<Table<L::NextLevel>> {
        let parent = parent.as_ptr() as u64;
        let child =
            ((self.slot as u64) << 39) | ((parent << 9) & LOWER_INDICES) | ((index as u64) << 12);
        NonNull::new(VirtAddr::new_truncate(child).as_mut_ptr()).expect("not null")
    }

    fn table_created<L: TableLevel>(&self, table: NonNull<Table<L>>) {
        // An earlier table at the same place may still be cached.
        x86_64::instructions::tlb::flush(VirtAddr::from_ptr(table.as_ptr()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::paging::table::{Level2, Level3};

    fn child_page<L: HierarchicalLevel>(access: RecursiveAccess, parent: Page, i: usize) -> Page {
        let parent = NonNull::new(parent.start_address().as_mut_ptr::<Table<L>>()).unwrap();
        let child = access.next(parent, i, Frame::from_number(0));
        Page::containing(VirtAddr::from_ptr(child.as_ptr()))
    }

    #[test]
    fn recursive_children_follow_the_first_edition_formula() {
        let a = RecursiveAccess::ACTIVE;
        let p4 = Page::containing(VirtAddr::from_ptr(a.p4().as_ptr()));
        assert_eq!(p4, Page::from_indices(510, 510, 510, 510));
        let p3 = child_page::<Level4>(a, p4, 3);
        assert_eq!(p3, Page::from_indices(510, 510, 510, 3));
        let p2 = child_page::<Level3>(a, p3, 4);
        assert_eq!(p2, Page::from_indices(510, 510, 3, 4));
        let p1 = child_page::<Level2>(a, p2, 5);
        assert_eq!(p1, Page::from_indices(510, 3, 4, 5));
    }

    #[test]
    fn another_slot_keeps_its_top_index() {
        // SAFETY: only addresses are computed; nothing is dereferenced.
        let a = unsafe { RecursiveAccess::through_slot(300) };
        let p4 = Page::containing(VirtAddr::from_ptr(a.p4().as_ptr()));
        assert_eq!(p4, Page::from_indices(300, 510, 510, 510));
        let p3 = child_page::<Level4>(a, p4, 7);
        assert_eq!(p3, Page::from_indices(300, 510, 510, 7));
        let p2 = child_page::<Level3>(a, p3, 8);
        assert_eq!(p2, Page::from_indices(300, 510, 7, 8));
        let p1 = child_page::<Level2>(a, p2, 9);
        assert_eq!(p1, Page::from_indices(300, 7, 8, 9));
    }
}
