//! [`Heap`]: the one `GlobalAlloc` in front of every design. It owns the
//! lock, the statistics and the growth of the region, so no design has to.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};

use spin::Mutex;

use super::{HeapDesign, align_up};
use crate::units::ByteSize;

/// Maps at least `bytes` more bytes right after `end` and returns how many
/// it mapped (0 if it could not).
pub type GrowFn = fn(end: usize, bytes: usize) -> usize;

/// Growth happens in steps of at least this many bytes.
const MIN_GROWTH: usize = 64 * 1024;

/// What the heap holds and has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes requested by live allocations.
    pub in_use: usize,
    /// The most `in_use` has been.
    pub peak: usize,
    /// Live allocations.
    pub live: usize,
    /// Allocations made so far.
    pub allocations: u64,
    /// Allocations refused for lack of memory.
    pub failed: u64,
    /// Bytes of the region now.
    pub size: usize,
    /// The most the region may grow to.
    pub limit: usize,
}

struct State<D> {
    design: D,
    start: usize,
    grow: Option<GrowFn>,
    stats: HeapStats,
}

/// A heap with design `D`, behind a spin lock taken with interrupts off:
/// interrupt handlers never allocate, but a waker they drop may free.
pub struct Heap<D> {
    state: Mutex<State<D>>,
}

impl<D: HeapDesign> Heap<D> {
    /// A heap with no memory yet: allocations fail until [`Heap::init`].
    pub const fn new() -> Self {
        Self {
            state: Mutex::new(State {
                design: D::EMPTY,
                start: 0,
                grow: None,
                stats: HeapStats {
                    in_use: 0,
                    peak: 0,
                    live: 0,
                    allocations: 0,
                    failed: 0,
                    size: 0,
                    limit: 0,
                },
            }),
        }
    }

    /// Gives the heap `[start, start + size)`, allowed to grow to `limit`
    /// bytes through `grow`.
    ///
    /// # Safety
    /// The range must be valid, unused, 16-byte aligned memory for the rest
    /// of the heap's life, and `grow` must map exactly the bytes it reports
    /// right after the current end.
    pub unsafe fn init(&self, start: NonNull<u8>, size: usize, limit: usize, grow: Option<GrowFn>) {
        let mut state = self.state.lock();
        // SAFETY: the caller's promise is the design's contract.
        unsafe { state.design.init(start, size) };
        state.start = start.as_ptr() as usize;
        state.grow = grow;
        state.stats.size = size;
        state.stats.limit = limit.max(size);
    }

    /// The statistics now.
    pub fn stats(&self) -> HeapStats {
        self.state.lock().stats
    }

    /// The design's name.
    pub fn design_name(&self) -> &'static str {
        D::NAME
    }

    /// Where the region starts.
    pub fn start(&self) -> usize {
        self.state.lock().start
    }
}

impl<D: HeapDesign> Default for Heap<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: HeapDesign> State<D> {
    /// Grows the region for `layout`; false if the limit or memory is reached.
    fn grow_for(&mut self, layout: Layout) -> bool {
        let Some(grow) = self.grow else {
            return false;
        };
        let room = self.stats.limit - self.stats.size;
        let needed = align_up(layout.size() + layout.align(), 4096);
        // Double the heap, at least MIN_GROWTH, never past the limit.
        let step = needed.max(self.stats.size).max(MIN_GROWTH).min(room);
        if step < needed {
            return false;
        }
        let mut added = grow(self.start + self.stats.size, step);
        if added == 0 && step > needed {
            // Not enough memory for the big step: the request alone may fit.
            added = grow(self.start + self.stats.size, needed);
        }
        if added == 0 {
            return false;
        }
        // SAFETY: `grow` mapped `added` bytes right after the end (its contract).
        unsafe { self.design.extend(added) };
        self.stats.size += added;
        true
    }
}

// SAFETY: every block comes from the design, which promises aligned,
// in-region, non-overlapping blocks; the mutex serialises the design.
unsafe impl<D: HeapDesign + Send> GlobalAlloc for Heap<D> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        crate::arch::without_interrupts(|| self.alloc_locked(layout))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        crate::arch::without_interrupts(|| {
            let Some(ptr) = NonNull::new(ptr) else {
                return;
            };
            let mut state = self.state.lock();
            // SAFETY: GlobalAlloc's caller returns a block from `alloc` with its layout.
            unsafe { state.design.deallocate(ptr, layout) };
            state.stats.in_use -= layout.size();
            state.stats.live -= 1;
        })
    }
}

impl<D: HeapDesign> Heap<D> {
    fn alloc_locked(&self, layout: Layout) -> *mut u8 {
        let mut state = self.state.lock();
        loop {
            if let Some(block) = state.design.allocate(layout) {
                let stats = &mut state.stats;
                stats.in_use += layout.size();
                stats.peak = stats.peak.max(stats.in_use);
                stats.live += 1;
                stats.allocations += 1;
                return block.as_ptr();
            }
            if !state.grow_for(layout) {
                state.stats.failed += 1;
                let stats = state.stats;
                log::error!(
                    "heap ({}): out of memory for {} bytes (align {}): {} in use in {} blocks, heap {} of at most {}",
                    D::NAME,
                    layout.size(),
                    layout.align(),
                    ByteSize(stats.in_use as u64),
                    stats.live,
                    ByteSize(stats.size as u64),
                    ByteSize(stats.limit as u64),
                );
                return ptr::null_mut();
            }
        }
    }
}
