//! [`AddressSpace`]: a page table of its own for user space, sharing the
//! kernel half with every other space.
//!
//! A space's P4 copies the kernel's shared P4 entries
//! ([`regions::shared_kernel_slots`]: 256-507 and 511), so it points at the
//! same kernel P3 tables as every space (a kernel mapping made later shows
//! everywhere without copying, as the remap made every shared P3 table at
//! boot). Slot 510 points at the space's own P4, so the same recursive code
//! edits it when it is active. The window slots are never copied: each
//! table's are its own.
//!
//! The space owns its P4, every table of its user half (P4 slots 0-255) and
//! every frame mapped there, and gives all of them back when dropped, and
//! nothing else: the kernel tables it points at are shared.
//!
//! The logic is generic over a [`SpaceHost`], which says how to reach a
//! space's tables, a single frame and the frame allocator. In the kernel
//! that is [`KernelSpaces`]: a space that is not active is edited through
//! the active table's window slot ([`super::SPACE_WINDOW_SLOT`]) rather than
//! the first edition's trick of re-pointing slot 510. Both take one P4 entry
//! write and a TLB flush; the window leaves the active table's own recursive
//! mapping intact meanwhile, and stays open between calls, so a run of edits
//! to one space pays for one flush. The host's tests use an emulated
//! physical memory.

use x86_64::registers::control::Cr3;
use x86_64::{PhysAddr, VirtAddr};

use super::access::{RecursiveAccess, TableAccess};
use super::mapper::{KERNEL_HALF_FIRST_SLOT, Mapper};
use super::table::{Level4, Table};
use super::{Entry, EntryFlags, MapError, MapperFlush, RECURSIVE_ENTRY_FLAGS, UnmapError};
use crate::layout::RECURSIVE_P4_SLOT;
use crate::memory::frame::{Frame, FrameAllocator, OwnedFrame, PAGE_SIZE};
use crate::memory::frame_bitmap::FrameBitmap;
use crate::memory::page::{ENTRY_COUNT, Page};
use crate::memory::regions;

/// Where address spaces live: how their tables and frames are reached, and
/// the frame allocator they take frames from and give them back to.
///
/// # Safety
/// `with_space` must run `f` with a mapper over the tables of the P4 in
/// `p4`; `with_frame` and `with_new_p4` must hand `f` the contents of
/// `frame` (and, for `with_new_p4`, the kernel's P4); `Frames` must be the
/// allocator every frame of the spaces comes from.
pub unsafe trait SpaceHost {
    /// How the tables of a space are reached.
    type Access: TableAccess;
    /// The frame allocator.
    type Frames: FrameAllocator;

    /// Runs `f` with the frame allocator.
    fn with_frames<R>(&self, f: impl FnOnce(&mut Self::Frames) -> R) -> R;

    /// Runs `f` with a mapper over the tables of the space whose P4 is in
    /// `p4`, and the frame allocator.
    ///
    /// # Safety
    /// `p4` must hold a P4 whose slot 510 points at itself, not freed before
    /// [`SpaceHost::forget`] is called for it.
    unsafe fn with_space<R>(
        &self,
        p4: Frame,
        f: impl FnOnce(&mut Mapper<Self::Access>, &mut Self::Frames) -> R,
    ) -> R;

    /// Runs `f` with the bytes of `frame`.
    ///
    /// # Safety
    /// As [`super::ActivePageTable::with_frame`].
    unsafe fn with_frame<R>(&self, frame: Frame, f: impl FnOnce(&mut [u8; 4096]) -> R) -> R;

    /// Runs `f` with `frame` seen as a P4 table, and the kernel's P4 entries.
    ///
    /// # Safety
    /// `frame` must be an unused frame the caller owns, becoming a P4.
    unsafe fn with_new_p4<R>(
        &self,
        frame: Frame,
        f: impl FnOnce(&mut Table<Level4>, &KernelEntries) -> R,
    ) -> R;

    /// Whether the P4 in `p4` is in CR3.
    fn is_active(&self, p4: Frame) -> bool;

    /// Completes a change to the space in `p4`: flushes the TLB entry if
    /// the space is active.
    fn flush(&self, p4: Frame, flush: MapperFlush);

    /// Drops every cached way to the space in `p4`, before it is freed.
    fn forget(&self, p4: Frame);
}

/// A copy of the kernel's P4 entries, which a new space's P4 starts from.
pub type KernelEntries = [Entry; ENTRY_COUNT];

