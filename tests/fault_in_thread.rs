//! A test kernel whose thread faults in kernel mode (a read of address 0):
//! still a kernel bug, reported as ever, and the report names the thread.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use pyrite::interrupts::exceptions;
use pyrite::testing::{self, QemuExitCode};
use pyrite::{panic, println, sched};

/// The thread that faults.
const FAULTY: &str = "faulty";

#[unsafe(no_mangle)]
extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
    pyrite::init(multiboot_info_addr);
    sched::init("main").expect("the scheduler starts");
    println!("running 1 test in {}", env!("CARGO_CRATE_NAME"));
    let handle = sched::spawn(FAULTY, || {
        let null = core::hint::black_box(core::ptr::null::<u64>());
        // SAFETY: not safe at all: the point is the page fault.
        unsafe { null.read_volatile() }
    })
    .expect("the thread starts");
    let _ = handle.join();
    println!("test fault_in_thread::a_faulting_thread_is_named ... FAILED (no fault)");
    testing::exit_qemu(QemuExitCode::Failed)
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if !panic::begin_last_words() {
        testing::exit_qemu(QemuExitCode::Failed);
    }
    panic::report(info);
    let vector = exceptions::fatal_exception().map(|fault| fault.context.vector);
    let name = panic::thread_label().map(|(_, name)| name);
    if vector == Some(14) && name == Some(FAULTY) {
        println!("test fault_in_thread::a_faulting_thread_is_named ... ok");
        println!("test result: ok. 1 passed; 0 failed");
        testing::exit_qemu(QemuExitCode::Success)
    }
    println!(
        "test fault_in_thread::a_faulting_thread_is_named ... FAILED (vector {vector:?} in {name:?})"
    );
    testing::exit_qemu(QemuExitCode::Failed)
}
