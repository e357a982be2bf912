//! The bump design: blocks are handed out in address order from a moving
//! pointer. Freeing counts, and gives back the block on top (the last one
//! handed out, if it is freed first: the common allocate-use-free pattern
//! reuses the same bytes even while older blocks live on); when the count
//! of live blocks returns to zero, the whole region is free again.

use core::alloc::Layout;
use core::ptr::NonNull;

use super::{HeapDesign, align_up};

/// A bump allocator.
pub struct BumpDesign {
    start: usize,
    end: usize,
    next: usize,
    live: usize,
}

// SAFETY: `next` only moves forward past handed-out blocks until no block is
// live, so live blocks never overlap, and every block ends before `end`.
unsafe impl HeapDesign for BumpDesign {
    const NAME: &'static str = "bump";
    const EMPTY: Self = Self {
        start: 0,
        end: 0,
        next: 0,
        live: 0,
    };

    unsafe fn init(&mut self, start: NonNull<u8>, size: usize) {
        self.start = start.as_ptr() as usize;
        self.end = self.start + size;
        self.next = self.start;
        self.live = 0;
    }

    unsafe fn extend(&mut self, additional: usize) {
        self.end += additional;
    }

    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let start = align_up(self.next, layout.align());
        let end = start.checked_add(layout.size())?;
        if end > self.end {
            return None;
        }
        self.next = end;
        self.live += 1;
        NonNull::new(start as *mut u8)
    }

    unsafe fn deallocate(&mut self, ptr: NonNull<u8>, layout: Layout) {
        self.live -= 1;
        if self.live == 0 {
            self.next = self.start;
        } else if ptr.as_ptr() as usize + layout.size() == self.next {
            self.next = ptr.as_ptr() as usize;
        }
    }
}
