//! Hardware interrupt lines and who handles them. A driver registers a
//! handler for its line; the dispatcher calls every handler registered on
//! the line that fired, then acknowledges it. The interrupt code names no
//! driver: wiring a device to its line is the init sequence's job.
//!
//! Handlers run with interrupts off, on the interrupted stack: they must be
//! short, never block and never allocate (push into a bounded queue, count,
//! wake a waker).

use core::fmt;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use spin::Once;

use super::pic;

/// The legacy ISA lines the two 8259s serve.
pub const IRQ_LINES: usize = 16;
/// Handlers one line can carry (ISA lines are rarely shared; a few is plenty).
const HANDLERS_PER_LINE: usize = 4;

/// An interrupt handler: called with interrupts off, must not block.
pub type IrqHandler = fn();

/// One line's handlers. A slot is claimed by bumping `claimed`, then filled
/// once: the dispatcher skips claimed slots not yet filled. Handlers are
/// never removed, so a slot never changes once set.
struct Line {
    claimed: AtomicUsize,
    handlers: [Once<IrqHandler>; HANDLERS_PER_LINE],
    count: AtomicU64,
}

impl Line {
    const fn new() -> Self {
        Self {
            claimed: AtomicUsize::new(0),
            handlers: [const { Once::new() }; HANDLERS_PER_LINE],
            count: AtomicU64::new(0),
        }
    }
}

static LINES: [Line; IRQ_LINES] = [const { Line::new() }; IRQ_LINES];

/// Why a handler could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrqError {
    /// There is no such line.
    NoSuchLine(u8),
    /// The line already carries as many handlers as it can.
    LineFull(u8),
}

impl fmt::Display for IrqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchLine(irq) => write!(f, "there is no IRQ {irq}"),
            Self::LineFull(irq) => write!(
                f,
                "IRQ {irq} already has {HANDLERS_PER_LINE} handlers, the most it can carry"
            ),
        }
    }
}

/// Calls `handler` on every interrupt of line `irq` from now on, and
/// unmasks the line.
pub fn register(irq: u8, handler: IrqHandler) -> Result<(), IrqError> {
    let line = LINES
        .get(usize::from(irq))
        .ok_or(IrqError::NoSuchLine(irq))?;
    let slot = line.claimed.fetch_add(1, Ordering::AcqRel);
    let Some(handlers) = line.handlers.get(slot) else {
        line.claimed.fetch_sub(1, Ordering::AcqRel);
        return Err(IrqError::LineFull(irq));
    };
    handlers.call_once(|| handler);
    // The PIC lock is also taken in interrupt handlers.
    x86_64::instructions::interrupts::without_interrupts(|| pic::unmask(&[irq]));
    Ok(())
}

/// Interrupts taken on line `irq` since boot (spurious ones excluded).
pub fn count(irq: u8) -> u64 {
    LINES
        .get(usize::from(irq))
        .map_or(0, |line| line.count.load(Ordering::Relaxed))
}

/// Runs the handlers of line `irq`, then sends the end of interrupt.
pub(super) fn dispatch(irq: u8) {
    if (irq == 7 || irq == 15) && pic::is_spurious(irq) {
        return;
    }
    match LINES.get(usize::from(irq)) {
        Some(line) if line.claimed.load(Ordering::Acquire) > 0 => {
            line.count.fetch_add(1, Ordering::Relaxed);
            for handler in line.handlers.iter().filter_map(Once::get) {
                handler();
            }
        }
        _ => pic::count_unexpected(),
    }
    pic::end_of_interrupt(irq);
}
