//! The boot log's account of what the boot loader handed over.

use log::{info, warn};

use super::BootInfo;

/// Logs the boot loader, command line, memory map and where the kernel and
/// the boot information lie.
pub fn log_summary(boot: &BootInfo<'_>) {
    info!(
        "booted by {} on {} firmware",
        boot.boot_loader_name.unwrap_or("an unnamed boot loader"),
        boot.firmware
    );
    info!("command line: \"{}\"", boot.command_line);
    info!("memory map ({} areas):", boot.memory_regions().len());
    for region in boot.memory_regions() {
        info!(
            "  {} {:>8} KiB  {}",
            region.range,
            region.range.len() / 1024,
            region.kind
        );
    }
    if boot.memory_regions_dropped() > 0 {
        warn!(
            "{} more memory-map areas were ignored (room for {})",
            boot.memory_regions_dropped(),
            super::MAX_MEMORY_REGIONS
        );
    }
    info!("usable memory: {} MiB", boot.usable_bytes() >> 20);
    info!(
        "kernel: {} ({} KiB, {} ELF sections)",
        boot.kernel,
        boot.kernel.len() / 1024,
        boot.elf_section_count
    );
    info!(
        "boot information: {} ({} bytes)",
        boot.info,
        boot.info.len()
    );
}
