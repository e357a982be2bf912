//! Interrupts: the GDT and TSS, the IDT with one assembly stub per vector,
//! the CPU exceptions, the interrupt controllers (the local and I/O APICs,
//! or the 8259 PICs where the ACPI facts do not allow the APIC), IRQ
//! registration and the timer.
//!
//! Handlers never reach up into task code: they push into driver queues and
//! count. No device is named here: drivers' handlers are registered on
//! their lines ([`irq::register`]) by the init sequence. Every stub enters
//! [`interrupt_dispatch`] with interrupts off. On the way out of a hardware
//! interrupt it calls one registered [`ReturnHook`] (the scheduler's
//! preemption point), again without naming its owner.

pub mod apic;
mod context;
pub mod deadline;
pub mod exceptions;
pub mod gdt;
pub mod idt;
pub mod irq;
pub mod machine_check;
pub mod pic;
pub mod timer;

use core::fmt;

pub use context::InterruptContext;

use crate::memory::stack::StackError;

/// Why interrupts could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptError {
    /// An IST stack could not be made.
    IstStack(StackError),
    /// Memory management is not running yet.
    NoMemory,
}

impl fmt::Display for InterruptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IstStack(err) => write!(f, "cannot make an interrupt stack: {err}"),
            Self::NoMemory => f.write_str("memory management is not running"),
        }
    }
}

/// Which controller delivers the interrupts, and why.
#[derive(Debug, Clone, Copy)]
pub enum Controllers {
    /// The local APIC and the I/O APICs.
    Apic(apic::Summary),
    /// The 8259s, because there is no MADT.
    PicNoMadt,
    /// The 8259s, because the MADT's facts do not allow the APIC.
    PicApicUnusable(apic::ApicError),
}

/// Loads the GDT, TSS and IDT, remaps the PICs with every line masked, and
/// hands the interrupts to the APIC where the ACPI facts allow it (the
/// 8259s then stay masked for good). Interrupts stay off: drivers register
/// their lines ([`irq::register`]), then [`enable`] turns interrupts on.
pub fn init() -> Result<Controllers, InterruptError> {
    let stacks = crate::memory::with(|mem| {
        let mut make = || {
            mem.stacks
                .alloc_stack(&mut mem.tables, &mut mem.frames, gdt::IST_STACK_PAGES)
                .map_err(InterruptError::IstStack)
        };
        Ok::<_, InterruptError>([make()?, make()?, make()?, make()?])
    })
    .ok_or(InterruptError::NoMemory)??;
    gdt::init(stacks);
    idt::init();
    // Remapped first in every mode: in APIC mode a masked 8259's spurious
    // IRQ then lands on vectors 32-47, not on an exception's.
    pic::init();
    let Some(facts) = crate::acpi::interrupt_facts() else {
        return Ok(Controllers::PicNoMadt);
    };
    Ok(match apic::init(facts) {
        Ok(summary) => {
            irq::set_mode(irq::Mode::Apic);
            Controllers::Apic(summary)
        }
        Err(err) => Controllers::PicApicUnusable(err),
    })
}

/// Turns interrupts on.
pub fn enable() {
    x86_64::instructions::interrupts::enable();
}

/// Loads an IDT for the exceptions alone (no IST stacks yet), so a fault
/// during memory set-up is reported instead of resetting the machine.
pub fn init_early() {
    idt::init_early();
}

/// Called on the way out of every hardware interrupt (vector 32 and up)
/// that interrupted code running with interrupts on, after its handler and
/// end of interrupt: the scheduler's preemption point. Never for an
/// exception (some run on IST stacks) or for code with interrupts off.
pub type ReturnHook = fn();

static RETURN_HOOK: spin::Once<ReturnHook> = spin::Once::new();

/// Sets the [`ReturnHook`] (once; later calls are ignored).
pub fn set_return_hook(hook: ReturnHook) {
    RETURN_HOOK.call_once(|| hook);
}

/// RFLAGS.IF: the interrupted code had interrupts on.
const RFLAGS_IF: u64 = 1 << 9;

/// Called by every interrupt stub with the saved state.
#[unsafe(no_mangle)]
extern "C" fn interrupt_dispatch(ctx: &mut InterruptContext) {
    let vector = ctx.vector as u8;
    match vector {
        0..=31 => exceptions::handle(ctx),
        _ => irq::dispatch(vector),
    }
    if vector >= 32
        && ctx.rflags & RFLAGS_IF != 0
        && let Some(hook) = RETURN_HOOK.get()
    {
        hook();
    }
}

/// Waits for the next interrupt if `idle()` still says there is nothing to
/// do, without losing a wake-up: `idle` is checked with interrupts off, and
/// `sti; hlt` enables them only for the halt itself.
pub fn wait_for_interrupt_if(idle: impl FnOnce() -> bool) {
    x86_64::instructions::interrupts::disable();
    if idle() {
        x86_64::instructions::interrupts::enable_and_hlt();
    } else {
        x86_64::instructions::interrupts::enable();
    }
}
