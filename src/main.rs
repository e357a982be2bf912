//! The kernel's entry point: `long_mode_init.asm` calls [`kernel_main`] with
//! the physical address of the Multiboot2 boot information. This file is the
//! init sequence and nothing else.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use pyrite::{console, println};

/// The Rust entry point, called once on the boot stack.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
    let boot_info = pyrite::init(multiboot_info_addr);
    pyrite::log_ready(boot_info);
    println!("Keys typed on the keyboard are echoed here.");
    console::echo::echo_keys()
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    pyrite::panic::kernel_panic(info)
}
