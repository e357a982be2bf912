//! The heap: a bump allocator on the program break (`brk`), grown in steps
//! of [`GROW`], with large blocks in `mmap`ed memory of their own (given
//! back by `munmap` when freed). Freeing the newest break block gives its
//! bytes back; other frees are kept until the program ends: programs here
//! are short.
//!
//! Programs are single-threaded: the state is atomics only so that the
//! allocator can be a plain `static`.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::sys;

/// How much the break grows at least each time.
const GROW: usize = 64 * 1024;
/// Blocks this large or larger get a mapping of their own.
const LARGE: usize = 128 * 1024;
/// The page size.
const PAGE: usize = 4096;

struct BreakHeap {
    /// The first free byte (0 until the first allocation).
    next: AtomicUsize,
    /// The break: one past the last byte the heap owns.
    end: AtomicUsize,
}

#[global_allocator]
static HEAP: BreakHeap = BreakHeap {
    next: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
};

impl BreakHeap {
    /// A block from the break, growing it if needed; null if it cannot.
    fn alloc_small(&self, layout: Layout) -> *mut u8 {
        let mut next = self.next.load(Ordering::Relaxed);
        let mut end = self.end.load(Ordering::Relaxed);
        if next == 0 {
            next = sys::brk(0);
            end = next;
        }
        let Some(start) = next.checked_next_multiple_of(layout.align()) else {
            return core::ptr::null_mut();
        };
        let Some(stop) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if stop > end {
            let want = (stop - end).max(GROW).next_multiple_of(PAGE);
            let got = sys::brk(end + want);
            if got < stop {
                return core::ptr::null_mut();
            }
            end = got;
        }
        self.next.store(stop, Ordering::Relaxed);
        self.end.store(end, Ordering::Relaxed);
        start as *mut u8
    }
}

// SAFETY: blocks from the break never overlap (the bump only moves up,
// except to give back the newest block); mapped blocks are fresh pages.
// Mapped memory is page aligned, so any alignment up to a page holds.
unsafe impl GlobalAlloc for BreakHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE && layout.align() <= PAGE {
            return sys::mmap_anonymous(layout.size()).unwrap_or(core::ptr::null_mut());
        }
        self.alloc_small(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() >= LARGE && layout.align() <= PAGE {
            // SAFETY: the block was mapped for itself and is freed now.
            let _ = unsafe { sys::munmap(ptr, layout.size()) };
            return;
        }
        // The newest block: give its bytes back.
        let _ = self.next.compare_exchange(
            ptr as usize + layout.size(),
            ptr as usize,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }
}
