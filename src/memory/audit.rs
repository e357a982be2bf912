//! Walks every mapping of a page table (the kernel's at boot, any address
//! space's through `AddressSpace::audit`) and checks W^X: no page may be
//! both writable and executable. Access is the combination of all levels:
//! writable only if every level allows writes, executable only if no level
//! sets NO_EXECUTE.
//!
//! The window slots ([`super::regions::FRAME_WINDOW`],
//! [`super::regions::SPACE_WINDOW`]) are skipped: while open they show
//! another frame or another space's tables, not mappings of this table, and
//! the other space is audited on its own.

use x86_64::VirtAddr;

use super::page::{ENTRY_COUNT, Page};
use super::paging::{EntryFlags, Mapper, Table, TableAccess, TableLevel};
use super::regions::{self, Region};
use crate::layout::RECURSIVE_P4_SLOT;

/// What the walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditReport {
    /// Leaf mappings seen (4 KiB, 2 MiB or 1 GiB pages).
    pub mappings: usize,
    /// Mappings that are executable.
    pub executable: usize,
    /// Mappings that are writable and executable.
    pub writable_executable: usize,
    /// The first writable and executable mapping, if any.
    pub first_offender: Option<VirtAddr>,
}

#[derive(Clone, Copy)]
struct Access {
    writable: bool,
    executable: bool,
}

impl Access {
    fn through(self, flags: EntryFlags) -> Self {
        Self {
            writable: self.writable && flags.contains(EntryFlags::WRITABLE),
            executable: self.executable && !flags.contains(EntryFlags::NO_EXECUTE),
        }
    }
}

impl AuditReport {
    fn leaf(&mut self, indices: [usize; 4], access: Access) {
        self.mappings += 1;
        if access.executable {
            self.executable += 1;
            if access.writable {
                self.writable_executable += 1;
                let [p4, p3, p2, p1] = indices;
                self.first_offender
                    .get_or_insert(Page::from_indices(p4, p3, p2, p1).start_address());
            }
        }
    }
}

fn present<L: TableLevel>(table: &Table<L>) -> impl Iterator<Item = (usize, EntryFlags)> + '_ {
    table
        .entries()
        .map(|(i, entry)| (i, entry.flags()))
        .filter(|(_, flags)| flags.contains(EntryFlags::PRESENT))
}

/// Whether the walk down `path` (P4 index first) goes through a window
/// slot of this table's P4: the first index that is not the recursive slot
/// picks the P4 entry (the recursive slot leads back to the P4 itself).
fn through_window(path: &[usize]) -> bool {
    let window = |slot: usize| {
        [regions::FRAME_WINDOW, regions::SPACE_WINDOW]
            .iter()
            .any(|region: &Region| region.p4_slots().0 == slot)
    };
    path.iter()
        .find(|&&index| index != RECURSIVE_P4_SLOT)
        .is_some_and(|&slot| window(slot))
}

/// Walks all four levels of the tables `mapper` edits (including the
/// recursive slot, whose window onto the tables must not be executable; not
/// the window slots, directly or through the recursive slot).
pub fn audit<A: TableAccess>(mapper: &Mapper<A>) -> AuditReport {
    let mut report = AuditReport::default();
    let all = Access {
        writable: true,
        executable: true,
    };
    let p4 = mapper.p4();
    for (i4, f4) in present(&p4).filter(|(i4, _)| !through_window(&[*i4])) {
        let a4 = all.through(f4);
        let Some(p3) = p4.next_table(i4) else {
            continue;
        };
        for (i3, f3) in present(&p3).filter(|(i3, _)| !through_window(&[i4, *i3])) {
            let a3 = a4.through(f3);
            if f3.contains(EntryFlags::HUGE_PAGE) {
                report.leaf([i4, i3, 0, 0], a3);
                continue;
            }
            let Some(p2) = p3.next_table(i3) else {
                continue;
            };
            for (i2, f2) in present(&p2).filter(|(i2, _)| !through_window(&[i4, i3, *i2])) {
                let a2 = a3.through(f2);
                if f2.contains(EntryFlags::HUGE_PAGE) {
                    report.leaf([i4, i3, i2, 0], a2);
                    continue;
                }
                let Some(p1) = p2.next_table(i2) else {
                    continue;
                };
                for (i1, f1) in present(&p1).filter(|(i1, _)| !through_window(&[i4, i3, i2, *i1])) {
                    report.leaf([i4, i3, i2, i1], a2.through(f1));
                }
            }
        }
    }
    debug_assert!(report.mappings <= ENTRY_COUNT.pow(4));
    report
}
