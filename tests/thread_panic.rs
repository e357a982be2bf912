//! A test kernel whose thread panics: the report must name the thread,
//! and the panic must happen in that thread (not in the one joining it).
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use pyrite::testing::{self, QemuExitCode};
use pyrite::{panic, println, sched};

/// The thread that panics.
const DOOMED: &str = "doomed";

#[unsafe(no_mangle)]
extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
    pyrite::init(multiboot_info_addr);
    sched::init("main").expect("the scheduler starts");
    println!("running 1 test in {}", env!("CARGO_CRATE_NAME"));
    let handle = sched::spawn(DOOMED, || {
        let answer = core::hint::black_box(41);
        assert_eq!(answer, 42, "the thread's own assertion");
    })
    .expect("the thread starts");
    let _ = handle.join();
    println!("test thread_panic::a_panicking_thread_is_named ... FAILED (no panic)");
    testing::exit_qemu(QemuExitCode::Failed)
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if !panic::begin_last_words() {
        testing::exit_qemu(QemuExitCode::Failed);
    }
    panic::report(info);
    let name = panic::thread_label().map(|(_, name)| name);
    if name == Some(DOOMED) {
        println!("test thread_panic::a_panicking_thread_is_named ... ok");
        println!("test result: ok. 1 passed; 0 failed");
        testing::exit_qemu(QemuExitCode::Success)
    }
    println!("test thread_panic::a_panicking_thread_is_named ... FAILED (reported in {name:?})");
    testing::exit_qemu(QemuExitCode::Failed)
}
