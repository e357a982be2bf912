//! The boot log's account of what the boot loader handed over: lines for a
//! person, then one `summary:` line of exact `key=value` pairs for the tools
//! that read the boot log (tools/kernel_output.py), so they need not parse
//! rounded sizes out of prose.

use core::fmt;

use log::{info, warn};

use super::BootInfo;
use crate::units::ByteSize;

/// Logs the boot loader, command line, memory map and where the kernel and
/// the boot information lie.
pub fn log_summary(boot: &BootInfo<'_>) {
    info!(
        "booted by {} on {} firmware",
        boot.boot_loader_name.unwrap_or("an unnamed boot loader"),
        boot.firmware
    );
    info!("command line: \"{}\"", boot.command_line);
    match boot.framebuffer {
        Some(fb) => info!(
            "framebuffer: {}x{}, {} bits per pixel, {}, at {:#x}",
            fb.width,
            fb.height,
            fb.bpp,
            match fb.kind {
                super::FramebufferKind::Rgb { .. } => "RGB",
                super::FramebufferKind::Text => "text mode",
                super::FramebufferKind::Indexed => "indexed colour",
            },
            fb.address.as_u64()
        ),
        None => info!("framebuffer: none"),
    }
    match boot.acpi {
        Some(acpi) => info!(
            "ACPI: RSDP revision {} from {} (copy at {:#x}), {} at {:#x}",
            acpi.revision,
            core::str::from_utf8(&acpi.oem_id).unwrap_or("?"),
            acpi.copy_at,
            if acpi.xsdt.is_some() { "XSDT" } else { "RSDT" },
            acpi.xsdt.or(acpi.rsdt).unwrap_or(0)
        ),
        None => warn!("ACPI: the boot loader passed no RSDP"),
    }
    info!(
        "memory map ({} areas{}):",
        boot.memory_regions().len(),
        if boot.memory_map_from_efi {
            ", from the EFI memory map"
        } else {
            ""
        }
    );
    for region in boot.memory_regions() {
        info!(
            "  {:>#12x}-{:<#12x} {:>10}  {}",
            region.range.start.as_u64(),
            region.range.end.as_u64(),
            ByteSize(region.range.len()),
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
    info!("usable memory: {}", ByteSize(boot.usable_bytes()));
    info!(
        "kernel: {} ({}, {} ELF sections)",
        boot.kernel,
        ByteSize(boot.kernel.len()),
        boot.elf_section_count
    );
    info!(
        "boot information: {} ({})",
        boot.info,
        ByteSize(boot.info.len())
    );
    info!("summary: {}", Summary(boot));
}

/// The boot facts as `key=value` pairs. Keys never change meaning; new ones
/// go at the end.
struct Summary<'a, 'b>(&'a BootInfo<'b>);

impl fmt::Display for Summary<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let boot = self.0;
        write!(
            f,
            "firmware={} usable_bytes={} memory_areas={} memory_areas_dropped={} \
             kernel_bytes={} boot_info_bytes={}",
            match boot.firmware {
                super::Firmware::Bios => "bios",
                super::Firmware::Uefi => "uefi",
            },
            boot.usable_bytes(),
            boot.memory_regions().len(),
            boot.memory_regions_dropped(),
            boot.kernel.len(),
            boot.info.len()
        )
    }
}
