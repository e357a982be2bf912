//! Hardware interrupts by vector, and who handles them. A driver registers
//! a handler for its ISA line ([`register`]) and gets the vector it will
//! arrive on; local sources (the APIC timer, the APIC error interrupt)
//! register on their fixed vector ([`register_vector`]). Dispatch is a
//! table indexed by vector; the end of interrupt goes to the 8259 or the
//! local APIC, whichever controller is in use ([`Mode`]). The interrupt code
//! names no driver: wiring a device to its line is the init sequence's job.
//!
//! Handlers run with interrupts off, on the interrupted stack: they must be
//! short, never block and never allocate (push into a bounded queue, count,
//! wake a waker).

use core::fmt;
use core::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

use spin::Once;

use super::apic::{self, local, routing::RouteError};
use super::pic;

/// The legacy ISA lines.
pub const IRQ_LINES: usize = 16;
/// Where ISA lines arrive when the I/O APIC routes them: past the 8259s'
/// vectors, so a spurious interrupt from a masked 8259 cannot pass for one.
pub const IO_APIC_ISA_BASE: u8 = 0x30;
/// Vectors handed out to sources that bring their own (MSI, later GSIs):
/// past the ISA lines, below the local APIC's own (timer, error, spurious).
pub const FREE_VECTORS: core::ops::Range<u8> = 0x40..0xF0;
/// Handlers one vector can carry (ISA lines are rarely shared; a few is plenty).
const HANDLERS_PER_VECTOR: usize = 4;
const VECTORS: usize = 256;

/// An interrupt handler: called with interrupts off, must not block.
pub type IrqHandler = fn();

/// The interrupt controller in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// The two 8259s, ISA lines on vectors 32-47.
    Pic = 0,
    /// The local APIC and the I/O APICs.
    Apic = 1,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pic => "8259 PIC",
            Self::Apic => "APIC",
        })
    }
}

static MODE: AtomicU8 = AtomicU8::new(Mode::Pic as u8);

/// The controller in use.
pub fn mode() -> Mode {
    if MODE.load(Ordering::Relaxed) == Mode::Apic as u8 {
        Mode::Apic
    } else {
        Mode::Pic
    }
}

/// Records that the APIC took over. Called once by the interrupt set-up,
/// before any line is registered.
pub(super) fn set_mode(mode: Mode) {
    MODE.store(mode as u8, Ordering::Relaxed);
}

/// One vector's handlers. A slot is claimed by bumping `claimed`, then
/// filled once: the dispatcher skips claimed slots not yet filled. Handlers
/// are never removed, so a slot never changes once set.
struct Vector {
    claimed: AtomicUsize,
    handlers: [Once<IrqHandler>; HANDLERS_PER_VECTOR],
    count: AtomicU64,
}

impl Vector {
    const fn new() -> Self {
        Self {
            claimed: AtomicUsize::new(0),
            handlers: [const { Once::new() }; HANDLERS_PER_VECTOR],
            count: AtomicU64::new(0),
        }
    }

    fn add(&self, handler: IrqHandler) -> bool {
        let slot = self.claimed.fetch_add(1, Ordering::AcqRel);
        let Some(handlers) = self.handlers.get(slot) else {
            self.claimed.fetch_sub(1, Ordering::AcqRel);
            return false;
        };
        handlers.call_once(|| handler);
        true
    }
}

static TABLE: [Vector; VECTORS] = [const { Vector::new() }; VECTORS];

/// Why a handler could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrqError {
    /// There is no such ISA line.
    NoSuchLine(u8),
    /// The line already carries as many handlers as it can.
    LineFull(u8),
    /// The vector is an exception's, or already carries all it can.
    VectorUnusable(u8),
    /// Every vector for sources of their own is taken.
    NoFreeVector,
    /// The I/O APIC cannot deliver the line.
    Unroutable(u8, RouteError),
}

impl fmt::Display for IrqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchLine(irq) => write!(f, "there is no IRQ {irq}"),
            Self::LineFull(irq) => write!(
                f,
                "IRQ {irq} already has {HANDLERS_PER_VECTOR} handlers, the most it can carry"
            ),
            Self::VectorUnusable(v) => write!(f, "vector {v:#x} cannot take a handler"),
            Self::NoFreeVector => f.write_str("no interrupt vector is free"),
            Self::Unroutable(irq, err) => write!(f, "IRQ {irq} cannot be routed: {err}"),
        }
    }
}

/// The vector ISA line `irq` arrives on in the current mode.
pub fn isa_vector(irq: u8) -> u8 {
    match mode() {
        Mode::Pic => pic::PIC1_OFFSET + irq,
        Mode::Apic => IO_APIC_ISA_BASE + irq,
    }
}

