//! The fixed-size-block design: requests up to 4 KiB are rounded up to one
//! of sixteen size classes (powers of two and the halfway points between
//! them, so at most a third is wasted), each with its own free list:
//! allocation and free are a pop and a push. Empty classes, and larger
//! requests, are served by the linked-list design.
//!
//! Class blocks are 16-byte aligned (the fallback's unit), so the fallback
//! carves them back to back without alignment gaps; the rare request for a
//! larger alignment goes to the fallback directly. Freed blocks stay in
//! their class, so this design does not promise that freeing everything
//! gives back one large region.

use core::alloc::Layout;
use core::ptr::{self, NonNull};

use super::HeapDesign;
use super::linked_list::LinkedListDesign;

/// The block sizes, each a multiple of 16 (the fallback's unit).
const CLASSES: [usize; 16] = [
    16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096,
];
/// The largest size a class serves.
const MAX_CLASS_SIZE: usize = CLASSES[CLASSES.len() - 1];

/// The alignment of every class block.
const CLASS_ALIGN: usize = 16;

/// For each size in 16-byte steps (index (size - 1) / 16), the smallest
/// class that holds it.
const CLASS_BY_SIZE: [u8; MAX_CLASS_SIZE / 16] = {
    let mut table = [0u8; MAX_CLASS_SIZE / 16];
    let mut i = 0;
    while i < table.len() {
        let size = (i + 1) * 16;
        let mut class = 0;
        while CLASSES[class] < size {
            class += 1;
        }
        table[i] = class as u8;
        i += 1;
    }
    table
};

/// The class for `layout`, if one fits its size and alignment.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(1);
    if size > MAX_CLASS_SIZE || layout.align() > CLASS_ALIGN {
        return None;
    }
    Some(usize::from(CLASS_BY_SIZE[(size - 1) / 16]))
}

struct FreeBlock {
    next: *mut FreeBlock,
}

/// Size-class free lists over a linked-list fallback.
pub struct FixedBlockDesign {
    lists: [*mut FreeBlock; CLASSES.len()],
    fallback: LinkedListDesign,
}

// SAFETY: the lists live in memory the design owns; the Heap's mutex
// serialises every access.
unsafe impl Send for FixedBlockDesign {}

// SAFETY: a class block is either in exactly one free list or handed out;
// blocks come from the fallback with the class's size and alignment, which
// cover the request; larger requests are the fallback's, which keeps the
// trait's promises itself.
unsafe impl HeapDesign for FixedBlockDesign {
    const NAME: &'static str = "fixed-size blocks";
    const EMPTY: Self = Self {
        lists: [ptr::null_mut(); CLASSES.len()],
        fallback: LinkedListDesign::EMPTY,
    };

    unsafe fn init(&mut self, start: NonNull<u8>, size: usize) {
        self.lists = [ptr::null_mut(); CLASSES.len()];
        // SAFETY: the caller's promise, passed on.
        unsafe { self.fallback.init(start, size) }
    }

    unsafe fn extend(&mut self, additional: usize) {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.fallback.extend(additional) }
    }

    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let Some(class) = class_of(layout) else {
            return self.fallback.allocate(layout);
        };
        let head = self.lists[class];
        if head.is_null() {
            let size = CLASSES[class];
            let block = Layout::from_size_align(size, CLASS_ALIGN).ok()?;
            return self.fallback.allocate(block);
        }
        // SAFETY: a block in a free list holds a valid FreeBlock.
        self.lists[class] = unsafe { (*head).next };
        NonNull::new(head.cast())
    }

    unsafe fn deallocate(&mut self, ptr: NonNull<u8>, layout: Layout) {
        match class_of(layout) {
            Some(class) => {
                let block = ptr.as_ptr().cast::<FreeBlock>();
                // SAFETY: the block is ours again, at least 16 bytes and
                // 16-byte aligned: room for a FreeBlock.
                unsafe {
                    block.write(FreeBlock {
                        next: self.lists[class],
                    })
                };
                self.lists[class] = block;
            }
            // SAFETY: the caller's promise, passed on.
            None => unsafe { self.fallback.deallocate(ptr, layout) },
        }
    }
}

#[cfg(test)]
mod class_tests {
    use super::*;

    #[test]
    fn classes_fit_size_and_alignment() {
        let class = |size, align| class_of(Layout::from_size_align(size, align).unwrap());
        assert_eq!(class(1, 1).map(|c| CLASSES[c]), Some(16));
        assert_eq!(class(16, 8).map(|c| CLASSES[c]), Some(16));
        assert_eq!(class(17, 8).map(|c| CLASSES[c]), Some(32));
        assert_eq!(class(40, 8).map(|c| CLASSES[c]), Some(48));
        assert_eq!(class(40, 16).map(|c| CLASSES[c]), Some(48));
        assert_eq!(class(40, 32), None, "larger alignments go to the fallback");
        assert_eq!(class(2049, 8).map(|c| CLASSES[c]), Some(3072));
        assert_eq!(class(4096, 16).map(|c| CLASSES[c]), Some(4096));
        assert_eq!(class(4097, 8), None);
        assert_eq!(class(16, 8192), None);
        for (i, &size) in CLASSES.iter().enumerate() {
            assert_eq!(size % 16, 0);
            assert_eq!(class(size, 1), Some(i));
        }
    }
}
