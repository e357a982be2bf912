//! The in-kernel test harness (stable Rust: no custom test frameworks).
//!
//! A test kernel lists its test functions with [`test_kernel!`]; each runs in
//! order and prints `test <name> ... ok` on the console. A failing test
//! panics: the panic handler prints `FAILED` with the message and exits QEMU
//! with the failure code. QEMU exits through the `isa-debug-exit` device
//! (`iobase=0xf4`): 0x10 means success (QEMU's exit status 33), 0x11 failure (35).
//!
//! The kernel never calls into this module. A test kernel's own
//! `#[panic_handler]` (defined by the macros below) is how every ending
//! reaches it: a failed assertion, a panic in the kernel, a fatal exception
//! (the exception handler panics) and a fatal error all panic.

use core::panic::PanicInfo;

use spin::{Mutex, Once};

use crate::interrupts::exceptions::{self, FatalException};

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

/// Exits QEMU with `code`, after sending what the serial output ring still
/// holds (the last lines say how the test ended). On a machine without the
/// exit device (real hardware), halts instead.
pub fn exit_qemu(code: QemuExitCode) -> ! {
    x86_64::instructions::interrupts::disable();
    crate::drivers::serial::enter_last_words();
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
/// prints the report (the panic, or the fatal exception behind it), and
/// exits QEMU with the failure code. In a kernel that expects an exception
/// ([`expect_exception`]), checks the exception instead.
pub fn test_panic(info: &PanicInfo<'_>) -> ! {
    if !panic::begin_last_words() {
        exit_qemu(QemuExitCode::Failed);
    }
    if let Some(&(kernel, expected)) = EXPECTED.get() {
        check_expected_exception(kernel, expected, info);
    }
    if let Some((kernel, name)) = current() {
        println!("test {kernel}::{name} ... FAILED");
    }
    panic::report(info);
    exit_qemu(QemuExitCode::Failed)
}

/// Runs `test`, which must panic; the test kernel's panic handler must be
/// [`expected_panic`]. If `test` returns, the test fails.
pub fn expect_panic(kernel: &'static str, test: TestCase) -> ! {
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
            panic::report(info);
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
    pub check: fn(&FatalException) -> Result<(), &'static str>,
    /// Code that must raise the exception.
    pub trigger: fn(),
}

static EXPECTED: Once<(&'static str, ExpectedException)> = Once::new();

/// Runs `expected.trigger`, which must raise `expected.vector`: the test
/// passes when the exception ends the kernel (through [`test_panic`]) and
/// the check agrees with the saved state.
pub fn expect_exception(kernel: &'static str, expected: ExpectedException) -> ! {
    EXPECTED.call_once(|| (kernel, expected));
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

/// Judges the end of an [`expect_exception`] kernel: the panic must come
/// from the expected exception, and the check must accept its state.
fn check_expected_exception(
    kernel: &'static str,
    expected: ExpectedException,
    info: &PanicInfo<'_>,
) -> ! {
    let wanted = exceptions::name(expected.vector).1;
    let Some(fault) = exceptions::fatal_exception() else {
        println!(
            "test {kernel}::{} ... FAILED (panicked instead of raising {wanted})",
            expected.name
        );
        panic::report_panic(info);
        exit_qemu(QemuExitCode::Failed)
    };
    let ctx = &fault.context;
    let vector = ctx.vector as u8;
    let (mnemonic, name) = exceptions::name(vector);
    // The kernel's own report, exactly as a real fault prints it.
    exceptions::report(fault);
    if vector != expected.vector {
        println!(
            "test {kernel}::{} ... FAILED (got {name} {mnemonic} instead of {wanted})",
            expected.name
        );
        exit_qemu(QemuExitCode::Failed);
    }
    match (expected.check)(fault) {
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
        #[unsafe(no_mangle)]
        extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
            $crate::init(multiboot_info_addr);
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

/// Frames taken from the allocator so that a test kernel can run the
/// kernel short of memory, and given back afterwards.
pub struct FrameHoard {
    frames: alloc::vec::Vec<crate::memory::Frame>,
}

impl FrameHoard {
    /// An empty hoard with room for every free frame, reserved now: the
    /// heap must not have to grow while the frames are gone.
    pub fn new() -> Self {
        let free = crate::memory::with(|mem| mem.frames.stats().free).unwrap_or(0);
        Self {
            frames: alloc::vec::Vec::with_capacity(free as usize + 64),
        }
    }

    /// Takes free frames until only `left` remain.
    pub fn take_all_but(&mut self, left: u64) {
        use crate::memory::FrameAllocator;
        crate::memory::with(|mem| {
            while mem.frames.stats().free > left {
                let frame = mem.frames.allocate_frame().expect("a frame is free");
                self.frames.push(frame);
            }
        });
    }

    /// Gives every frame taken back to the allocator.
    pub fn give_back(&mut self) {
        use crate::memory::FrameAllocator;
        crate::memory::with(|mem| {
            for frame in self.frames.drain(..) {
                // SAFETY: taken by `take_all_but` and never used since.
                unsafe { mem.frames.deallocate_frame(frame) };
            }
        });
    }
}

impl Default for FrameHoard {
    fn default() -> Self {
        Self::new()
    }
}
