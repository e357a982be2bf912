//! A fault while the CPU delivers a fault: with the stack pointer made
//! non-canonical, delivering a breakpoint faults (#SS), and delivering that
//! #SS faults again, so the CPU raises a double fault. Its handler runs on
//! its own IST stack, where the stack pointer does not matter, and reports.
#![no_std]
#![no_main]

use pyrite::interrupts::gdt;

fn fault_while_delivering_a_fault() {
    // SAFETY: nothing returns here: the double fault ends the test kernel,
    // whose handler runs on an IST stack and never uses this RSP.
    unsafe {
        core::arch::asm!(
            "mov rsp, {bad}",
            "int3",
            bad = in(reg) 0x8000_0000_0000_0000u64,
            options(noreturn)
        )
    }
}

pyrite::exception_test_kernel!(
    name: "a_fault_while_delivering_a_fault_ends_in_the_double_fault_handler",
    vector: 8,
    check: |fault| {
        let ctx = &fault.context;
        let here = fault.saved_at;
        let stack = gdt::ist_stack(gdt::DOUBLE_FAULT_IST).ok_or("no IST stack")?;
        if !(stack.bottom().as_u64()..stack.top().as_u64()).contains(&here) {
            return Err("the handler did not run on the double-fault IST stack");
        }
        if ctx.error_code != 0 {
            return Err("a double fault's error code is always 0");
        }
        Ok(())
    },
    trigger: fault_while_delivering_a_fault,
);
