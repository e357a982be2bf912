//! ACPI: the tables the firmware leaves in memory, read once at boot into
//! plain facts ([`facts::InterruptFacts`], the power registers, the HPET),
//! and the power operations (off, reset) those facts allow.
//!
//! Nothing outside this module reads an ACPI table. A table that is missing
//! or malformed gives a warning naming the problem, and the facts it would
//! have given are absent: callers fall back (to the 8259 PIC, to the 8042
//! reset) instead of failing.

pub mod facts;

use spin::Once;

use facts::InterruptFacts;

static INTERRUPTS: Once<InterruptFacts> = Once::new();

/// The interrupt hardware the MADT describes, if the tables were read and
/// have a MADT.
pub fn interrupt_facts() -> Option<&'static InterruptFacts> {
    INTERRUPTS.get()
}
