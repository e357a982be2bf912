//! The in-kernel test harness (stable Rust: no custom test frameworks).
//!
//! A test kernel lists its test functions with [`test_kernel!`]; each runs in
//! order and prints `test <name> ... ok` on the console. A failing test
//! panics: the panic handler prints `FAILED` with the message and exits QEMU
//! with the failure code. QEMU exits through the `isa-debug-exit` device
//! (`iobase=0xf4`): 0x10 means success (QEMU's exit status 33), 0x11 failure (35).

use core::panic::PanicInfo;

use core::sync::atomic::{AtomicBool, Ordering};

use spin::{Mutex, Once};

use crate::interrupts::{InterruptContext, exceptions};

use crate::arch::halt_forever;
use crate::{panic, println};

/// I/O port of QEMU's `isa-debug-exit` device. This module is its only user.
const QEMU_EXIT_PORT: u16 = 0xF4;

/// What the test kernel tells QEMU on exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum QemuExitCode {
    /// Every test passed.
    Success = 0x10,
    /// A test failed.
    Failed = 0x11,
}

/// Exits QEMU with `code`. On a machine without the exit device (real
/// hardware), halts instead.
pub fn exit_qemu(code: QemuExitCode) -> ! {
    let mut port = x86_64::instructions::port::Port::<u32>::new(QEMU_EXIT_PORT);
    // SAFETY: writing to port 0xF4 only has an effect under QEMU with the
    // isa-debug-exit device, where it ends the virtual machine.
    unsafe { port.write(code as u32) };
    halt_forever()
}

/// One test function and its name.
#[derive(Debug, Clone, Copy)]
pub struct TestCase {
    /// Printed in the `test <name> ... ok` line.
    pub name: &'static str,
    /// Passes by returning, fails by panicking.
    pub run: fn(),
}

static TEST_KERNEL: AtomicBool = AtomicBool::new(false);

/// Marks this kernel as a test kernel: fatal errors then exit QEMU with the
/// failure code instead of halting.
pub fn mark_test_kernel() {
    TEST_KERNEL.store(true, Ordering::SeqCst);
}

/// Whether this is a test kernel.
pub fn is_test_kernel() -> bool {
    TEST_KERNEL.load(Ordering::SeqCst)
}

/// The test running now, as (kernel, test name), for the panic handler.
static CURRENT: Mutex<Option<(&'static str, &'static str)>> = Mutex::new(None);

fn set_current(test: Option<(&'static str, &'static str)>) {
    x86_64::instructions::interrupts::without_interrupts(|| *CURRENT.lock() = test);
}

/// The running test's (kernel, name), if any. Does not wait for the lock.
fn current() -> Option<(&'static str, &'static str)> {
    CURRENT.try_lock().and_then(|guard| *guard)
}

/// Runs every test in order, prints the summary, and exits QEMU with success.
pub fn run_tests(kernel: &'static str, tests: &[TestCase]) -> ! {
    mark_test_kernel();
    println!("running {} tests in {kernel}", tests.len());
    for test in tests {
        set_current(Some((kernel, test.name)));
        (test.run)();
        set_current(None);
        println!("test {kernel}::{} ... ok", test.name);
    }
    println!("test result: ok. {} passed; 0 failed", tests.len());
    exit_qemu(QemuExitCode::Success)
}

/// The panic handler of test kernels: marks the running test as failed,
/// prints the panic, and exits QEMU with the failure code.
pub fn test_panic(info: &PanicInfo<'_>) -> ! {
    if !panic::begin_last_words() {
        exit_qemu(QemuExitCode::Failed);
    }
    if let Some((kernel, name)) = current() {
        println!("test {kernel}::{name} ... FAILED");
    }
    panic::report_panic(info);
    exit_qemu(QemuExitCode::Failed)
}

/// Runs `test`, which must panic; the test kernel's panic handler must be
/// [`expected_panic`]. If `test` returns, the test fails.
pub fn expect_panic(kernel: &'static str, test: TestCase) -> ! {
    mark_test_kernel();
    println!("running 1 test in {kernel}");
    set_current(Some((kernel, test.name)));
    (test.run)();
    println!(
        "test {kernel}::{} ... FAILED (returned instead of panicking)",
        test.name
    );
    exit_qemu(QemuExitCode::Failed)
}

/// The panic handler for [`expect_panic`]: the panic is the test passing.
pub fn expected_panic(info: &PanicInfo<'_>) -> ! {
    if !panic::begin_last_words() {
        exit_qemu(QemuExitCode::Failed);
    }
    match current() {
        Some((kernel, name)) => {
            println!("test {kernel}::{name} ... ok");
            println!("  (panicked as expected: {})", info.message());
            println!("test result: ok. 1 passed; 0 failed");
            exit_qemu(QemuExitCode::Success)
        }
        None => {
            // A panic outside the test (during init) is a real failure.
            panic::report_panic(info);
            exit_qemu(QemuExitCode::Failed)
        }
    }
}

