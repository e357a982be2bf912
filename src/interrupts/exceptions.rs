//! The 32 CPU exceptions: what each is called, and what the kernel says
//! when one happens. Breakpoint and debug are reported and execution goes
//! on; every other exception is fatal: the handler keeps a copy of the saved
//! state and panics, and the panic handler prints [`report`] (name, RIP,
//! decoded error code, all registers) and ends the kernel.
//!
//! Two kinds of exception do not end the kernel. One from ring 3 (the
//! saved CS has RPL 3) goes to the handler registered with
//! [`set_user_fault_handler`] (the process code: it maps a demand-zero
//! page or ends the process). A page fault or general-protection fault in
//! the kernel's user-copy routine resumes at that routine's recovery label
//! (the handler registered with [`set_copy_fixup`] names it), which
//! returns an error instead.
//!
//! Every way the kernel can end thus goes through one door, the binary's
//! `#[panic_handler]`: the kernel's halts, a test kernel's exits QEMU. This
//! module never asks which kind of kernel it runs in.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Once;
use x86_64::registers::control::{Cr2, Cr3};

use super::InterruptContext;

/// Mnemonic and name of exception `vector` (Intel SDM vol. 3, table 6-1).
pub fn name(vector: u8) -> (&'static str, &'static str) {
    match vector {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        2 => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        8 => ("#DF", "double fault"),
        9 => ("---", "coprocessor segment overrun"),
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection fault"),
        14 => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point error"),
        17 => ("#AC", "alignment check"),
        18 => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point exception"),
        20 => ("#VE", "virtualization exception"),
        21 => ("#CP", "control protection exception"),
        28 => ("#HV", "hypervisor injection exception"),
        29 => ("#VC", "VMM communication exception"),
        30 => ("#SX", "security exception"),
        _ => ("---", "reserved exception"),
    }
}

/// A page fault's error code, decoded (Intel SDM vol. 3, 4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFaultCode(pub u64);

impl PageFaultCode {
    /// The page was present: a protection violation, not a missing page.
    pub fn present(self) -> bool {
        self.0 & 1 != 0
    }
    /// The access was a write.
    pub fn write(self) -> bool {
        self.0 & 2 != 0
    }
    /// The access came from user mode.
    pub fn user(self) -> bool {
        self.0 & 4 != 0
    }
    /// A reserved bit was set in a page-table entry.
    pub fn reserved_bit(self) -> bool {
        self.0 & 8 != 0
    }
    /// The access was an instruction fetch.
    pub fn instruction_fetch(self) -> bool {
        self.0 & 16 != 0
    }
}

impl fmt::Display for PageFaultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.present() {
            "protection violation"
        } else {
            "page not present"
        })?;
        f.write_str(if self.instruction_fetch() {
            ", instruction fetch"
        } else if self.write() {
            ", write"
        } else {
            ", read"
        })?;
        f.write_str(if self.user() {
            ", user mode"
        } else {
            ", kernel mode"
        })?;
        if self.reserved_bit() {
            f.write_str(", reserved bit set")?;
        }
        Ok(())
    }
}

/// A general-protection or segment fault's error code: the selector
/// involved (Intel SDM vol. 3, 6.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectorErrorCode(pub u64);

impl fmt::Display for SelectorErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("no selector (not segment related)");
        }
        let table = match (self.0 >> 1) & 0b11 {
            0 => "GDT",
            1 | 3 => "IDT",
            _ => "LDT",
        };
        write!(f, "{table} index {}", (self.0 >> 3) & 0x1FFF)?;
        if self.0 & 1 != 0 {
            f.write_str(", external event")?;
        }
        Ok(())
    }
}

/// The state saved by the first fatal exception, kept for the panic
/// handler's report. Later faults (a fault inside the report) do not
/// replace it: the first one is the cause.
static FATAL: Once<FatalException> = Once::new();
/// Set by the first fatal exception, before it fills [`FATAL`].
static FATAL_CLAIMED: AtomicBool = AtomicBool::new(false);

/// A fatal exception: the saved registers, where they were saved (which
/// stack the handler ran on), and CR2 as it was on entry (a page fault's
/// address; a later fault could change the register).
#[derive(Debug, Clone)]
pub struct FatalException {
    /// The state the entry stub saved.
    pub context: InterruptContext,
    /// Where the entry stub saved it: on the handler's stack.
    pub saved_at: u64,
    /// CR2 on entry to the handler.
    pub cr2: u64,
}

/// The fatal exception the kernel is ending with, if it is ending with one.
pub fn fatal_exception() -> Option<&'static FatalException> {
    FATAL.get()
}

/// Handles an exception from ring 3: returns if the program may go on
/// (a demand-zero page was mapped), or ends the thread. Gets CR2.
pub type UserFaultHandler = fn(&mut InterruptContext, u64);

/// Says where a faulting kernel RIP resumes, if it is a user copy.
pub type CopyFixup = fn(u64) -> Option<u64>;

static USER_FAULT: Once<UserFaultHandler> = Once::new();
static COPY_FIXUP: Once<CopyFixup> = Once::new();

