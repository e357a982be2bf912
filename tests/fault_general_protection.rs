//! Touching a non-canonical address raises #GP (vector 13).
#![no_std]
#![no_main]

fn non_canonical_read() {
    let addr = core::hint::black_box(0x8000_0000_0000_0000u64) as *const u64;
    // SAFETY: the read faults on purpose; the exception ends the test.
    unsafe { core::ptr::read_volatile(addr) };
}

pyrite::exception_test_kernel!(
    name: "non_canonical_access_raises_general_protection",
    vector: 13,
    check: |fault| if fault.context.error_code == 0 { Ok(()) } else { Err("expected error code 0") },
    trigger: non_canonical_read,
);
