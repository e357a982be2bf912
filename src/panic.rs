//! What the kernel does when it cannot go on: a panic, a fatal exception, or
//! a fatal error it detected itself. All three end in the binary's
//! `#[panic_handler]` (a fatal exception panics after keeping its saved
//! state; [`fatal`] panics with its message), so there is one way out.
//!
//! The kernel's panic handler is [`kernel_panic`]: it prints the report in
//! red on the screen and serial, then halts; the machine never resets
//! silently. Test kernels bring their own panic handler (see
//! `crate::testing`), which ends QEMU instead; nothing here knows about it.

use core::fmt;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::halt_forever;
use crate::console::{self, ERROR_COLOUR};
use crate::interrupts::exceptions;

static REPORTING: AtomicBool = AtomicBool::new(false);

/// Prepares the console for a last message: interrupts off, console locks
/// released. Returns false if a report is already under way (a fault inside
/// the report); the caller must then not print again, and a fixed line goes
/// straight to COM1 instead.
pub fn begin_last_words() -> bool {
    x86_64::instructions::interrupts::disable();
    if REPORTING.swap(true, Ordering::SeqCst) {
        // SAFETY: interrupts are off and a report is under way: the kernel
        // is stopped, and the report that holds the port will not resume.
        unsafe {
            crate::drivers::serial::emergency_write(
                b"\r\n*** another fault while reporting a fault; halted ***\r\n",
            )
        };
        return false;
    }
    // SAFETY: interrupts are off and this is the only CPU running kernel code,
    // so whoever held a console lock will never run again.
    unsafe { console::force_unlock() };
    true
}

/// The kernel binary's `#[panic_handler]`: reports the panic (or the fatal
/// exception behind it) and halts.
pub fn kernel_panic(info: &PanicInfo<'_>) -> ! {
    if begin_last_words() {
        report(info);
        console::write_coloured(
            Some(ERROR_COLOUR),
            format_args!("Pyrite cannot continue and has halted.\n"),
        );
    }
    halt_forever()
}

/// Prints why the kernel is ending: the fatal exception's full report if an
/// exception caused the panic, else the panic's message and location.
pub fn report(info: &PanicInfo<'_>) {
    match exceptions::fatal_exception() {
        Some(fault) => exceptions::report(fault),
        None => report_panic(info),
    }
    if let Some((id, name)) = thread_label() {
        console::write_coloured(
            Some(ERROR_COLOUR),
            format_args!("  in thread {name} (id {id})\n"),
        );
    }
}

/// The thread that was running when the kernel stopped (id and name), if
/// the scheduler had started. Reads it without taking a lock.
pub fn thread_label() -> Option<(crate::sched::ThreadId, &'static str)> {
    crate::sched::current_label()
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

/// Ends the kernel with an error it cannot recover from (a boot
/// information it cannot use, no memory for its own tables). A panic with
/// the message, so it takes the same way out as every other end.
#[track_caller]
pub fn fatal(args: fmt::Arguments<'_>) -> ! {
    panic!("{args}")
}
