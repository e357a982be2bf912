//! With the page-fault handler on the faulting stack (no IST), a stack
//! overflow cannot even push the page-fault frame: the CPU raises a double
//! fault, whose handler runs on its own IST stack and reports it.
#![no_std]
#![no_main]

use pyrite::interrupts::{IdtOptions, gdt};

fn overflow() {
    core::hint::black_box(pyrite::testing::overflow_the_stack(0));
}

pyrite::exception_test_kernel!(
    options: pyrite::InitOptions {
        idt: IdtOptions { page_fault_on_ist: false },
    },
    name: "stack_overflow_ends_in_the_double_fault_handler",
    vector: 8,
    check: |ctx| {
        let here = ctx as *const _ as u64;
        let stack = gdt::ist_stack(gdt::DOUBLE_FAULT_IST).ok_or("no IST stack")?;
        if !(stack.bottom().as_u64()..stack.top().as_u64()).contains(&here) {
            return Err("the handler did not run on the double-fault IST stack");
        }
        if ctx.error_code != 0 {
            return Err("a double fault's error code is always 0");
        }
        Ok(())
    },
    trigger: overflow,
);