/// Calls `handler` on every interrupt of ISA line `irq` from now on,
/// routes and unmasks the line, and returns its vector.
pub fn register(irq: u8, handler: IrqHandler) -> Result<u8, IrqError> {
    if usize::from(irq) >= IRQ_LINES {
        return Err(IrqError::NoSuchLine(irq));
    }
    let vector = isa_vector(irq);
    if !TABLE[usize::from(vector)].add(handler) {
        return Err(IrqError::LineFull(irq));
    }
    // The controllers' registers are also used from interrupt handlers.
    x86_64::instructions::interrupts::without_interrupts(|| match mode() {
        Mode::Pic => {
            pic::unmask(&[irq]);
            Ok(vector)
        }
        Mode::Apic => apic::route_isa(irq, vector)
            .map(|_| vector)
            .map_err(|err| IrqError::Unroutable(irq, err)),
    })
}

/// Calls `handler` on every interrupt of `vector` (a local source the
/// caller programs itself, such as the APIC timer).
pub fn register_vector(vector: u8, handler: IrqHandler) -> Result<(), IrqError> {
    if vector < 32 || !TABLE[usize::from(vector)].add(handler) {
        return Err(IrqError::VectorUnusable(vector));
    }
    Ok(())
}

/// Takes a vector no one uses (from [`FREE_VECTORS`]) for `handler` alone,
/// and returns it, for a source the caller programs to raise that vector
/// (an MSI, a GSI routed later).
pub fn register_free_vector(handler: IrqHandler) -> Result<u8, IrqError> {
    FREE_VECTORS
        .clone()
        .find(|&v| {
            let entry = &TABLE[usize::from(v)];
            let taken = entry
                .claimed
                .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
            if taken {
                entry.handlers[0].call_once(|| handler);
            }
            taken
        })
        .ok_or(IrqError::NoFreeVector)
}

/// Interrupts taken on ISA line `irq` since boot (spurious ones excluded).
pub fn count(irq: u8) -> u64 {
    if usize::from(irq) >= IRQ_LINES {
        return 0;
    }
    vector_count(isa_vector(irq))
}

/// Interrupts taken on `vector` since boot.
pub fn vector_count(vector: u8) -> u64 {
    TABLE[usize::from(vector)].count.load(Ordering::Relaxed)
}

/// Runs the handlers of `vector`, then sends the end of interrupt to the
/// controller that raised it.
pub(super) fn dispatch(vector: u8) {
    let mode = mode();
    let pic_vector = (pic::PIC1_OFFSET..pic::PIC1_OFFSET + IRQ_LINES as u8).contains(&vector);
    if vector == local::SPURIOUS_VECTOR && mode == Mode::Apic {
        local::count_spurious();
        return;
    }
    if pic_vector {
        let irq = vector - pic::PIC1_OFFSET;
        // With the 8259s masked, only their spurious IRQ 7 and 15 come.
        // `is_spurious` counts what it finds; in APIC mode any 8259
        // vector is spurious and counted here.
        if mode == Mode::Apic {
            pic::count_spurious();
            return;
        }
        if (irq == 7 || irq == 15) && pic::is_spurious(irq) {
            return;
        }
    }
    let entry = &TABLE[usize::from(vector)];
    if entry.claimed.load(Ordering::Acquire) > 0 {
        entry.count.fetch_add(1, Ordering::Relaxed);
        for handler in entry.handlers.iter().filter_map(Once::get) {
            handler();
        }
    } else {
        pic::count_unexpected();
    }
    match mode {
        Mode::Pic if pic_vector => pic::end_of_interrupt(vector - pic::PIC1_OFFSET),
        Mode::Pic => {}
        Mode::Apic => local::end_of_interrupt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing() {}

    #[test]
    fn free_vectors_are_handed_out_once_each_until_none_is_left() {
        let first = register_free_vector(nothing).unwrap();
        let second = register_free_vector(nothing).unwrap();
        assert!(FREE_VECTORS.contains(&first) && FREE_VECTORS.contains(&second));
        assert_ne!(first, second);
        // Each is handed out once, until none is left.
        let mut taken = alloc::vec![first, second];
        while let Ok(v) = register_free_vector(nothing) {
            assert!(!taken.contains(&v), "{v:#x} handed out twice");
            taken.push(v);
        }
        assert_eq!(taken.len(), FREE_VECTORS.len());
        assert_eq!(register_free_vector(nothing), Err(IrqError::NoFreeVector));
        assert_eq!(vector_count(first), 0);
    }
}
