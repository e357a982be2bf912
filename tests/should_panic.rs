//! A test kernel whose only test must panic: it passes when the panic
//! handler runs, and fails if the test returns.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use pyrite::testing::{self, TestCase};

fn failing_assertion() {
    let answer = core::hint::black_box(41);
    assert_eq!(answer, 42, "the harness must see this failure");
}

#[unsafe(no_mangle)]
extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
    pyrite::init(multiboot_info_addr);
    testing::expect_panic(
        env!("CARGO_CRATE_NAME"),
        TestCase {
            name: "failing_assertion",
            run: failing_assertion,
        },
    )
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    testing::expected_panic(info)
}
