//! What the kernel does when it cannot go on: a panic, a fatal exception, or
//! a fatal error it detected itself. All are printed in red on the screen
//! and on serial, and the CPU halts (a test kernel exits QEMU with the
//! failure code instead); the machine never resets silently.

use core::fmt;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::halt_forever;
use crate::console::{self, ERROR_COLOUR};
use crate::testing;

static REPORTING: AtomicBool = AtomicBool::new(false);

/// Prepares the console for a last message: interrupts off, console locks
/// released. Returns false if a report is already under way (a fault inside
/// the report); the caller must then not print again, and a fixed line goes
/// straight to COM1 instead.
pub fn begin_last_words() -> bool {
    x86_64::instructions::interrupts::disable();
    if REPORTING.swap(true, Ordering::SeqCst) {
        crate::drivers::serial::emergency_write(
            b"\r\n*** another fault while reporting a fault; halted ***\r\n",
        );
        return false;
    }
    // SAFETY: interrupts are off and this is the only CPU running kernel code,
    // so whoever held a console lock will never run again.
    unsafe { console::force_unlock() };
    true
}

/// Prints a last report with `report` (unless one is already under way),
/// then halts; a test kernel exits QEMU with the failure code instead.
pub fn last_words(report: impl FnOnce()) -> ! {
    if begin_last_words() {
        report();
        if !testing::is_test_kernel() {
            console::write_coloured(
                Some(ERROR_COLOUR),
                format_args!("Pyrite cannot continue and has halted.\n"),
            );
        }
    }
    if testing::is_test_kernel() {
        testing::exit_qemu(testing::QemuExitCode::Failed);
    }
    halt_forever()
}

/// Reports a panic and halts. The kernel binary's `#[panic_handler]`.
pub fn kernel_panic(info: &PanicInfo<'_>) -> ! {
    last_words(|| report_panic(info))
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
    last_words(|| console::write_coloured(Some(ERROR_COLOUR), format_args!("\nFATAL: {args}\n")))
}
