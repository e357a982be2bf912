//! Thin wrappers for the few instructions the `x86_64` crate does not cover.

/// Reads the time-stamp counter.
#[inline]
pub fn read_tsc() -> u64 {
    // SAFETY: rdtsc only reads a counter; every x86_64 CPU has it, and the
    // kernel never sets CR4.TSD (which would fault only in user mode anyway).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Disables interrupts and halts the CPU for good.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
