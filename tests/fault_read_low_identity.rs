//! Reading the kernel's own code at its physical address, in what was the
//! boot identity map, page-faults and is described as unmapped: the kernel's
//! table keeps nothing of the low identity map.
#![no_std]
#![no_main]

use pyrite::layout::KERNEL_OFFSET;

/// The physical address of this very function: mapped only in the higher
/// half now, at KERNEL_OFFSET above it.
fn low_address() -> u64 {
    read_low_identity as fn() as usize as u64 - KERNEL_OFFSET
}

fn read_low_identity() {
    let addr = core::hint::black_box(low_address()) as *const u64;
    // SAFETY: the read faults on purpose; the exception ends the test.
    let value = unsafe { addr.read_volatile() };
    core::hint::black_box(value);
}

pyrite::exception_test_kernel!(
    name: "reading_the_old_identity_map_faults_as_unmapped",
    vector: 14,
    check: |fault| {
        let boot = pyrite::boot_info().ok_or("no boot information")?;
        if !boot.kernel.contains(x86_64::PhysAddr::new(fault.cr2)) {
            return Err("CR2 is not the kernel's physical address");
        }
        if fault.cr2 != low_address() {
            return Err("CR2 is not the address read");
        }
        if fault.context.error_code & 0b1_1111 != 0 {
            return Err("error code is not a not-present read");
        }
        if pyrite::memory::describe_address(fault.cr2) != pyrite::memory::AddressKind::Unmapped {
            return Err("the old identity address is not described as unmapped");
        }
        Ok(())
    },
    trigger: read_low_identity,
);