/// Recurses without end, so that the stack overflows into its guard page
/// (for the test kernels that check what happens then).
#[allow(unconditional_recursion)]
pub fn overflow_the_stack(depth: u64) -> u64 {
    // A frame with data the optimiser cannot drop.
    let frame = [depth; 8];
    overflow_the_stack(core::hint::black_box(frame)[3] + 1) + 1
}

/// An exception a test kernel must raise, and how to check it.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedException {
    /// The test's name.
    pub name: &'static str,
    /// The vector that must come.
    pub vector: u8,
    /// Further checks of the saved state (error code, CR2, stack...).
    pub check: fn(&InterruptContext) -> Result<(), &'static str>,
    /// Code that must raise the exception.
    pub trigger: fn(),
}

static EXPECTED: Once<(&'static str, ExpectedException)> = Once::new();

/// Runs `expected.trigger`, which must raise `expected.vector`: the test
/// passes when the exception handler sees it and the check agrees.
pub fn expect_exception(kernel: &'static str, expected: ExpectedException) -> ! {
    mark_test_kernel();
    EXPECTED.call_once(|| (kernel, expected));
    exceptions::set_hook(check_expected_exception);
    println!("running 1 test in {kernel}");
    set_current(Some((kernel, expected.name)));
    (expected.trigger)();
    println!(
        "test {kernel}::{} ... FAILED (no {} happened)",
        expected.name,
        exceptions::name(expected.vector).1
    );
    exit_qemu(QemuExitCode::Failed)
}

/// The exception hook of [`expect_exception`].
fn check_expected_exception(ctx: &InterruptContext) {
    let Some(&(kernel, expected)) = EXPECTED.get() else {
        return;
    };
    // From here on the test ends: take the console whatever held it.
    if !panic::begin_last_words() {
        exit_qemu(QemuExitCode::Failed);
    }
    let vector = ctx.vector as u8;
    let (mnemonic, name) = exceptions::name(vector);
    if vector != expected.vector {
        println!(
            "test {kernel}::{} ... FAILED (got {name} {mnemonic} instead of {})",
            expected.name,
            exceptions::name(expected.vector).1
        );
        exceptions::report(ctx);
        exit_qemu(QemuExitCode::Failed);
    }
    // The kernel's own report, exactly as a real fault would print it.
    exceptions::report(ctx);
    match (expected.check)(ctx) {
        Ok(()) => {
            println!("test {kernel}::{} ... ok", expected.name);
            println!(
                "  ({name} {mnemonic} at RIP {:#x}, error code {:#x})",
                ctx.rip, ctx.error_code
            );
            println!("test result: ok. 1 passed; 0 failed");
            exit_qemu(QemuExitCode::Success)
        }
        Err(why) => {
            println!("test {kernel}::{} ... FAILED ({why})", expected.name);
            exit_qemu(QemuExitCode::Failed)
        }
    }
}

/// Defines a test kernel that passes only if `trigger` raises exception
/// `vector` and `check` accepts the saved state.
#[macro_export]
macro_rules! exception_test_kernel {
    (name: $name:expr, vector: $vector:expr, check: $check:expr, trigger: $trigger:expr $(,)?) => {
        $crate::exception_test_kernel!(
            options: $crate::InitOptions::default(),
            name: $name,
            vector: $vector,
            check: $check,
            trigger: $trigger,
        );
    };
    (options: $options:expr, name: $name:expr, vector: $vector:expr, check: $check:expr, trigger: $trigger:expr $(,)?) => {
        #[unsafe(no_mangle)]
        extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
            $crate::init_with(multiboot_info_addr, $options);
            $crate::testing::expect_exception(
                env!("CARGO_CRATE_NAME"),
                $crate::testing::ExpectedException {
                    name: $name,
                    vector: $vector,
                    check: $check,
                    trigger: $trigger,
                },
            )
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
            $crate::testing::test_panic(info)
        }
    };
}

/// Defines a test kernel's entry point and panic handler: boots through
/// [`crate::init`], then runs the listed test functions in order.
#[macro_export]
macro_rules! test_kernel {
    ($($test:path),* $(,)?) => {
        #[unsafe(no_mangle)]
        extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
            $crate::init(multiboot_info_addr);
            $crate::testing::run_tests(
                env!("CARGO_CRATE_NAME"),
                &[$($crate::testing::TestCase { name: stringify!($test), run: $test }),*],
            )
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
            $crate::testing::test_panic(info)
        }
    };
}
