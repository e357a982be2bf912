//! Asking for more than the heap can ever hold: the allocation fails, the
//! heap says so (size, alignment, state), and Rust's allocation-failure
//! handler panics with the size; the kernel does not hang.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::panic::PanicInfo;

use pyrite::memory::heap;
use pyrite::testing::{self, TestCase};

fn exhaust_the_heap() {
    let limit = heap::stats().limit;
    let v: Vec<u8> = Vec::with_capacity(limit + 1);
    core::hint::black_box(v);
}

#[unsafe(no_mangle)]
extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
    pyrite::init(multiboot_info_addr);
    testing::expect_panic(
        env!("CARGO_CRATE_NAME"),
        TestCase {
            name: "allocation_beyond_the_limit_fails_clearly",
            run: exhaust_the_heap,
        },
    )
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    // The heap must have counted the refusal (and logged it) first.
    if heap::stats().failed == 0 {
        pyrite::println!(
            "test heap_oom::allocation_beyond_the_limit_fails_clearly ... FAILED (no refusal counted)"
        );
        testing::exit_qemu(testing::QemuExitCode::Failed);
    }
    testing::expected_panic(info)
}
