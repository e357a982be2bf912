//! What the kernel does when it cannot go on: a panic, or a fatal error it
//! detected itself. Both are printed in red on the screen and on serial, and
//! the CPU halts; the machine never resets silently.

use core::fmt;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::halt_forever;
use crate::console::{self, ERROR_COLOUR};

static PANICKING: AtomicBool = AtomicBool::new(false);

/// Prepares the console for a last message. Returns false if a report is
/// already under way (a panic inside the panic path), in which case the
/// caller must not print again.
fn begin_last_words() -> bool {
    x86_64::instructions::interrupts::disable();
    if PANICKING.swap(true, Ordering::SeqCst) {
        return false;
    }
    // SAFETY: interrupts are off and this is the only CPU running kernel code,
    // so whoever held a console lock will never run again.
    unsafe { console::force_unlock() };
    true
}

/// Reports a panic and halts. The kernel binary's `#[panic_handler]`.
pub fn kernel_panic(info: &PanicInfo<'_>) -> ! {
    if begin_last_words() {
        report_panic(info);
        console::write_coloured(Some(ERROR_COLOUR), format_args!("Pyrite has halted.\n"));
    }
    halt_forever()
}

/// Prints a panic's message and location.
pub fn report_panic(info: &PanicInfo<'_>) {
    console::write_coloured(
        Some(ERROR_COLOUR),
        format_args!("\nKERNEL PANIC: {}\n", info.message()),
    );
    if let Some(location) = info.location() {
        console::write_coloured(
            Some(ERROR_COLOUR),
            format_args!(
                "  at {}:{}:{}\n",
                location.file(),
                location.line(),
                location.column()
            ),
        );
    }
}

/// Reports an error the kernel cannot recover from, then halts.
pub fn fatal(args: fmt::Arguments<'_>) -> ! {
    if begin_last_words() {
        console::write_coloured(
            Some(ERROR_COLOUR),
            format_args!("\nFATAL: {args}\nPyrite cannot continue and has halted.\n"),
        );
    }
    halt_forever()
}
