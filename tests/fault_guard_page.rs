//! Touching the guard page below the boot stack page-faults (not present).
#![no_std]
#![no_main]

unsafe extern "C" {
    static boot_stack_bottom: u8;
}

fn guard_address() -> u64 {
    &raw const boot_stack_bottom as u64 - 8
}

fn touch_guard_page() {
    let addr = core::hint::black_box(guard_address()) as *mut u64;
    // SAFETY: the write faults on purpose; the exception ends the test.
    unsafe { addr.write_volatile(1) };
}

pyrite::exception_test_kernel!(
    name: "touching_the_boot_stack_guard_page_faults",
    vector: 14,
    check: |fault| {
        let ctx = &fault.context;
        if fault.cr2 != guard_address() {
            return Err("CR2 is not the guard address");
        }
        // not present | write
        if ctx.error_code & 0b1_1111 != 0b0_0010 {
            return Err("error code is not not-present+write");
        }
        if pyrite::memory::describe_address(guard_address()) != pyrite::memory::AddressKind::BootStackGuard {
            return Err("the address is not described as the boot stack guard");
        }
        Ok(())
    },
    trigger: touch_guard_page,
);
