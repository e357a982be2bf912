//! An undefined instruction raises #UD (vector 6).
#![no_std]
#![no_main]

fn undefined_instruction() {
    // SAFETY: ud2 faults on purpose; the exception ends the test.
    unsafe { core::arch::asm!("ud2") };
}

pyrite::exception_test_kernel!(
    name: "ud2_raises_invalid_opcode",
    vector: 6,
    check: |fault| {
        let ctx = &fault.context;
        // RIP points at the ud2 itself (0F 0B).
        // SAFETY: RIP is in the kernel's text, which is mapped readable.
        let bytes = unsafe { core::ptr::read(ctx.rip as *const [u8; 2]) };
        if bytes == [0x0F, 0x0B] { Ok(()) } else { Err("RIP is not at the ud2") }
    },
    trigger: undefined_instruction,
);