/// A page table of its own for user space. See the module docs.
///
/// In the kernel its methods take the memory lock, so they must not be
/// called (nor a space dropped) inside [`crate::memory::with`]. Mapping and
/// unmapping take `&self`: each is one step under that lock, so a space
/// shared by a process's threads and its system calls can change while it
/// runs; [`write`](Self::write) takes `&mut self`, as it spans two steps.
pub struct AddressSpace<H: SpaceHost = KernelSpaces> {
    host: H,
    p4: Frame,
}

/// Fills `table` (the frame `frame`) as a new space's P4: the kernel half
/// from `kernel`, slot 510 pointing at itself, the rest empty.
fn init_p4(table: &mut Table<Level4>, kernel: &KernelEntries, frame: Frame) {
    table.zero();
    for slot in regions::shared_kernel_slots() {
        table[slot] = kernel[slot];
    }
    table[RECURSIVE_P4_SLOT].set(frame, RECURSIVE_ENTRY_FLAGS);
}

fn user_page(page: Page) -> bool {
    page.p4_index() < KERNEL_HALF_FIRST_SLOT
}

impl<H: SpaceHost> AddressSpace<H> {
    /// A new, empty space in `host`: one frame, for its P4.
    pub fn new_in(host: H) -> Result<Self, MapError> {
        let p4 = host
            .with_frames(|frames| frames.allocate_frame())
            .ok_or(MapError::FrameAllocationFailed)?;
        // SAFETY: `p4` was just allocated: unused and ours.
        unsafe { host.with_new_p4(p4, |table, kernel| init_p4(table, kernel, p4)) };
        Ok(Self { host, p4 })
    }

    /// The frame that holds the space's P4 (what CR3 holds while it is active).
    pub fn p4_frame(&self) -> Frame {
        self.p4
    }

    /// Runs `f` with a mapper over this space's tables.
    fn with_mapper<R>(&self, f: impl FnOnce(&mut Mapper<H::Access>, &mut H::Frames) -> R) -> R {
        // SAFETY: `self.p4` was made by `init_p4` (slot 510 is itself) and
        // lives until `drop`, which calls `forget` before freeing it.
        unsafe { self.host.with_space(self.p4, f) }
    }

    /// Checks W^X over every mapping this space has: its own user half and
    /// the kernel half it shares, as the boot check does for the kernel's
    /// own table.
    pub fn audit(&self) -> crate::memory::audit::AuditReport {
        self.with_mapper(|mapper, _| crate::memory::audit::audit(mapper))
    }

    /// A new frame for this space, zeroed (no stale data reaches user space).
    pub fn allocate_frame(&self) -> Option<OwnedFrame> {
        let frame = self.host.with_frames(|frames| frames.allocate_frame())?;
        // SAFETY: the frame was just allocated: unused and ours.
        unsafe { self.host.with_frame(frame, |bytes| bytes.fill(0)) };
        // SAFETY: as above.
        Some(unsafe { OwnedFrame::from_frame(frame) })
    }

    /// Gives `frame` back to the frame allocator.
    pub fn free_frame(&self, frame: OwnedFrame) {
        // SAFETY: an OwnedFrame is used by nothing else, and comes from the
        // host's allocator (the only one there is).
        self.host
            .with_frames(|frames| unsafe { frames.deallocate_frame(frame.into_frame()) });
    }

    /// Maps `page` (user half) to a new zeroed frame that the space owns.
    /// User mode may access it; `flags` add the rest.
    pub fn map(&self, page: Page, flags: EntryFlags) -> Result<(), MapError> {
        if !user_page(page) {
            return Err(MapError::KernelHalf);
        }
        let frame = self
            .allocate_frame()
            .ok_or(MapError::FrameAllocationFailed)?;
        self.map_owned(page, frame, flags).map_err(|(err, frame)| {
            self.free_frame(frame);
            err
        })
    }

    /// Maps `page` (user half) to `frame`, which the space owns from then on.
    /// On failure the frame comes back with the error.
    pub fn map_owned(
        &self,
        page: Page,
        frame: OwnedFrame,
        flags: EntryFlags,
    ) -> Result<(), (MapError, OwnedFrame)> {
        if !user_page(page) {
            return Err((MapError::KernelHalf, frame));
        }
        let flags = flags | EntryFlags::USER_ACCESSIBLE;
        let target = frame.frame();
        // SAFETY: the caller gave up `frame` (an OwnedFrame), and the space
        // keeps it until unmapped or dropped.
        let mapped = self.with_mapper(|m, frames| unsafe { m.map_to(page, target, flags, frames) });
        match mapped {
            // A not-present entry is never cached: nothing to flush.
            Ok(flush) => {
                flush.ignore();
                let _ = frame.into_frame();
                Ok(())
            }
            Err(err) => Err((err, frame)),
        }
    }

