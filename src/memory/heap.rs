//! The kernel heap: the region at [`HEAP_START`], mapped through our own
//! page tables with frames from our frame allocator (writable, NX). It
//! starts at [`INITIAL_SIZE`] and grows on demand, a page range at a time,
//! up to [`MAX_SIZE`] or half the free memory at boot, whichever is less.

use core::ptr::NonNull;

use x86_64::VirtAddr;

use super::allocator::{Heap, HeapStats, KernelDesign};
use super::paging::{EntryFlags, MapError};
use super::{HEAP_START, MEMORY, Memory, PAGE_SIZE, Page};

/// Bytes mapped at boot (enough for the boot's own allocations; the rest
/// is mapped when it is needed).
pub const INITIAL_SIZE: usize = 512 << 10;
/// The most the heap grows to, on any machine.
pub const MAX_SIZE: usize = 64 << 20;

/// The kernel's global allocator.
#[cfg_attr(target_os = "none", global_allocator)]
pub static HEAP: Heap<KernelDesign> = Heap::new();

/// Maps `[start, start + bytes)` (whole pages), writable and not
/// executable. On failure, unmaps what it mapped.
fn map_range(memory: &mut Memory, start: u64, bytes: u64) -> Result<(), MapError> {
    let first = Page::containing(VirtAddr::new(start));
    let pages = bytes / PAGE_SIZE;
    for i in 0..pages {
        let flags = EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE;
        // The pages were not mapped before, and the CPU caches no
        // translation for a not-present entry, so there is nothing to
        // flush (Intel SDM vol. 3, 4.10.4.3).
        if let Err(err) = memory
            .tables
            .map(first + i, flags, &mut memory.frames)
            .map(|flush| flush.ignore())
        {
            for undo in 0..i {
                // SAFETY: these pages were just mapped and nothing uses them.
                let _ = unsafe {
                    memory
                        .tables
                        .unmap_and_free(first + undo, &mut memory.frames)
                };
            }
            return Err(err);
        }
    }
    // Fresh frames hold whatever was there before, often the boot loader's
    // code. Writing every byte once gives the heap known contents, and
    // under QEMU's code translation (TCG) it also retires the translations
    // of that old code: while any remain in a page, every store to the
    // page takes the emulator's self-modifying-code path (about 1 µs
    // instead of 1 ns), and a hot heap block there slows the whole kernel.
    // SAFETY: the range was just mapped, writable, and nothing uses it yet.
    unsafe { core::ptr::write_bytes(start as *mut u8, 0, (pages * PAGE_SIZE) as usize) };
    Ok(())
}

/// The heap's growth: maps more pages after `end`. Never waits for the
/// memory lock (its holder might be the allocating code itself).
fn grow(end: usize, bytes: usize) -> usize {
    let Some(mut guard) = MEMORY.try_lock() else {
        log::error!("heap: cannot grow while the memory manager is busy");
        return 0;
    };
    let Some(memory) = guard.as_mut() else {
        return 0;
    };
    let bytes = (bytes as u64).next_multiple_of(PAGE_SIZE);
    match map_range(memory, end as u64, bytes) {
        Ok(()) => bytes as usize,
        Err(err) => {
            log::error!("heap: cannot grow by {bytes} bytes: {err}");
            0
        }
    }
}

/// Maps the initial heap and hands it to the allocator. Call once, after
/// [`super::init`].
pub fn init() -> Result<HeapStats, MapError> {
    let limit = super::with(|memory| -> Result<usize, MapError> {
        let free = memory.frames.stats().free * PAGE_SIZE;
        let limit = MAX_SIZE.min((free / 2) as usize) & !(PAGE_SIZE as usize - 1);
        let initial = INITIAL_SIZE.min(limit);
        map_range(memory, HEAP_START, initial as u64)?;
        Ok(limit)
    })
    .ok_or(MapError::FrameAllocationFailed)??;
    let initial = INITIAL_SIZE.min(limit);
    // SAFETY: the range was just mapped for the heap alone, page-aligned;
    // `grow` maps exactly the bytes it reports after the end.
    unsafe {
        HEAP.init(
            NonNull::new(HEAP_START as *mut u8).expect("not null"),
            initial,
            limit,
            Some(grow),
        )
    };
    Ok(HEAP.stats())
}

/// The heap's statistics now.
pub fn stats() -> HeapStats {
    HEAP.stats()
}

/// The heap's design, for the boot log and the shell.
pub fn design_name() -> &'static str {
    HEAP.design_name()
}
