//! The heap: a bump allocator over a static arena in the program's bss.
//! Freeing the newest block gives it back; other frees are kept until the
//! program ends. Programs that need more memory get it from `brk`/`mmap`
//! once the kernel offers them.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

/// The arena's size.
const ARENA_BYTES: usize = 256 * 1024;

struct Arena {
    bytes: UnsafeCell<[u8; ARENA_BYTES]>,
    /// Offset of the first free byte.
    next: AtomicUsize,
}

// SAFETY: blocks are handed out by atomic compare-exchange on `next`, so no
// two callers get overlapping bytes.
unsafe impl Sync for Arena {}

#[global_allocator]
static ARENA: Arena = Arena {
    bytes: UnsafeCell::new([0; ARENA_BYTES]),
    next: AtomicUsize::new(0),
};

// SAFETY: every block lies inside the arena, aligned as asked, and no two
// live blocks overlap (see `Sync`).
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.bytes.get() as usize;
        let mut next = self.next.load(Ordering::Relaxed);
        loop {
            let Some(start) = (base + next)
                .checked_next_multiple_of(layout.align())
                .map(|a| a - base)
            else {
                return core::ptr::null_mut();
            };
            let end = match start.checked_add(layout.size()) {
                Some(end) if end <= ARENA_BYTES => end,
                _ => return core::ptr::null_mut(),
            };
            match self
                .next
                .compare_exchange(next, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                // SAFETY: `start` is inside the arena.
                Ok(_) => return unsafe { (self.bytes.get() as *mut u8).add(start) },
                Err(now) => next = now,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let start = ptr as usize - self.bytes.get() as usize;
        // The newest block: give its bytes back; if another block came in
        // between, the exchange fails and the bytes stay taken.
        let _ = self.next.compare_exchange(
            start + layout.size(),
            start,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }
}
