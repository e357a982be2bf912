//! Virtual pages (4 KiB) and their indices into the four page-table levels.

use core::fmt;
use core::ops::Add;

use x86_64::VirtAddr;

use super::frame::PAGE_SIZE;

/// Entries per page table.
pub const ENTRY_COUNT: usize = 512;

/// A 4 KiB page of virtual memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Page {
    /// Address bits 12..48 (the canonical sign extension is dropped).
    number: u64,
}

const ADDRESS_BITS: u32 = 48;
const PAGE_NUMBER_MASK: u64 = (1 << (ADDRESS_BITS - 12)) - 1;

impl Page {
    /// The page that holds `addr`.
    pub const fn containing(addr: VirtAddr) -> Self {
        Self {
            number: (addr.as_u64() >> 12) & PAGE_NUMBER_MASK,
        }
    }

    /// The page with the given table indices (each below 512).
    pub fn from_indices(p4: usize, p3: usize, p2: usize, p1: usize) -> Self {
        assert!(p4 < ENTRY_COUNT && p3 < ENTRY_COUNT && p2 < ENTRY_COUNT && p1 < ENTRY_COUNT);
        Self {
            number: ((p4 as u64) << 27) | ((p3 as u64) << 18) | ((p2 as u64) << 9) | p1 as u64,
        }
    }

    /// The page's first byte, sign-extended to a canonical address.
    pub fn start_address(self) -> VirtAddr {
        VirtAddr::new_truncate(self.number * PAGE_SIZE)
    }

    /// Index into the P4 table.
    pub const fn p4_index(self) -> usize {
        ((self.number >> 27) & 0o777) as usize
    }

    /// Index into the P3 table.
    pub const fn p3_index(self) -> usize {
        ((self.number >> 18) & 0o777) as usize
    }

    /// Index into the P2 table.
    pub const fn p2_index(self) -> usize {
        ((self.number >> 9) & 0o777) as usize
    }

    /// Index into the P1 table.
    pub const fn p1_index(self) -> usize {
        (self.number & 0o777) as usize
    }

    /// Every page from `start` to `end`, both included.
    pub fn range_inclusive(start: Page, end: Page) -> impl Iterator<Item = Page> + Clone {
        (start.number..=end.number).map(|number| Page { number })
    }
}

impl Add<u64> for Page {
    type Output = Page;

    /// The page `count` pages after this one.
    fn add(self, count: u64) -> Page {
        Page {
            number: (self.number + count) & PAGE_NUMBER_MASK,
        }
    }
}

impl fmt::Display for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "page {:#x}", self.start_address().as_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::RECURSIVE_P4_SLOT;
    use proptest::prelude::*;

    #[test]
    fn indices_of_known_addresses() {
        let page = Page::containing(VirtAddr::new(0x0000_4444_4444_0000));
        assert_eq!(
            (
                page.p4_index(),
                page.p3_index(),
                page.p2_index(),
                page.p1_index()
            ),
            (0o210, 0o421, 0o042, 0o100)
        );
        let vga = Page::containing(VirtAddr::new(0xb8000));
        assert_eq!(
            (
                vga.p4_index(),
                vga.p3_index(),
                vga.p2_index(),
                vga.p1_index()
            ),
            (0, 0, 0, 0xb8)
        );
    }

    #[test]
    fn recursive_slot_addresses_are_canonical_high_half() {
        let slot = RECURSIVE_P4_SLOT;
        // The P4 table itself: slot 510 at every level.
        let p4 = Page::from_indices(slot, slot, slot, slot);
        assert_eq!(p4.start_address().as_u64(), 0xFFFF_FF7F_BFDF_E000);
        // Not 511: the P4 through the top slot sits in the last page, where
        // table + 4096 overflows the address space.
        let top = Page::from_indices(511, 511, 511, 511);
        assert_eq!(top.start_address().as_u64(), 0xFFFF_FFFF_FFFF_F000);
    }

    proptest! {
        #[test]
        fn indices_round_trip(p4 in 0..512usize, p3 in 0..512usize, p2 in 0..512usize, p1 in 0..512usize) {
            let page = Page::from_indices(p4, p3, p2, p1);
            prop_assert_eq!((page.p4_index(), page.p3_index(), page.p2_index(), page.p1_index()), (p4, p3, p2, p1));
            prop_assert_eq!(Page::containing(page.start_address()), page);
            // Canonical: bits 48..64 copy bit 47.
            let addr = page.start_address().as_u64();
            prop_assert_eq!(addr >> 47 == 0, p4 < 256);
            prop_assert!(addr >> 47 == 0 || addr >> 47 == 0x1_FFFF);
        }

        #[test]
        fn addresses_within_a_page_share_it(addr in 0u64..(1 << 47), offset in 0u64..4096) {
            let base = addr & !0xFFF;
            prop_assert_eq!(
                Page::containing(VirtAddr::new(base)),
                Page::containing(VirtAddr::new(base + offset))
            );
        }
    }
}
