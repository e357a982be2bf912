//! The linked-list design: a list of free regions, sorted by address and
//! stored in the free memory itself. Allocation takes the first region that
//! fits (first fit) and returns what is left over to the list; freeing puts
//! the block back in address order and merges it with free neighbours, so
//! freeing everything leaves one region again.
//!
//! Every region and block starts on a 16-byte boundary and is a multiple of
//! 16 bytes long, which leaves room for a list node in any free piece.

use core::alloc::Layout;
use core::ptr::{self, NonNull};

use super::{HeapDesign, align_up};

/// Granularity of regions and blocks; a list node fits in it.
const UNIT: usize = 16;

#[repr(C)]
struct Node {
    size: usize,
    next: *mut Node,
}

const _: () = assert!(core::mem::size_of::<Node>() <= UNIT);

/// A first-fit allocator over a sorted free list.
pub struct LinkedListDesign {
    head: *mut Node,
    end: usize,
}

// SAFETY: the list lives in memory the design owns; the Heap's mutex
// serialises every access.
unsafe impl Send for LinkedListDesign {}

/// The size and alignment a request really takes.
fn block(layout: Layout) -> (usize, usize) {
    (
        align_up(layout.size().max(UNIT), UNIT),
        layout.align().max(UNIT),
    )
}

impl LinkedListDesign {
    /// Puts `[addr, addr + size)` into the free list, merging neighbours.
    ///
    /// # Safety
    /// The range must be free memory the design owns, 16-byte aligned, a
    /// multiple of 16 bytes long, and in no free region already.
    unsafe fn insert_free(&mut self, addr: usize, size: usize) {
        let mut prev: *mut Node = ptr::null_mut();
        let mut cur = self.head;
        // SAFETY: every node pointer in the list points to a live node in
        // free memory the design owns (the list's invariant).
        unsafe {
            while !cur.is_null() && (cur as usize) < addr {
                prev = cur;
                cur = (*cur).next;
            }
            let merges_prev = !prev.is_null() && prev as usize + (*prev).size == addr;
            let merges_next = !cur.is_null() && addr + size == cur as usize;
            match (merges_prev, merges_next) {
                (true, true) => {
                    (*prev).size += size + (*cur).size;
                    (*prev).next = (*cur).next;
                }
                (true, false) => (*prev).size += size,
                (false, merges_next) => {
                    let node = addr as *mut Node;
                    let (size, next) = if merges_next {
                        (size + (*cur).size, (*cur).next)
                    } else {
                        (size, cur)
                    };
                    node.write(Node { size, next });
                    if prev.is_null() {
                        self.head = node;
                    } else {
                        (*prev).next = node;
                    }
                }
            }
        }
    }

    /// Free regions, for tests: (address, size) in address order.
    #[cfg(test)]
    pub(super) fn regions(&self) -> std::vec::Vec<(usize, usize)> {
        let mut out = std::vec::Vec::new();
        let mut cur = self.head;
        while !cur.is_null() {
            // SAFETY: list invariant, as above.
            unsafe {
                out.push((cur as usize, (*cur).size));
                cur = (*cur).next;
            }
        }
        out
    }
}

// SAFETY: a block is carved from a free region and removed from the list
// until freed, so live blocks never overlap; blocks are aligned and sized
// as asked (rounded up); the list only holds memory given to init/extend.
unsafe impl HeapDesign for LinkedListDesign {
    const NAME: &'static str = "linked list";
    const EMPTY: Self = Self {
        head: ptr::null_mut(),
        end: 0,
    };

    unsafe fn init(&mut self, start: NonNull<u8>, size: usize) {
        let start = start.as_ptr() as usize;
        let size = size & !(UNIT - 1);
        self.head = ptr::null_mut();
        self.end = start + size;
        if size >= UNIT {
            // SAFETY: the caller gave us this memory; it is aligned to 16.
            unsafe { self.insert_free(start, size) };
        }
    }

    unsafe fn extend(&mut self, additional: usize) {
        let additional = additional & !(UNIT - 1);
        let start = self.end;
        self.end += additional;
        if additional > 0 {
            // SAFETY: the caller gave us the memory right after the end.
            unsafe { self.insert_free(start, additional) };
        }
    }

    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let (size, align) = block(layout);
        let mut prev: *mut Node = ptr::null_mut();
        let mut cur = self.head;
        // SAFETY: list invariant: every node is a live node in free memory.
        unsafe {
            while !cur.is_null() {
                let region_start = cur as usize;
                let region_end = region_start + (*cur).size;
                // Regions start on 16 bytes and align >= 16: the front
                // remainder is 0 or at least 16 bytes, room for a node.
                let start = align_up(region_start, align);
                if let Some(end) = start.checked_add(size).filter(|&end| end <= region_end) {
                    let mut rest = (*cur).next;
                    if end < region_end {
                        let back = end as *mut Node;
                        back.write(Node {
                            size: region_end - end,
                            next: rest,
                        });
                        rest = back;
                    }
                    if start > region_start {
                        (*cur).size = start - region_start;
                        (*cur).next = rest;
                    } else if prev.is_null() {
                        self.head = rest;
                    } else {
                        (*prev).next = rest;
                    }
                    return NonNull::new(start as *mut u8);
                }
                prev = cur;
                cur = (*cur).next;
            }
        }
        None
    }

    unsafe fn deallocate(&mut self, ptr: NonNull<u8>, layout: Layout) {
        let (size, _) = block(layout);
        // SAFETY: the caller returns a block this design handed out with the
        // same layout, so it is free now, aligned and `size` long.
        unsafe { self.insert_free(ptr.as_ptr() as usize, size) };
    }
}