    /// Removes the mapping of `page` and hands its frame back to the caller.
    pub fn unmap(&self, page: Page) -> Result<OwnedFrame, UnmapError> {
        if !user_page(page) {
            return Err(UnmapError::KernelHalf);
        }
        let (frame, flush) = self.with_mapper(|m, _| m.unmap(page))?;
        self.host.flush(self.p4, flush);
        // SAFETY: every frame in the user half is the space's alone (mapped
        // through `map_owned` only), and its one mapping is gone.
        Ok(unsafe { OwnedFrame::from_frame(frame) })
    }

    /// Removes the mapping of `page` and frees its frame.
    pub fn unmap_and_free(&self, page: Page) -> Result<(), UnmapError> {
        let frame = self.unmap(page)?;
        self.free_frame(frame);
        Ok(())
    }

    /// The frame `page` maps to, if it is mapped.
    pub fn translate_page(&self, page: Page) -> Option<Frame> {
        self.with_mapper(|m, _| m.translate_page(page))
    }

    /// The flags `page` is mapped with, if a 4 KiB page maps it.
    pub fn page_flags(&self, page: Page) -> Option<EntryFlags> {
        self.with_mapper(|m, _| m.page_flags(page))
    }

    /// The physical address `addr` maps to, if it is mapped.
    pub fn translate(&self, addr: VirtAddr) -> Option<PhysAddr> {
        self.with_mapper(|m, _| m.translate(addr))
    }

    /// The page's frame, if `page` is a user page this space maps.
    fn user_frame(&self, page: Page) -> Option<Frame> {
        user_page(page).then(|| self.translate_page(page)).flatten()
    }

    /// Copies `data` into the space at `addr` (within one page), which must be
    /// mapped; the space need not be active.
    pub fn write(&mut self, addr: VirtAddr, data: &[u8]) -> Result<(), UnmapError> {
        let (frame, offset) = self.locate(addr, data.len())?;
        // SAFETY: the frame is the space's own, and `&mut self` keeps it.
        unsafe {
            self.host.with_frame(frame, |bytes| {
                bytes[offset..offset + data.len()].copy_from_slice(data)
            })
        };
        Ok(())
    }

    /// Copies from the space at `addr` (within one page) into `buf`.
    pub fn read(&self, addr: VirtAddr, buf: &mut [u8]) -> Result<(), UnmapError> {
        let (frame, offset) = self.locate(addr, buf.len())?;
        // SAFETY: the frame is the space's own; only read.
        unsafe {
            self.host.with_frame(frame, |bytes| {
                buf.copy_from_slice(&bytes[offset..offset + buf.len()])
            })
        };
        Ok(())
    }

    fn locate(&self, addr: VirtAddr, len: usize) -> Result<(Frame, usize), UnmapError> {
        let offset = (addr.as_u64() % PAGE_SIZE) as usize;
        assert!(offset + len <= PAGE_SIZE as usize, "access crosses a page");
        let frame = self
            .user_frame(Page::containing(addr))
            .ok_or(UnmapError::PageNotMapped)?;
        Ok((frame, offset))
    }
}

impl<H: SpaceHost> Drop for AddressSpace<H> {
    fn drop(&mut self) {
        if self.host.is_active(self.p4) {
            // Freeing the tables in CR3 would pull the floor away; only a
            // forgotten ActiveSpace guard gets here. Leaking is safe.
            log::error!("address space {} dropped while active: leaked", self.p4);
            return;
        }
        // SAFETY: the space is not active, and its user half maps only
        // frames it owns (`map_owned`).
        self.with_mapper(|m, frames| unsafe { m.free_user_half(frames) });
        self.host.forget(self.p4);
        // SAFETY: the P4 is ours, unused now that no window shows it.
        self.host
            .with_frames(|frames| unsafe { frames.deallocate_frame(self.p4) });
    }
}

/// The kernel's address spaces: tables reached through the active table,
/// frames from the kernel's frame allocator. Only exists once memory
/// management has started.
#[derive(Debug, Clone, Copy)]
pub struct KernelSpaces {
    _started: (),
}

impl KernelSpaces {
    /// The kernel's spaces, once [`crate::memory::init`] has run.
    pub fn get() -> Option<Self> {
        crate::memory::with(|_| Self { _started: () })
    }
}

