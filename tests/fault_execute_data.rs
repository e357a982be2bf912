//! W^X: executing from the kernel's data page-faults (present, instruction
//! fetch), because data pages are NX.
#![no_std]
#![no_main]

use core::sync::atomic::AtomicU8;

/// A `ret` instruction, in the writable data section.
static RET_IN_DATA: AtomicU8 = AtomicU8::new(0xC3);

fn execute_data() {
    let addr = core::hint::black_box(&RET_IN_DATA as *const AtomicU8 as usize);
    // SAFETY: the call faults on purpose (NX); the exception ends the test.
    let f: fn() = unsafe { core::mem::transmute::<usize, fn()>(addr) };
    f();
}

pyrite::exception_test_kernel!(
    name: "executing_kernel_data_page_faults",
    vector: 14,
    check: |fault| {
        let ctx = &fault.context;
        let addr = &RET_IN_DATA as *const AtomicU8 as u64;
        if fault.cr2 != addr || ctx.rip != addr {
            return Err("CR2/RIP is not the data address");
        }
        // present | instruction fetch
        if ctx.error_code & 0b1_1111 != 0b1_0001 {
            return Err("error code is not present+instruction fetch");
        }
        Ok(())
    },
    trigger: execute_data,
);
