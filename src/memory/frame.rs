//! Physical frames (4 KiB) and the contract of a frame allocator.

use core::fmt;

use x86_64::PhysAddr;

/// Size of a page and of a frame, in bytes.
pub const PAGE_SIZE: u64 = 4096;

/// A 4 KiB frame of physical memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Frame {
    number: u64,
}

impl Frame {
    /// The frame that holds `addr`.
    pub const fn containing(addr: PhysAddr) -> Self {
        Self {
            number: addr.as_u64() / PAGE_SIZE,
        }
    }

    /// The frame with this number (its address divided by 4096).
    pub const fn from_number(number: u64) -> Self {
        Self { number }
    }

    /// The frame's number: its start address divided by 4096.
    pub const fn number(self) -> u64 {
        self.number
    }

    /// The frame's first byte.
    pub fn start_address(self) -> PhysAddr {
        PhysAddr::new(self.number * PAGE_SIZE)
    }

    /// Every frame from `start` to `end`, both included.
    pub fn range_inclusive(start: Frame, end: Frame) -> impl Iterator<Item = Frame> + Clone {
        (start.number..=end.number).map(Frame::from_number)
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frame {:#x}", self.start_address().as_u64())
    }
}

/// A source of free physical frames.
///
/// # Safety
/// An implementation must hand out only frames of usable RAM that nothing
/// else uses, and each frame only once until it is given back.
pub unsafe trait FrameAllocator {
    /// A free frame, or `None` when memory is exhausted. Callers must handle
    /// `None`; it is not a bug.
    fn allocate_frame(&mut self) -> Option<Frame>;

    /// Gives a frame back.
    ///
    /// # Safety
    /// The frame must have come from this allocator and must no longer be
    /// used by anything (no mapping, no pointer into it).
    unsafe fn deallocate_frame(&mut self, frame: Frame);
}

/// A frame that belongs to its holder alone: nothing maps it, nothing points
/// into it, and the allocator will not hand it out. Holding one is what
/// makes mapping it safe ([`crate::memory::paging::AddressSpace::map_owned`]).
///
/// Who gives frames back: the owner of the mappings. An address space owns
/// every frame mapped into it and returns them all when it is dropped. An
/// `OwnedFrame` itself does not reach the allocator when dropped: the
/// kernel's allocator sits behind the memory lock, and a drop that takes it
/// would freeze a caller that already holds it. A dropped `OwnedFrame` is
/// leaked (lost memory, never a dangling mapping); give it to an address
/// space or back with [`AddressSpace::free_frame`](crate::memory::paging::AddressSpace::free_frame).
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a dropped OwnedFrame is leaked: map it or give it back"]
pub struct OwnedFrame(Frame);

impl OwnedFrame {
    /// Takes ownership of `frame`.
    ///
    /// # Safety
    /// `frame` must be RAM from the frame allocator that nothing else uses or
    /// will use: no mapping, no pointer, no other `OwnedFrame`.
    pub unsafe fn from_frame(frame: Frame) -> Self {
        Self(frame)
    }

    /// The frame.
    pub fn frame(&self) -> Frame {
        self.0
    }

    /// Gives up ownership: the caller now answers for the frame.
    pub fn into_frame(self) -> Frame {
        self.0
    }
}
