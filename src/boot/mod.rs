//! What the boot loader tells the kernel: the Multiboot2 boot information,
//! turned into plain data ([`BootInfo`]) that the rest of the kernel uses
//! without knowing about Multiboot2 tags, and the kernel command line.

pub mod cmdline;
mod info;
mod summary;

pub use info::{
    AcpiRoot, BootInfo, BootInfoError, ColourField, Firmware, FramebufferInfo, FramebufferKind,
    MAX_KERNEL_SECTIONS, MAX_MEMORY_REGIONS, MAX_MODULES,
};
pub use summary::log_summary;
