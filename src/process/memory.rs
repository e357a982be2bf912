//! A process's user memory beyond its image and stack: the program break
//! (`brk`) and anonymous mappings (`mmap`), both demand-zero. A region
//! says where memory may be and with what permissions; a page gets a
//! zeroed frame only when first touched (the page-fault handler, or a
//! system call's copy, asks [`Regions::covering`]).
//!
//! Pure bookkeeping over page numbers, tested on the host; the process
//! maps and unmaps the frames.

use alloc::vec::Vec;
use core::ops::Range;

use crate::memory::PAGE_SIZE;

/// Where `mmap` memory starts (far above any image and break).
pub const MMAP_BASE: u64 = 0x0000_1000_0000_0000;
/// One past the last byte of the mmap area.
pub const MMAP_END: u64 = 0x0000_7000_0000_0000;
/// The most the break may grow.
pub const MAX_BRK_BYTES: u64 = 1 << 30;

/// What a region's pages allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    /// Readable (always, on x86, if mapped at all).
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Protection {
    /// Read and write, no execute: the break and most mappings.
    pub const READ_WRITE: Self = Self {
        read: true,
        write: true,
        exec: false,
    };

    /// From Linux's PROT_* bits (1 read, 2 write, 4 exec).
    pub fn from_prot(prot: u64) -> Self {
        Self {
            read: prot & 1 != 0,
            write: prot & 2 != 0,
            exec: prot & 4 != 0,
        }
    }

    /// Whether any access at all is allowed (PROT_NONE is not).
    pub fn any(self) -> bool {
        self.read || self.write || self.exec
    }
}

/// A demand-zero region: pages `pages` with `prot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Page numbers.
    pub pages: Range<u64>,
    /// Permissions.
    pub prot: Protection,
}

/// The demand-zero regions of a process and its break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regions {
    regions: Vec<Region>,
    /// Where the break began (page aligned) and where it is now (bytes).
    brk_start: u64,
    brk: u64,
}

impl Regions {
    /// No mappings; the break starts at `brk_start` (rounded up to a page).
    pub fn new(brk_start: u64) -> Self {
        let start = brk_start.next_multiple_of(PAGE_SIZE);
        Self {
            regions: Vec::new(),
            brk_start: start,
            brk: start,
        }
    }

    /// The region covering page `page`, if any (the break counts).
    pub fn covering(&self, page: u64) -> Option<Protection> {
        let brk_pages = self.brk_start / PAGE_SIZE..self.brk.div_ceil(PAGE_SIZE);
        if brk_pages.contains(&page) {
            return Some(Protection::READ_WRITE);
        }
        self.regions
            .iter()
            .find(|r| r.pages.contains(&page))
            .map(|r| r.prot)
    }

    /// The break now.
    pub fn brk(&self) -> u64 {
        self.brk
    }

    /// Moves the break to `new` if that is within bounds; returns the
    /// pages no longer covered (to unmap) on success. Linux's brk returns
    /// the old break on failure; the caller does that.
    pub fn set_brk(&mut self, new: u64) -> Option<Range<u64>> {
        if new < self.brk_start || new - self.brk_start > MAX_BRK_BYTES {
            return None;
        }
        let end_pages = |b: u64| b.div_ceil(PAGE_SIZE);
        let (old, now) = (end_pages(self.brk), end_pages(new));
        let grown = old..now;
        if now > old && self.overlaps(&grown) {
            return None;
        }
        self.brk = new;
        // Shrunk: the pages it no longer covers; grown: none.
        Some(now.min(old)..old)
    }

    fn overlaps(&self, pages: &Range<u64>) -> bool {
        self.regions
            .iter()
            .any(|r| r.pages.start < pages.end && pages.start < r.pages.end)
    }

