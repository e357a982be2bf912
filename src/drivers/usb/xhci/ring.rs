//! Transfer request blocks and the rings that carry them (xHCI 1.2, 4.9):
//! producer rings (the command ring, each endpoint's transfer ring), one
//! frame each with a link TRB back to the start, and the event ring the
//! controller produces into, one segment of one frame.

use x86_64::PhysAddr;

use crate::memory::PAGE_SIZE;
use crate::memory::dma::DmaPage;

/// A TRB: 16 bytes, the cycle bit in bit 0 of `control`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct Trb {
    /// Parameter (a pointer, or immediate data).
    pub parameter: u64,
    /// Status (lengths, completion code).
    pub status: u32,
    /// Control (type, flags, cycle bit).
    pub control: u32,
}

/// TRB types (xHCI 1.2, table 6-91).
pub mod kind {
    pub const NORMAL: u32 = 1;
    pub const SETUP: u32 = 2;
    pub const DATA: u32 = 3;
    pub const STATUS: u32 = 4;
    pub const LINK: u32 = 6;
    pub const ENABLE_SLOT: u32 = 9;
    pub const DISABLE_SLOT: u32 = 10;
    pub const ADDRESS_DEVICE: u32 = 11;
    pub const CONFIGURE_ENDPOINT: u32 = 12;
    pub const EVALUATE_CONTEXT: u32 = 13;
    pub const TRANSFER_EVENT: u32 = 32;
    pub const COMMAND_COMPLETION: u32 = 33;
    pub const PORT_STATUS_CHANGE: u32 = 34;
    pub const HOST_CONTROLLER: u32 = 37;
}

/// Completion codes (xHCI 1.2, table 6-90) the driver tells apart.
pub mod code {
    pub const SUCCESS: u8 = 1;
    pub const STALL: u8 = 6;
    pub const SHORT_PACKET: u8 = 13;
    pub const EVENT_RING_FULL: u8 = 21;
}

/// Control bits.
pub const CYCLE: u32 = 1 << 0;
/// Link TRB: toggle the cycle state at the link.
pub const TOGGLE_CYCLE: u32 = 1 << 1;
/// Interrupt on completion: produce an event.
pub const IOC: u32 = 1 << 5;
/// Immediate data (the setup packet is in the parameter).
pub const IDT: u32 = 1 << 6;

impl Trb {
    /// The TRB's type.
    pub fn kind(&self) -> u32 {
        (self.control >> 10) & 0x3F
    }

    /// The completion code of an event.
    pub fn code(&self) -> u8 {
        (self.status >> 24) as u8
    }

    /// The slot id of an event.
    pub fn slot(&self) -> u8 {
        (self.control >> 24) as u8
    }

    /// The endpoint (DCI) of a transfer event.
    pub fn endpoint(&self) -> u8 {
        ((self.control >> 16) & 0x1F) as u8
    }

    /// A TRB of type `kind` with `control` flags.
    pub fn new(kind: u32, parameter: u64, status: u32, control: u32) -> Self {
        Self {
            parameter,
            status,
            control: control | kind << 10,
        }
    }
}

const TRBS_PER_FRAME: usize = (PAGE_SIZE as usize) / 16;

/// A ring the kernel produces into: one frame, the last TRB a link back.
pub struct ProducerRing {
    page: DmaPage,
    enqueue: usize,
    cycle: bool,
}

impl ProducerRing {
    /// A fresh ring in `page` (zeroed here).
    pub fn on(mut page: DmaPage) -> Self {
        page.zero();
        Self {
            page,
            enqueue: 0,
            cycle: true,
        }
    }

    /// The ring's start, for the controller.
    pub fn base(&self) -> PhysAddr {
        self.page.phys()
    }

    /// The slot the next [`push`](Self::push) fills.
    pub fn next_index(&self) -> usize {
        self.enqueue
    }

    /// Gives back the frame (for reuse).
    pub fn into_page(self) -> DmaPage {
        self.page
    }

    fn slot(&self, index: usize) -> *mut Trb {
        // SAFETY: index < TRBS_PER_FRAME; the page is mapped and owned.
        unsafe { self.page.virt().as_mut_ptr::<Trb>().add(index) }
    }

