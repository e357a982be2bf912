//! The kernel heap's allocator designs, behind one [`GlobalAlloc`]:
//! [`Heap`] holds the lock, the statistics and the growth, and a
//! [`HeapDesign`] decides where blocks go.
//!
//! | design | module | idea |
//! |---|---|---|
//! | bump | [`bump`] | hands out memory in order; frees it all when the last block is freed |
//! | linked list | [`linked_list`] | first fit over a sorted list of free regions, merging neighbours |
//! | fixed-size blocks | [`fixed_block`] | per-size-class free lists, falling back to the linked list |
//! | `linked_list_allocator` | [`crate_list`] | the well-known crate, as the reference |
//!
//! The kernel's design is chosen at build time by a cargo feature (see
//! Cargo.toml; default: fixed-size blocks). Everything here is pure logic,
//! also built and property-tested on the host.

#[cfg(test)]
mod bench;
pub mod bump;
pub mod crate_list;
pub mod fixed_block;
mod heap;
pub mod linked_list;

pub use heap::{GrowFn, Heap, HeapStats};

use core::alloc::Layout;
use core::ptr::NonNull;

/// An allocator design: manages one contiguous region that can grow at its
/// end. [`Heap`] serialises access, so methods take `&mut self`.
///
/// # Safety
/// `allocate` must return blocks that lie inside the region given to
/// `init`/`extend`, are aligned and sized as asked, and overlap no other
/// live block.
pub unsafe trait HeapDesign {
    /// The design's name, for the boot log and benchmarks.
    const NAME: &'static str;
    /// The design with no memory yet.
    const EMPTY: Self;

    /// Gives the design its first region.
    ///
    /// # Safety
    /// `[start, start + size)` must be valid, unused memory for as long as
    /// the design is used; `start` must be 16-byte aligned.
    unsafe fn init(&mut self, start: NonNull<u8>, size: usize);

    /// Adds `additional` bytes right after the current end of the region.
    ///
    /// # Safety
    /// Those bytes must be valid, unused memory, as for `init`.
    unsafe fn extend(&mut self, additional: usize);

    /// A block for `layout`, or `None` if the region has no room.
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>>;

    /// Gives a block back.
    ///
    /// # Safety
    /// `ptr` must come from `allocate` on this design with the same `layout`,
    /// and must not be used afterwards.
    unsafe fn deallocate(&mut self, ptr: NonNull<u8>, layout: Layout);
}

// One definition whatever the features, so that a wrong choice gets only
// the message below.
/// The design the kernel heap uses, chosen by cargo feature.
#[cfg(feature = "heap-bump")]
pub type KernelDesign = bump::BumpDesign;
/// The design the kernel heap uses, chosen by cargo feature.
#[cfg(all(feature = "heap-linked-list", not(feature = "heap-bump")))]
pub type KernelDesign = linked_list::LinkedListDesign;
/// The design the kernel heap uses, chosen by cargo feature.
#[cfg(all(
    feature = "heap-crate",
    not(any(feature = "heap-bump", feature = "heap-linked-list"))
))]
pub type KernelDesign = crate_list::CrateDesign;
/// The design the kernel heap uses, chosen by cargo feature.
#[cfg(not(any(
    feature = "heap-bump",
    feature = "heap-linked-list",
    feature = "heap-crate"
)))]
pub type KernelDesign = fixed_block::FixedBlockDesign;

// Exactly one design: a build with two would not say which one it measured.
#[cfg(any(
    all(
        feature = "heap-fixed-block",
        any(
            feature = "heap-bump",
            feature = "heap-linked-list",
            feature = "heap-crate"
        )
    ),
    all(
        feature = "heap-bump",
        any(feature = "heap-linked-list", feature = "heap-crate")
    ),
    all(feature = "heap-linked-list", feature = "heap-crate"),
))]
compile_error!(
    "two heap designs chosen: enable one of the features heap-fixed-block (the default), \
     heap-bump, heap-linked-list, heap-crate; another than the default needs \
     --no-default-features, e.g. cargo build --no-default-features --features heap-crate"
);
#[cfg(not(any(
    feature = "heap-fixed-block",
    feature = "heap-bump",
    feature = "heap-linked-list",
    feature = "heap-crate"
)))]
compile_error!(
    "no heap design chosen: enable one of the features heap-fixed-block, heap-bump, \
     heap-linked-list, heap-crate"
);

/// Rounds `value` up to a multiple of `align` (a power of two).
pub const fn align_up(value: usize, align: usize) -> usize {
    (value + align - 1) & !(align - 1)
}

#[cfg(test)]
mod tests;