/// Runs `f` with the kernel's memory; a `KernelSpaces` proves it started.
fn memory<R>(f: impl FnOnce(&mut crate::memory::Memory) -> R) -> R {
    crate::memory::with(f).expect("a KernelSpaces exists only after memory::init")
}

// SAFETY: `with_space` goes through the window slot, which shows the P4 in
// `p4` (`ActivePageTable::with_space`); `with_frame` through the frame
// window; the frames come from the one kernel frame allocator.
unsafe impl SpaceHost for KernelSpaces {
    type Access = RecursiveAccess;
    type Frames = FrameBitmap<'static>;

    fn with_frames<R>(&self, f: impl FnOnce(&mut Self::Frames) -> R) -> R {
        memory(|mem| f(&mut mem.frames))
    }

    unsafe fn with_space<R>(
        &self,
        p4: Frame,
        f: impl FnOnce(&mut Mapper<Self::Access>, &mut Self::Frames) -> R,
    ) -> R {
        memory(|mem| {
            let frames = &mut mem.frames;
            // SAFETY: the caller's promise is `with_space`'s contract.
            unsafe { mem.tables.with_space(p4, |mapper| f(mapper, frames)) }
        })
    }

    unsafe fn with_frame<R>(&self, frame: Frame, f: impl FnOnce(&mut [u8; 4096]) -> R) -> R {
        // SAFETY: the caller's promise is `with_frame`'s contract.
        memory(|mem| unsafe { mem.tables.with_frame(frame, f) })
    }

    unsafe fn with_new_p4<R>(
        &self,
        frame: Frame,
        f: impl FnOnce(&mut Table<Level4>, &KernelEntries) -> R,
    ) -> R {
        memory(|mem| {
            let mut kernel = [Entry::UNUSED; ENTRY_COUNT];
            for (slot, entry) in mem.tables.p4().entries() {
                kernel[slot] = *entry;
            }
            // SAFETY: the caller owns `frame`, which becomes a P4. A table
            // is 512 entries of 8 bytes, and the frame window a whole page,
            // 4 KiB aligned.
            unsafe {
                mem.tables.with_frame(frame, |bytes| {
                    let table = bytes as *mut [u8; 4096] as *mut Table<Level4>;
                    f(&mut *table, &kernel)
                })
            }
        })
    }

    fn is_active(&self, p4: Frame) -> bool {
        Frame::containing(Cr3::read().0.start_address()) == p4
    }

    fn flush(&self, p4: Frame, flush: MapperFlush) {
        if self.is_active(p4) {
            flush.flush();
        } else {
            // Its translations left the TLB when CR3 last changed.
            flush.ignore();
        }
    }

    fn forget(&self, p4: Frame) {
        memory(|mem| mem.tables.forget_space(p4));
    }
}

impl AddressSpace<KernelSpaces> {
    /// A new, empty space in the kernel. Fails when out of frames or before
    /// memory management started.
    pub fn new() -> Result<Self, MapError> {
        Self::new_in(KernelSpaces::get().ok_or(MapError::FrameAllocationFailed)?)
    }

    /// Makes this space the active one until the guard is dropped, which
    /// switches back to the table that was active before. The guard borrows
    /// the space, so it cannot be dropped while active.
    ///
    /// The kernel runs in the kernel half (linked at `KERNEL_OFFSET`, its
    /// stacks in the stack region or the image), which every space shares,
    /// so the switch keeps it mapped.
    pub fn activate(&self) -> ActiveSpace<'_> {
        let previous = Frame::containing(Cr3::read().0.start_address());
        // SAFETY: the space's kernel half is the kernel's (`init_p4`), and
        // the kernel's code, data and stacks all lie there (nothing of the
        // kernel's own table is below the kernel half after the remap), so
        // they stay mapped; the guard keeps the space alive while active.
        memory(|mem| unsafe { mem.tables.activate(self.p4) });
        ActiveSpace {
            space: self,
            previous,
        }
    }
}

/// An active address space; dropping it switches back.
#[must_use = "dropping the guard switches back at once"]
pub struct ActiveSpace<'a> {
    space: &'a AddressSpace<KernelSpaces>,
    previous: Frame,
}

impl ActiveSpace<'_> {
    /// The active space.
    pub fn space(&self) -> &AddressSpace<KernelSpaces> {
        self.space
    }
}

impl Drop for ActiveSpace<'_> {
    fn drop(&mut self) {
        // SAFETY: `previous` was active when the guard was made, and guards
        // drop in reverse order, so it is still alive.
        memory(|mem| unsafe { mem.tables.activate(self.previous) });
    }
}
