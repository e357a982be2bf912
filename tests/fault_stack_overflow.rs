//! Unbounded recursion runs into the boot stack's guard page; the page-fault
//! handler, on its own IST stack, still runs and reports it.
#![no_std]
#![no_main]

use pyrite::interrupts::gdt;

fn overflow() {
    core::hint::black_box(pyrite::testing::overflow_the_stack(0));
}

pyrite::exception_test_kernel!(
    name: "stack_overflow_is_reported_by_the_page_fault_handler",
    vector: 14,
    check: |fault| {
        let here = fault.saved_at;
        let stack = gdt::ist_stack(gdt::PAGE_FAULT_IST).ok_or("no IST stack")?;
        if !(stack.bottom().as_u64()..stack.top().as_u64()).contains(&here) {
            return Err("the handler did not run on the page-fault IST stack");
        }
        match pyrite::memory::describe_address(fault.cr2) {
            pyrite::memory::AddressKind::BootStackGuard => Ok(()),
            _ => Err("CR2 is not in the boot stack's guard page"),
        }
    },
    trigger: overflow,
);
