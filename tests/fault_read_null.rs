//! Reading address 0 page-faults (not present, read), and the fault
//! describer calls the address unmapped: page 0 is never mapped.
#![no_std]
#![no_main]

fn read_address_zero() {
    let addr = core::hint::black_box(0usize) as *const u64;
    // SAFETY: the read faults on purpose; the exception ends the test.
    let value = unsafe { addr.read_volatile() };
    core::hint::black_box(value);
}

pyrite::exception_test_kernel!(
    name: "reading_address_zero_faults_as_unmapped",
    vector: 14,
    check: |fault| {
        if fault.cr2 != 0 {
            return Err("CR2 is not address 0");
        }
        // not present, read, supervisor
        if fault.context.error_code & 0b1_1111 != 0 {
            return Err("error code is not a not-present read");
        }
        if pyrite::memory::describe_address(fault.cr2) != pyrite::memory::AddressKind::Unmapped {
            return Err("address 0 is not described as unmapped");
        }
        Ok(())
    },
    trigger: read_address_zero,
);
