//! Dividing by zero raises #DE (vector 0), reported by the kernel.
#![no_std]
#![no_main]

fn divide_by_zero() {
    let divisor = core::hint::black_box(0u64);
    // SAFETY: the division faults on purpose; the exception ends the test.
    unsafe {
        core::arch::asm!("div {0}", in(reg) divisor, inout("rax") 1u64 => _, inout("rdx") 0u64 => _);
    }
}

pyrite::exception_test_kernel!(
    name: "divide_by_zero_raises_divide_error",
    vector: 0,
    check: |_| Ok(()),
    trigger: divide_by_zero,
);
