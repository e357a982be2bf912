//! An emulated physical memory for the host's tests: frames in a `Vec`,
//! indexed by frame number, with a frame allocator that catches double
//! frees, and a "kernel" P4 whose kernel half points at preallocated P3
//! tables, as the kernel's does.

use core::cell::{RefCell, UnsafeCell};
use core::ptr::NonNull;
use std::collections::BTreeSet;
use std::vec::Vec;

use super::access::TableAccess;
use super::mapper::{KERNEL_HALF_FIRST_SLOT, Mapper};
use super::space::{KernelEntries, SpaceHost};
use super::table::{HierarchicalLevel, Level4, Table};
use super::{EntryFlags, MapperFlush};
use crate::memory::frame::{Frame, FrameAllocator};
use crate::memory::page::ENTRY_COUNT;

#[repr(C, align(4096))]
struct FrameBytes([u8; 4096]);

/// Frames handed out in a shuffled-enough order, and which are in use.
pub struct EmulatedFrames {
    free: Vec<Frame>,
    used: BTreeSet<Frame>,
}

impl EmulatedFrames {
    /// How many frames are free.
    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    /// Whether `frame` is handed out.
    pub fn is_used(&self, frame: Frame) -> bool {
        self.used.contains(&frame)
    }
}

// SAFETY: each frame is in `free` or `used`, never both, and only frames of
// the emulated memory (1..count) are ever in `free`.
unsafe impl FrameAllocator for EmulatedFrames {
    fn allocate_frame(&mut self) -> Option<Frame> {
        let frame = self.free.pop()?;
        self.used.insert(frame);
        Some(frame)
    }

    unsafe fn deallocate_frame(&mut self, frame: Frame) {
        assert!(self.used.remove(&frame), "{frame} freed twice");
        self.free.push(frame);
    }
}

/// The memory, its allocator, and the kernel's P4.
pub struct EmulatedMemory {
    frames: Vec<UnsafeCell<FrameBytes>>,
    allocator: RefCell<EmulatedFrames>,
    kernel_p4: Frame,
}

impl EmulatedMemory {
    /// `count` frames (frame 0 is never handed out), then a kernel P4 with a
    /// P3 table for every shared kernel slot.
    pub fn new(count: u64) -> Self {
        let frames = (0..count)
            .map(|_| UnsafeCell::new(FrameBytes([0; 4096])))
            .collect();
        let allocator = RefCell::new(EmulatedFrames {
            free: (1..count).rev().map(Frame::from_number).collect(),
            used: BTreeSet::new(),
        });
        let kernel_p4 = allocator.borrow_mut().allocate_frame().expect("a frame");
        let mut memory = Self {
            frames,
            allocator,
            kernel_p4,
        };
        memory.kernel().p4_mut()[super::RECURSIVE_P4_SLOT]
            .set(kernel_p4, super::RECURSIVE_ENTRY_FLAGS);
        for slot in crate::memory::regions::shared_kernel_slots() {
            let p3 = memory
                .allocator
                .get_mut()
                .allocate_frame()
                .expect("a frame");
            memory.kernel().p4_mut()[slot].set(p3, EntryFlags::PRESENT | EntryFlags::WRITABLE);
        }
        memory
    }

    fn table<L: super::TableLevel>(&self, frame: Frame) -> NonNull<Table<L>> {
        let cell = &self.frames[frame.number() as usize];
        NonNull::new(cell.get().cast()).expect("not null")
    }

    /// A mapper over the kernel's table.
    pub fn kernel(&self) -> Mapper<EmulatedAccess<'_>> {
        // SAFETY: tests use one mapper over a hierarchy at a time.
        unsafe { Mapper::with_access(self.access(self.kernel_p4)) }
    }

    fn access(&self, p4: Frame) -> EmulatedAccess<'_> {
        EmulatedAccess { memory: self, p4 }
    }

    /// The frame allocator.
    pub fn frames(&self) -> std::cell::RefMut<'_, EmulatedFrames> {
        self.allocator.borrow_mut()
    }

    /// The kernel's P3 tables (shared by every space).
    pub fn kernel_tables(&self) -> Vec<Frame> {
        let kernel = self.kernel();
        (KERNEL_HALF_FIRST_SLOT..ENTRY_COUNT)
            .filter(|slot| *slot != super::RECURSIVE_P4_SLOT)
            .filter_map(|slot| kernel.p4()[slot].pointed_frame())
            .collect()
    }
}

/// Reaches tables by frame number in an [`EmulatedMemory`].
pub struct EmulatedAccess<'m> {
    memory: &'m EmulatedMemory,
    p4: Frame,
}

// SAFETY: frames are reached by their number, so `next` is the table in
// `frame`; the cells make writing through shared references legal, and
// tests keep one mapper per hierarchy.
unsafe impl TableAccess for EmulatedAccess<'_> {
    fn p4(&self) -> NonNull<Table<Level4>> {
        self.memory.table(self.p4)
    }

    fn next<L: HierarchicalLevel>(
        &self,
        _parent: NonNull<Table<L>>,
        _index: usize,
        frame: Frame,
    ) -> NonNull<Table<L::NextLevel>> {
        self.memory.table(frame)
    }
}

// SAFETY: as for EmulatedAccess; the allocator is the memory's own.
unsafe impl<'m> SpaceHost for &'m EmulatedMemory {
    type Access = EmulatedAccess<'m>;
    type Frames = EmulatedFrames;

    fn with_frames<R>(&self, f: impl FnOnce(&mut EmulatedFrames) -> R) -> R {
        f(&mut self.allocator.borrow_mut())
    }

    unsafe fn with_space<R>(
        &self,
        p4: Frame,
        f: impl FnOnce(&mut Mapper<EmulatedAccess<'m>>, &mut EmulatedFrames) -> R,
    ) -> R {
        // SAFETY: one mapper per hierarchy at a time (the caller's borrow).
        let mut mapper = unsafe { Mapper::with_access(self.access(p4)) };
        f(&mut mapper, &mut self.allocator.borrow_mut())
    }

    unsafe fn with_frame<R>(&self, frame: Frame, f: impl FnOnce(&mut [u8; 4096]) -> R) -> R {
        let cell = &self.frames[frame.number() as usize];
        // SAFETY: the caller promised nothing else uses the frame meanwhile.
        f(unsafe { &mut (*cell.get()).0 })
    }

    unsafe fn with_new_p4<R>(
        &self,
        frame: Frame,
        f: impl FnOnce(&mut Table<Level4>, &KernelEntries) -> R,
    ) -> R {
        let kernel: KernelEntries = core::array::from_fn(|i| self.kernel().p4()[i]);
        // SAFETY: the caller owns `frame`.
        f(unsafe { &mut *self.table(frame).as_ptr() }, &kernel)
    }

    fn is_active(&self, _p4: Frame) -> bool {
        false
    }

    fn flush(&self, _p4: Frame, flush: MapperFlush) {
        flush.ignore();
    }

    fn forget(&self, _p4: Frame) {}
}
