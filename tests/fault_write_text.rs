//! W^X: writing to the kernel's code page-faults (present, write).
#![no_std]
#![no_main]

fn target() {}

fn write_to_text() {
    let addr = core::hint::black_box(target as fn() as usize) as *mut u8;
    // SAFETY: the write faults on purpose; the exception ends the test.
    unsafe { addr.write_volatile(0xC3) };
}

pyrite::exception_test_kernel!(
    name: "writing_kernel_text_page_faults",
    vector: 14,
    check: |fault| {
        let ctx = &fault.context;
        if fault.cr2 != target as fn() as usize as u64 {
            return Err("CR2 is not the written address");
        }
        // present | write
        if ctx.error_code & 0b1_1111 != 0b0_0011 {
            return Err("error code is not present+write");
        }
        Ok(())
    },
    trigger: write_to_text,
);