    /// Puts `trb` on the ring with the producer's cycle bit and returns its
    /// physical address (events name TRBs by address). The cycle bit is
    /// written last, so the controller never sees a half-written TRB.
    pub fn push(&mut self, trb: Trb) -> PhysAddr {
        let at = self.enqueue;
        let cycle = if self.cycle { CYCLE } else { 0 };
        let slot = self.slot(at);
        // SAFETY: `slot` points into the ring's own frame.
        unsafe {
            core::ptr::addr_of_mut!((*slot).parameter).write_volatile(trb.parameter);
            core::ptr::addr_of_mut!((*slot).status).write_volatile(trb.status);
            core::sync::atomic::fence(core::sync::atomic::Ordering::Release);
            core::ptr::addr_of_mut!((*slot).control).write_volatile((trb.control & !CYCLE) | cycle);
        }
        self.enqueue += 1;
        if self.enqueue == TRBS_PER_FRAME - 1 {
            let link = self.slot(TRBS_PER_FRAME - 1);
            // SAFETY: the last TRB of the ring's own frame. As for any TRB,
            // the control word with the cycle bit goes last, so the
            // controller never follows a link whose target is not written.
            unsafe {
                core::ptr::addr_of_mut!((*link).parameter).write_volatile(self.base().as_u64());
                core::ptr::addr_of_mut!((*link).status).write_volatile(0);
                core::sync::atomic::fence(core::sync::atomic::Ordering::Release);
                core::ptr::addr_of_mut!((*link).control)
                    .write_volatile(kind::LINK << 10 | TOGGLE_CYCLE | cycle);
            }
            self.enqueue = 0;
            self.cycle = !self.cycle;
        }
        self.page.phys() + (at as u64) * 16
    }
}

/// The event ring: one segment of one frame, and its segment table in
/// another frame's first 16 bytes.
pub struct EventRing {
    segment: DmaPage,
    table: DmaPage,
    dequeue: usize,
    cycle: bool,
}

impl EventRing {
    /// A fresh event ring in `segment`, its segment table in `table` (both
    /// zeroed frames).
    pub fn new(segment: DmaPage, table: DmaPage) -> Self {
        let entry = table.virt().as_mut_ptr::<u64>();
        // SAFETY: the table frame is ours and mapped: the entry is the
        // segment's base and its size in TRBs.
        unsafe {
            entry.write_volatile(segment.phys().as_u64());
            entry.add(1).write_volatile(TRBS_PER_FRAME as u64);
        }
        Self {
            segment,
            table,
            dequeue: 0,
            cycle: true,
        }
    }

    /// The segment table's address (ERSTBA).
    pub fn table(&self) -> PhysAddr {
        self.table.phys()
    }

    /// The dequeue pointer to report to the controller (ERDP).
    pub fn dequeue_pointer(&self) -> PhysAddr {
        self.segment.phys() + (self.dequeue as u64) * 16
    }

    /// Whether the controller has written an event not yet taken.
    pub fn has_event(&self) -> bool {
        // SAFETY: dequeue < TRBS_PER_FRAME, in the segment's own frame.
        let slot = unsafe { self.segment.virt().as_ptr::<Trb>().add(self.dequeue) };
        // SAFETY: as above.
        let control = unsafe { core::ptr::addr_of!((*slot).control).read_volatile() };
        (control & CYCLE != 0) == self.cycle
    }

    /// The next event, if the controller has written one.
    pub fn pop(&mut self) -> Option<Trb> {
        // SAFETY: dequeue < TRBS_PER_FRAME, in the segment's own frame.
        let slot = unsafe { self.segment.virt().as_ptr::<Trb>().add(self.dequeue) };
        // SAFETY: as above; the controller writes the TRB before its cycle bit.
        let control = unsafe { core::ptr::addr_of!((*slot).control).read_volatile() };
        if (control & CYCLE != 0) != self.cycle {
            return None;
        }
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
        // SAFETY: as above.
        let trb = unsafe { slot.read_volatile() };
        self.dequeue += 1;
        if self.dequeue == TRBS_PER_FRAME {
            self.dequeue = 0;
            self.cycle = !self.cycle;
        }
        Some(trb)
    }
}
