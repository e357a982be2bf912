//! Memory calls: `brk`, `mmap` (anonymous and private only), `munmap`,
//! `mprotect`. Memory is demand-zero: these calls change the regions
//! ([`crate::process::memory`]); a page gets its frame on first touch.

use core::ops::Range;

use x86_64::VirtAddr;

use super::errno::{EINVAL, ENOMEM};
use super::{Args, SysResult};
use crate::memory::PAGE_SIZE;
use crate::memory::page::Page;
use crate::process::memory::{MMAP_BASE, MMAP_END, Protection};
use crate::process::{Process, current};

/// MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS.
const MAP_PRIVATE: u64 = 0x02;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;

fn process() -> Result<alloc::sync::Arc<Process>, super::errno::Errno> {
    current().ok_or(EINVAL)
}

/// Frees the frames of the mapped pages among `pages`.
fn free_pages(process: &Process, pages: Range<u64>) {
    for number in pages {
        let page = Page::containing(VirtAddr::new(number * PAGE_SIZE));
        let _ = process.space().unmap_and_free(page);
    }
}

/// `brk(addr)`: moves the break if it can; returns the break now (Linux's
/// way: the old one if the move failed).
pub fn brk(args: &Args) -> SysResult {
    let process = process()?;
    let mut memory = process.memory.lock();
    if let Some(freed) = memory.set_brk(args[0]) {
        drop(memory);
        free_pages(&process, freed);
        return Ok(process.memory.lock().brk());
    }
    Ok(memory.brk())
}

/// The pages of an mmap-area range `addr..addr + len`, if page-aligned.
pub fn mmap_pages(addr: u64, len: u64) -> Option<Range<u64>> {
    if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
        return None;
    }
    let end = addr.checked_add(len)?.checked_next_multiple_of(PAGE_SIZE)?;
    (addr >= MMAP_BASE && end <= MMAP_END).then_some(addr / PAGE_SIZE..end / PAGE_SIZE)
}

/// `mmap(addr, len, prot, flags, fd, offset)`: anonymous private mappings
/// anywhere in the mmap area (the address is only a hint, ignored).
pub fn mmap(args: &Args) -> SysResult {
    let [_, len, prot, flags, _, _] = *args;
    if flags & MAP_ANONYMOUS == 0 || flags & MAP_PRIVATE == 0 || flags & MAP_FIXED != 0 {
        return Err(EINVAL);
    }
    if len == 0 || len > MMAP_END - MMAP_BASE {
        return Err(EINVAL);
    }
    let count = len.div_ceil(PAGE_SIZE);
    let process = process()?;
    let first = process
        .memory
        .lock()
        .map_anywhere(count, Protection::from_prot(prot))
        .ok_or(ENOMEM)?;
    Ok(first * PAGE_SIZE)
}

/// `munmap(addr, len)`.
pub fn munmap(args: &Args) -> SysResult {
    let pages = mmap_pages(args[0], args[1]).ok_or(EINVAL)?;
    let process = process()?;
    process.memory.lock().unmap(pages.clone());
    free_pages(&process, pages);
    Ok(0)
}

/// `mprotect(addr, len, prot)` on mmap memory: pages already touched are
/// mapped again with the new permissions.
pub fn mprotect(args: &Args) -> SysResult {
    let pages = mmap_pages(args[0], args[1]).ok_or(ENOMEM)?;
    let prot = Protection::from_prot(args[2]);
    let process = process()?;
    if !process.memory.lock().protect(pages.clone(), prot) {
        return Err(ENOMEM);
    }
    let space = process.space();
    for number in pages {
        let page = Page::containing(VirtAddr::new(number * PAGE_SIZE));
        let Ok(frame) = space.unmap(page) else {
            continue;
        };
        if !prot.any() {
            space.free_frame(frame);
            continue;
        }
        let flags = crate::process::table::page_flags(prot);
        if let Err((_, frame)) = space.map_owned(page, frame, flags) {
            space.free_frame(frame);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmap_ranges() {
        let p = MMAP_BASE / PAGE_SIZE;
        assert_eq!(mmap_pages(MMAP_BASE, 1), Some(p..p + 1));
        assert_eq!(mmap_pages(MMAP_BASE, PAGE_SIZE + 1), Some(p..p + 2));
        assert_eq!(mmap_pages(MMAP_BASE + 1, 1), None, "unaligned");
        assert_eq!(mmap_pages(MMAP_BASE, 0), None);
        assert_eq!(mmap_pages(0x40_0000, 4096), None, "outside the mmap area");
        assert_eq!(mmap_pages(MMAP_BASE, u64::MAX), None, "wraps");
    }
}
