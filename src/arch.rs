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

/// Resets the machine by a triple fault: an empty IDT, then an exception.
/// The last resort when the reset line does not work.
pub fn triple_fault() -> ! {
    use x86_64::VirtAddr;
    use x86_64::instructions::tables::{DescriptorTablePointer, lidt};
    let empty = DescriptorTablePointer {
        limit: 0,
        base: VirtAddr::zero(),
    };
    // SAFETY: loading an empty IDT is the point: the next exception cannot
    // be delivered, which resets the CPU. Nothing after this runs.
    unsafe {
        lidt(&empty);
        core::arch::asm!("int3", options(noreturn));
    }
}

/// Runs `f` with interrupts off on the kernel target (on the host, where
/// the code is unit-tested, it just runs `f`).
#[inline]
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_os = "none")]
    return x86_64::instructions::interrupts::without_interrupts(f);
    #[cfg(not(target_os = "none"))]
    return f();
}