/// Sets the [`UserFaultHandler`] (once).
pub fn set_user_fault_handler(handler: UserFaultHandler) {
    USER_FAULT.call_once(|| handler);
}

/// Sets the [`CopyFixup`] (once).
pub fn set_copy_fixup(fixup: CopyFixup) {
    COPY_FIXUP.call_once(|| fixup);
}

/// The saved CS had RPL 3: the exception came from user mode.
fn from_user(ctx: &InterruptContext) -> bool {
    ctx.cs & 3 == 3
}

/// Handles exception `ctx.vector` (0-31).
pub(super) fn handle(ctx: &mut InterruptContext) {
    let vector = ctx.vector as u8;
    if from_user(ctx)
        && vector != 2
        && vector != 18
        && let Some(handler) = USER_FAULT.get()
    {
        handler(ctx, Cr2::read_raw());
        return;
    }
    if (vector == 13 || vector == 14)
        && let Some(resume) = COPY_FIXUP.get().and_then(|fixup| fixup(ctx.rip))
    {
        ctx.rip = resume;
        return;
    }
    match vector {
        3 => {
            // int3 leaves RIP after itself: returning continues the code.
            log::info!("breakpoint at {:#x}", ctx.rip.wrapping_sub(1));
        }
        1 => log::info!("debug exception at {:#x}", ctx.rip),
        _ => {
            let cr2 = Cr2::read_raw();
            // Only the first fatal exception records itself: a second one
            // (an NMI or machine check striking while the first records)
            // must not wait on the Once the first is filling.
            if !FATAL_CLAIMED.swap(true, Ordering::AcqRel) {
                FATAL.call_once(|| FatalException {
                    context: ctx.clone(),
                    saved_at: core::ptr::from_ref(ctx) as u64,
                    cr2,
                });
            }
            let (mnemonic, name) = name(vector);
            panic!("{name} ({mnemonic}) at RIP {:#x}", ctx.rip)
        }
    }
}

/// Prints what is known about a fatal exception: name, vector, RIP, the
/// decoded error code, the faulting address for page faults, and every
/// register.
pub fn report(fault: &FatalException) {
    let ctx = &fault.context;
    let vector = ctx.vector as u8;
    let (mnemonic, name) = name(vector);
    crate::console::write_coloured(
        Some(crate::console::ERROR_COLOUR),
        format_args!(
            "\nEXCEPTION: {name} ({mnemonic}, vector {vector}) at RIP {:#x}\n",
            ctx.rip
        ),
    );
    let detail = |args: fmt::Arguments<'_>| {
        crate::console::write_coloured(Some(crate::console::ERROR_COLOUR), args)
    };
    match vector {
        14 => {
            let addr = fault.cr2;
            detail(format_args!(
                "  error code {:#x}: {}\n",
                ctx.error_code,
                PageFaultCode(ctx.error_code)
            ));
            detail(format_args!(
                "  address (CR2) {addr:#x}: {}\n",
                crate::memory::describe_address(addr)
            ));
        }
        10..=13 => detail(format_args!(
            "  error code {:#x}: {}\n",
            ctx.error_code,
            SelectorErrorCode(ctx.error_code)
        )),
        8 | 17 | 21 | 29 | 30 => detail(format_args!("  error code {:#x}\n", ctx.error_code)),
        18 => super::machine_check::report(detail),
        _ => {}
    }
    detail(format_args!(
        "  state saved at {:#x}: {}\n",
        fault.saved_at,
        crate::memory::describe_address(fault.saved_at)
    ));
    detail(format_args!("{ctx}"));
    detail(format_args!(
        "  CR3={:016x}\n",
        Cr3::read().0.start_address().as_u64()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn page_fault_codes() {
        assert_eq!(
            format!("{}", PageFaultCode(0b00011)),
            "protection violation, write, kernel mode"
        );
        assert_eq!(
            format!("{}", PageFaultCode(0b10001)),
            "protection violation, instruction fetch, kernel mode"
        );
        assert_eq!(
            format!("{}", PageFaultCode(0b00010)),
            "page not present, write, kernel mode"
        );
        assert_eq!(
            format!("{}", PageFaultCode(0b01101)),
            "protection violation, read, user mode, reserved bit set"
        );
    }

    #[test]
    fn selector_codes() {
        assert_eq!(
            format!("{}", SelectorErrorCode(0)),
            "no selector (not segment related)"
        );
        assert_eq!(format!("{}", SelectorErrorCode(0x10)), "GDT index 2");
        assert_eq!(
            format!("{}", SelectorErrorCode((13 << 3) | 0b010)),
            "IDT index 13"
        );
        assert_eq!(
            format!("{}", SelectorErrorCode((5 << 3) | 0b101)),
            "LDT index 5, external event"
        );
    }

    #[test]
    fn every_defined_vector_has_a_name() {
        for vector in (0..32u8).filter(|v| ![15, 22, 23, 24, 25, 26, 27, 31].contains(v)) {
            assert_ne!(name(vector).1, "reserved exception", "vector {vector}");
        }
        assert_eq!(name(14), ("#PF", "page fault"));
    }
}