    /// Finds room for `count` pages in the mmap area and adds a region
    /// there; its first page number.
    pub fn map_anywhere(&mut self, count: u64, prot: Protection) -> Option<u64> {
        if count == 0 {
            return None;
        }
        let mut start = MMAP_BASE / PAGE_SIZE;
        let mut sorted: Vec<&Region> = self.regions.iter().collect();
        sorted.sort_by_key(|r| r.pages.start);
        for region in sorted {
            if region.pages.start >= start + count {
                break;
            }
            start = start.max(region.pages.end);
        }
        if start + count > MMAP_END / PAGE_SIZE {
            return None;
        }
        self.regions.push(Region {
            pages: start..start + count,
            prot,
        });
        Some(start)
    }

    /// Removes `pages` from every mmap region (splitting them).
    pub fn unmap(&mut self, pages: Range<u64>) {
        self.change(pages, None);
    }

    /// Gives `pages` of the mmap regions the permissions `prot`; false if
    /// some page of them is in no region.
    pub fn protect(&mut self, pages: Range<u64>, prot: Protection) -> bool {
        let covered = pages
            .clone()
            .all(|p| self.regions.iter().any(|r| r.pages.contains(&p)));
        if covered {
            self.change(pages, Some(prot));
        }
        covered
    }

    /// Cuts `pages` out of every region and, with `prot`, puts the cut
    /// parts back with it.
    fn change(&mut self, pages: Range<u64>, prot: Option<Protection>) {
        let mut out = Vec::new();
        for region in self.regions.drain(..) {
            let r = &region.pages;
            if r.end <= pages.start || pages.end <= r.start {
                out.push(region);
                continue;
            }
            if r.start < pages.start {
                out.push(Region {
                    pages: r.start..pages.start,
                    prot: region.prot,
                });
            }
            if let Some(prot) = prot {
                out.push(Region {
                    pages: r.start.max(pages.start)..r.end.min(pages.end),
                    prot,
                });
            }
            if pages.end < r.end {
                out.push(Region {
                    pages: pages.end..r.end,
                    prot: region.prot,
                });
            }
        }
        self.regions = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u64 = PAGE_SIZE;

    #[test]
    fn the_break_grows_and_shrinks() {
        let mut r = Regions::new(0x40_0123);
        assert_eq!(r.brk(), 0x40_1000);
        assert_eq!(r.covering(0x401), None);
        let grown = r.set_brk(0x40_1000 + 2 * P + 5);
        assert!(
            grown.is_some_and(|pages| pages.is_empty()),
            "nothing to unmap"
        );
        assert_eq!(r.covering(0x401), Some(Protection::READ_WRITE));
        assert_eq!(r.covering(0x403), Some(Protection::READ_WRITE));
        assert_eq!(r.covering(0x404), None);
        assert_eq!(
            r.set_brk(0x40_1000 + P),
            Some(0x402..0x404),
            "pages to unmap"
        );
        assert_eq!(r.set_brk(0x40_0000), None, "below its start");
        assert_eq!(r.set_brk(0x40_1000 + MAX_BRK_BYTES + 1), None, "too far");
    }

    #[test]
    fn mappings_find_room_split_and_protect() {
        let mut r = Regions::new(0x40_0000);
        let a = r.map_anywhere(4, Protection::READ_WRITE).unwrap();
        let b = r.map_anywhere(2, Protection::READ_WRITE).unwrap();
        assert_eq!(a, MMAP_BASE / P);
        assert_eq!(b, a + 4, "next free room");
        r.unmap(a + 1..a + 2);
        assert_eq!(r.covering(a + 1), None);
        assert!(r.covering(a).is_some() && r.covering(a + 2).is_some());
        let c = r.map_anywhere(1, Protection::READ_WRITE).unwrap();
        assert_eq!(c, a + 1, "the hole is reused");
        let ro = Protection::from_prot(1);
        assert!(r.protect(a + 2..a + 4, ro));
        assert_eq!(r.covering(a + 3), Some(ro));
        assert_eq!(r.covering(a), Some(Protection::READ_WRITE));
        assert!(!r.protect(a + 100..a + 101, ro), "not mapped");
        assert_eq!(r.map_anywhere(0, ro), None);
    }
}
