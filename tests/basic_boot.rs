//! Boots the kernel the normal way and checks the consoles and the parsed
//! boot information.
#![no_std]
#![no_main]

use pyrite::boot::Firmware;
use pyrite::memory::MemoryKind;
use pyrite::{boot_info, println};

pyrite::test_kernel!(
    println_works,
    println_survives_many_lines,
    log_works,
    boot_info_is_present,
    memory_map_is_plausible,
    kernel_range_is_where_linker_put_it,
    boot_info_range_is_outside_the_kernel,
    firmware_matches_the_test_run,
    tsc_is_calibrated,
);

fn println_works() {
    println!("println output");
}

fn println_survives_many_lines() {
    // More lines than the screen has, so the VGA writer scrolls.
    for i in 0..60 {
        println!("line {i} of a long run of output");
    }
}

fn log_works() {
    log::info!("log output at info");
    log::debug!("log output at debug (hidden at the default level)");
}

fn boot_info_is_present() {
    let boot = boot_info().expect("init stored the boot information");
    assert_eq!(
        boot.boot_loader_name.map(|n| n.starts_with("GRUB")),
        Some(true)
    );
}

fn memory_map_is_plausible() {
    let boot = boot_info().unwrap();
    let usable = boot.usable_bytes();
    // The runner gives QEMU 128 MiB unless PYRITE_QEMU_MEMORY says otherwise.
    assert!(usable > 64 << 20, "only {usable} bytes usable");
    assert!(usable <= 128 << 20, "{usable} bytes usable out of 128 MiB");
    let regions = boot.memory_regions();
    assert!(regions.iter().any(|r| r.kind == MemoryKind::Usable));
    assert!(regions.iter().all(|r| r.range.start < r.range.end));
    // The kernel itself sits in usable RAM.
    assert!(
        regions
            .iter()
            .any(|r| r.kind == MemoryKind::Usable && r.range.contains(boot.kernel.start))
    );
}

fn kernel_range_is_where_linker_put_it() {
    let boot = boot_info().unwrap();
    assert_eq!(
        boot.kernel.start.as_u64(),
        0x10_0000,
        "linker.ld loads the kernel at 1 MiB"
    );
    // The code runs KERNEL_OFFSET above where it was loaded.
    let here = kernel_range_is_where_linker_put_it as fn() as usize as u64;
    assert!(here >= pyrite::layout::KERNEL_OFFSET, "{here:#x}");
    let loaded = here - pyrite::layout::KERNEL_OFFSET;
    assert!(boot.kernel.contains(x86_64::PhysAddr::new(loaded)));
    assert!(
        boot.elf_section_count >= 5,
        "{} sections",
        boot.elf_section_count
    );
}

fn boot_info_range_is_outside_the_kernel() {
    let boot = boot_info().unwrap();
    assert!(boot.info.len() >= 16);
    assert!(boot.info.end <= boot.kernel.start || boot.info.start >= boot.kernel.end);
}

fn firmware_matches_the_test_run() {
    let boot = boot_info().unwrap();
    // The runner passes the firmware it booted with on the command line.
    let expected = if boot.command_line.has_word("test_firmware=uefi") {
        Firmware::Uefi
    } else {
        Firmware::Bios
    };
    assert_eq!(boot.firmware, expected);
}

fn tsc_is_calibrated() {
    let hz = pyrite::time::tsc_hz().expect("calibrated during init");
    assert!(hz > 100_000_000, "{hz} Hz is implausibly slow");
    let before = pyrite::time::since_boot();
    let after = pyrite::time::since_boot();
    assert!(after >= before);
}
