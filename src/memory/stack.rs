//! Kernel stacks, each with an unmapped guard page below it, so that an
//! overflow faults instead of overwriting what lies beneath.

use core::fmt;

use x86_64::VirtAddr;

use super::frame::{FrameAllocator, PAGE_SIZE};
use super::page::Page;
use super::paging::{EntryFlags, MapError, Mapper};

/// A mapped kernel stack. It grows down from `top` to `bottom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    top: VirtAddr,
    bottom: VirtAddr,
}

impl Stack {
    /// One past the highest byte: the initial stack pointer (16-byte aligned).
    pub fn top(&self) -> VirtAddr {
        self.top
    }

    /// The lowest byte of the stack; the guard page lies just below.
    pub fn bottom(&self) -> VirtAddr {
        self.bottom
    }

    /// The unmapped page below the stack.
    pub fn guard_page(&self) -> Page {
        Page::containing(self.bottom - 1u64)
    }
}

/// Why a stack could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackError {
    /// The stack region has no room left.
    OutOfVirtualSpace,
    /// A stack needs at least one page.
    ZeroSize,
    /// Mapping a page failed (usually: out of frames).
    Map(MapError),
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfVirtualSpace => f.write_str("the kernel stack region is full"),
            Self::ZeroSize => f.write_str("a stack needs at least one page"),
            Self::Map(err) => write!(f, "cannot map a stack page: {err}"),
        }
    }
}

/// Hands out stacks from a range of virtual pages, each preceded by a guard
/// page that stays unmapped.
pub struct StackAllocator {
    next: Page,
    end: Page,
}

impl StackAllocator {
    /// An allocator over `pages` pages starting at `start`.
    pub fn new(start: Page, pages: u64) -> Self {
        Self {
            next: start,
            end: start + pages,
        }
    }

    /// Maps a stack of `pages` pages (writable, not executable) above a guard page.
    pub fn alloc_stack<A: FrameAllocator>(
        &mut self,
        mapper: &mut Mapper,
        frames: &mut A,
        pages: u64,
    ) -> Result<Stack, StackError> {
        if pages == 0 {
            return Err(StackError::ZeroSize);
        }
        let guard = self.next;
        let first = guard + 1;
        let after = first + pages;
        if after > self.end {
            return Err(StackError::OutOfVirtualSpace);
        }
        map_pages(first, pages, mapper, frames)?;
        self.next = after;
        Ok(Stack {
            top: after.start_address(),
            bottom: first.start_address(),
        })
    }

    /// Maps `stack`'s pages again: a stack this allocator made earlier and
    /// [`unmap`](Self::unmap) emptied, its virtual range kept for reuse
    /// (so that its page tables, made once, serve again). On failure
    /// nothing stays mapped.
    pub fn remap<A: FrameAllocator>(
        &mut self,
        mapper: &mut Mapper,
        frames: &mut A,
        stack: &Stack,
    ) -> Result<(), StackError> {
        let first = Page::containing(stack.bottom);
        let pages = (stack.top - stack.bottom) / PAGE_SIZE;
        map_pages(first, pages, mapper, frames)
    }

    /// Unmaps `stack`'s pages and gives their frames back; the virtual
    /// range stays reserved (for [`remap`](Self::remap)).
    ///
    /// # Safety
    /// Nothing may use the stack any more: no thread runs on it, no
    /// pointer into it is used again.
    pub unsafe fn unmap<A: FrameAllocator>(
        &mut self,
        mapper: &mut Mapper,
        frames: &mut A,
        stack: &Stack,
    ) {
        let first = Page::containing(stack.bottom);
        let last = Page::containing(stack.top - 1u64);
        for page in Page::range_inclusive(first, last) {
            // SAFETY: the caller promises the stack is no longer used.
            let _ = unsafe { mapper.unmap_and_free(page, frames) };
        }
    }
}

/// Maps `pages` pages from `first` (writable, not executable); on failure
/// gives back what it had mapped.
fn map_pages<A: FrameAllocator>(
    first: Page,
    pages: u64,
    mapper: &mut Mapper,
    frames: &mut A,
) -> Result<(), StackError> {
    let last = first + (pages - 1);
    for (done, page) in Page::range_inclusive(first, last).enumerate() {
        let flags = EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE;
        if let Err(err) = mapper.map(page, flags, frames).map(|flush| flush.flush()) {
            // Give back what this stack had mapped so far.
            for mapped in Page::range_inclusive(first, page).take(done) {
                // SAFETY: these pages were mapped just above and are
                // not yet in use by anyone.
                let _ = unsafe { mapper.unmap_and_free(mapped, frames) };
            }
            return Err(StackError::Map(err));
        }
    }
    Ok(())
}
