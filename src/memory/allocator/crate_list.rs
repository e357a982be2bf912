//! The `linked_list_allocator` crate as a design: the reference the other
//! designs are measured against.

use core::alloc::Layout;
use core::ptr::NonNull;

use linked_list_allocator::Heap as CrateHeap;

use super::HeapDesign;

/// `linked_list_allocator::Heap`.
pub struct CrateDesign(CrateHeap);

// SAFETY: the crate keeps the promises of its own allocator: blocks inside
// the region, aligned, not overlapping.
unsafe impl HeapDesign for CrateDesign {
    const NAME: &'static str = "linked_list_allocator";
    const EMPTY: Self = Self(CrateHeap::empty());

    unsafe fn init(&mut self, start: NonNull<u8>, size: usize) {
        // SAFETY: the caller's promise is the crate's contract.
        unsafe { self.0.init(start.as_ptr(), size) }
    }

    unsafe fn extend(&mut self, additional: usize) {
        // SAFETY: the caller's promise is the crate's contract.
        unsafe { self.0.extend(additional) }
    }

    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        self.0.allocate_first_fit(layout).ok()
    }

    unsafe fn deallocate(&mut self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: the caller's promise is the crate's contract.
        unsafe { self.0.deallocate(ptr, layout) }
    }
}
