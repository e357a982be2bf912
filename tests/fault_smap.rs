//! With SMAP on (`-cpu max`), the kernel reading a user page outside the
//! copy routine page-faults (present, read, supervisor), though the page
//! is mapped and user-accessible.
#![no_std]
#![no_main]

use pyrite::memory::Page;
use pyrite::memory::paging::{AddressSpace, EntryFlags};
use x86_64::VirtAddr;

const USER_PAGE: u64 = 0x40_0000;

fn read_a_user_page() {
    let space = AddressSpace::new().expect("a space");
    let page = Page::containing(VirtAddr::new(USER_PAGE));
    space.map(page, EntryFlags::NO_EXECUTE).expect("mapped");
    let active = space.activate();
    // SAFETY: the page is mapped (user, read-only); SMAP makes the read
    // fault, on purpose; the exception ends the test.
    let value = unsafe { (USER_PAGE as *const u64).read_volatile() };
    core::hint::black_box(value);
    drop(active);
}

pyrite::exception_test_kernel!(
    name: "a_kernel_read_of_user_memory_faults_under_smap",
    vector: 14,
    check: |fault| {
        if fault.cr2 != USER_PAGE {
            return Err("CR2 is not the user page");
        }
        // present, read, supervisor
        if fault.context.error_code & 0b1_1111 != 0b1 {
            return Err("error code is not a protection violation on a kernel read");
        }
        Ok(())
    },
    trigger: read_a_user_page,
);
