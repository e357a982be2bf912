//! Pyrite: an x86_64 kernel booted by GRUB through Multiboot2.
//!
//! The library holds the whole kernel; `src/main.rs` is only the entry
//! point, and each test kernel in `tests/` links the same library. Pure logic
//! (command-line parsing, boot-information checks, log formatting) also
//! builds for the host, where `cargo test` runs its unit tests.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod arch;
pub mod boot;
pub mod console;
pub mod drivers;
pub mod interrupts;
pub mod layout;
pub mod memory;
pub mod panic;
pub mod queue;
pub mod task;
pub mod testing;
pub mod time;
pub mod units;

use log::{debug, info, warn};
use spin::Once;

use boot::{BootInfo, Firmware, cmdline};

/// The kernel's version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

static BOOT_INFO: Once<BootInfo<'static>> = Once::new();

/// The boot information, once [`init`] has read it.
pub fn boot_info() -> Option<&'static BootInfo<'static>> {
    BOOT_INFO.get()
}

/// Choices a kernel entry point can make about [`init_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct InitOptions {
    /// How the IDT is built.
    pub idt: interrupts::IdtOptions,
}

/// Initialises the kernel with the default options: see [`init_with`].
pub fn init(multiboot_info_addr: u64) -> &'static BootInfo<'static> {
    init_with(multiboot_info_addr, InitOptions::default())
}

/// Brings the kernel up: consoles, boot information, memory, interrupts.
/// The first thing every kernel entry point (the kernel and each test
/// kernel) does.
///
/// Serial comes first, so that even a failure in the screen code is seen.
/// A boot information structure the kernel cannot use is a fatal error with
/// a clear message.
pub fn init_with(
    multiboot_info_addr: u64,
    init_options: InitOptions,
) -> &'static BootInfo<'static> {
    time::mark_boot();
    let serial = drivers::serial::init();

    // SAFETY: the boot assembly passes on the address GRUB left in ebx; the
    // structure lies in the boot identity map (checked by from_multiboot) and
    // nothing frees or changes it.
    let boot = match unsafe { BootInfo::from_multiboot(multiboot_info_addr) } {
        Ok(boot) => BOOT_INFO.call_once(|| boot),
        Err(err) => {
            // The firmware is unknown without the boot information; show the
            // error on the VGA text screen too, where BIOS machines have one.
            // SAFETY: 0xB8000 lies in the boot identity map; on a machine
            // without VGA text the writes go nowhere visible.
            unsafe { console::enable_vga_text() };
            panic::fatal(format_args!("{err}"))
        }
    };
    if boot.firmware == Firmware::Bios {
        // SAFETY: BIOS machines boot in VGA text mode with the buffer at
        // 0xB8000, which the boot identity map covers.
        unsafe { console::enable_vga_text() };
    }

    let options = cmdline::parse(boot.command_line);
    console::logger::init(options.log_level);
    let tsc_hz = time::calibrate();

    info!("Pyrite {VERSION} starting");
    if let Err(err) = serial {
        warn!("no serial port at COM1 ({err}); output goes to the screen only");
    }
    for problem in cmdline::problems(boot.command_line) {
        warn!("{problem}");
    }
    debug!("boot information at {:#x}", multiboot_info_addr);
    match tsc_hz {
        Some(hz) => info!("TSC runs at {} MHz", hz / 1_000_000),
        None => warn!("the PIT did not answer: TSC not calibrated, timestamps stay at zero"),
    }
    boot::log_summary(boot);
    init_memory(boot);
    if let Err(err) = interrupts::init(init_options.idt) {
        panic::fatal(format_args!("interrupts: {err}"));
    }
    boot
}

/// Starts the frame allocator and switches to the kernel's own page table.
fn init_memory(boot: &'static BootInfo<'static>) {
    let mut keep = [boot.info; 1 + boot::MAX_MODULES];
    keep[1..=boot.modules().len()].copy_from_slice(boot.modules());
    let vga = memory::PhysRange::new(
        x86_64::PhysAddr::new(drivers::vga_text::BUFFER_ADDR as u64),
        x86_64::PhysAddr::new(
            (drivers::vga_text::BUFFER_ADDR + drivers::vga_text::BUFFER_SIZE) as u64,
        ),
    );
    let layout = memory::BootMemory {
        regions: boot.memory_regions(),
        kernel_sections: boot.kernel_sections(),
        kernel: boot.kernel,
        keep_read_only: &keep[..=boot.modules().len()],
        devices: &[vga],
    };
    match memory::init(&layout) {
        Ok(summary) => memory::log_summary(&summary),
        Err(err) => panic::fatal(format_args!("memory: {err}")),
    }
    match memory::heap::init() {
        Ok(stats) => info!(
            "heap: {}, {} at {:#x}, grows to {}",
            memory::heap::design_name(),
            units::ByteSize(stats.size as u64),
            memory::HEAP_START,
            units::ByteSize(stats.limit as u64)
        ),
        Err(err) => panic::fatal(format_args!("heap: {err}")),
    }
}

/// Logs the boot log's last line: the kernel is up, how long init took, and
/// how much memory it manages.
pub fn log_ready(boot: &BootInfo<'_>) {
    let init = time::since_boot();
    info!(
        "Pyrite {VERSION} is up in {}.{} ms; {} usable",
        init.as_millis(),
        init.subsec_micros() % 1000 / 100,
        units::ByteSize(boot.usable_bytes())
    );
}
