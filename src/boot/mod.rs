//! What the boot loader tells the kernel: the Multiboot2 boot information,
//! turned into plain data ([`BootInfo`]) that the rest of the kernel uses
//! without knowing about Multiboot2 tags, and the kernel command line.

pub mod cmdline;
mod firmware;
mod info;
mod modules;
mod summary;

pub use firmware::{AcpiRoot, ColourField, Firmware, FramebufferInfo, FramebufferKind};
pub use info::{
    BootInfo, BootInfoError, GRUB_MEMORY_CODE, MAX_KERNEL_SECTIONS, MAX_MEMORY_REGIONS,
};
pub use modules::{Module, Modules, log_modules};
pub use summary::log_summary;

#[cfg(test)]
mod tests;
