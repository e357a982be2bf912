//! Interrupts: the GDT and TSS, the IDT with one assembly stub per vector,
//! the CPU exceptions, the PICs, the timer and the keyboard interrupt.
//!
//! Handlers never reach up into task code: they push into driver queues and
//! count. Every stub enters [`interrupt_dispatch`] with interrupts off.

mod context;
pub mod exceptions;
pub mod gdt;
pub mod idt;
pub mod pic;
pub mod timer;

use core::fmt;

pub use context::InterruptContext;
pub use idt::IdtOptions;

use crate::drivers::{ps2, serial};
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

/// Loads the GDT, TSS and IDT, programs the PICs and the timer, sets up the
/// keyboard, and enables interrupts.
pub fn init(options: IdtOptions) -> Result<(), InterruptError> {
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
    idt::init(options);
    pic::init();

    let keyboard = match ps2::init() {
        Ok(()) => true,
        Err(err) => {
            log::warn!("keyboard: {err}; use the serial console");
            false
        }
    };
    let serial = serial::enable_interrupts();
    let irqs = [
        Some(pic::IRQ_TIMER),
        keyboard.then_some(pic::IRQ_KEYBOARD),
        serial.then_some(pic::IRQ_COM1),
    ];
    let mut lines = [0u8; 3];
    let mut count = 0;
    for irq in irqs.into_iter().flatten() {
        lines[count] = irq;
        count += 1;
    }
    pic::unmask(&lines[..count]);
    timer::init();
    // Input that arrived while the lines were masked raised its line before
    // the PIC listened: take it now, which also lets the lines fall.
    if serial {
        serial::on_interrupt();
    }
    if keyboard {
        ps2::take_pending();
    }
    x86_64::instructions::interrupts::enable();
    log::info!(
        "interrupts on: timer {} Hz, keyboard {}, serial {}, {} IST stacks",
        timer::TIMER_HZ,
        if keyboard { "IRQ 1" } else { "absent" },
        if serial { "IRQ 4" } else { "absent" },
        gdt::IST_STACKS
    );
    Ok(())
}

/// Loads an IDT for the exceptions alone (no IST stacks yet), so a fault
/// during memory set-up is reported instead of resetting the machine.
pub fn init_early() {
    idt::init_early();
}

/// Called by every interrupt stub with the saved state.
#[unsafe(no_mangle)]
extern "C" fn interrupt_dispatch(ctx: &mut InterruptContext) {
    let vector = ctx.vector as u8;
    match vector {
        0..=31 => exceptions::handle(ctx),
        pic::PIC1_OFFSET..=47 => handle_irq(vector - pic::PIC1_OFFSET),
        _ => pic::count_unexpected(),
    }
}

fn handle_irq(irq: u8) {
    if (irq == 7 || irq == 15) && pic::is_spurious(irq) {
        return;
    }
    match irq {
        pic::IRQ_TIMER => timer::on_tick(),
        pic::IRQ_KEYBOARD => ps2::on_interrupt(),
        pic::IRQ_COM1 => serial::on_interrupt(),
        _ => pic::count_unexpected(),
    }
    pic::end_of_interrupt(irq);
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
