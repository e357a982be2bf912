//! Pyrite: an x86_64 kernel booted by GRUB through Multiboot2.
//!
//! The library holds the whole kernel; `src/main.rs` is only the entry
//! point, and each test kernel in `tests/` links the same library. Pure logic
//! (command-line parsing, boot-information checks, log formatting) also
//! builds for the host, where `cargo test` runs its unit tests.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod acpi;
pub mod arch;
pub mod boot;
pub mod console;
pub mod drivers;
pub mod fs;
mod init;
pub mod interrupts;
pub mod layout;
pub mod memory;
pub mod panic;
pub mod process;
pub mod queue;
pub mod sched;
pub mod syscall;
pub mod task;
pub mod testing;
pub mod time;
pub mod units;

use spin::Once;

use boot::BootInfo;
pub use init::{init, log_ready};

/// The kernel's version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

static BOOT_INFO: Once<BootInfo<'static>> = Once::new();

/// The boot information, once [`init`] has read it.
pub fn boot_info() -> Option<&'static BootInfo<'static>> {
    BOOT_INFO.get()
}
