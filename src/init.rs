//! Bringing the kernel up, in order: consoles, boot information, memory,
//! heap, interrupts, and the devices wired to their interrupt lines. Every
//! kernel entry point (the kernel and each test kernel) starts here.

use core::ptr::NonNull;

use log::{debug, info, warn};
use x86_64::PhysAddr;

use crate::boot::{self, BootInfo, Firmware, cmdline};
use crate::drivers::{self, ps2, serial, vga_text};
use crate::interrupts::{gdt, irq, pic, timer};
use crate::memory::{self, PhysRange, regions};
use crate::{BOOT_INFO, VERSION, acpi, console, interrupts, layout, panic, time, units};

/// Brings the kernel up: consoles, boot information, memory, interrupts.
/// The first thing every kernel entry point (the kernel and each test
/// kernel) does.
///
/// Serial comes first, so that even a failure in the screen code is seen.
/// A boot information structure the kernel cannot use is a fatal error with
/// a clear message.
pub fn init(multiboot_info_addr: u64) -> &'static BootInfo<'static> {
    time::mark_boot();
    let serial = drivers::serial::init();
    interrupts::init_early();

    // SAFETY: the boot assembly passes on the address GRUB left in ebx; the
    // structure lies in the first GiB the boot tables map in the boot data
    // region (checked by from_multiboot), the remap keeps it mapped there,
    // and nothing frees or changes it.
    let boot = match unsafe { BootInfo::from_multiboot(multiboot_info_addr) } {
        Ok(boot) => BOOT_INFO.call_once(|| boot),
        Err(err) => {
            // The firmware is unknown without the boot information; show the
            // error on the VGA text screen too, where BIOS machines have one.
            // SAFETY: the boot tables map 0xB8000 in the boot data region;
            // on a machine without VGA text the writes go nowhere visible.
            unsafe { console::enable_vga_text(early_vga_base()) };
            panic::fatal(format_args!("{err}"))
        }
    };
    let framebuffer_shown = show_early_screen(boot);

    let options = cmdline::parse(boot.command_line.as_bytes());
    console::logger::init(options.log_level);
    let calibration = time::calibrate();

    info!("Pyrite {VERSION} starting");
    if let Err(err) = serial {
        warn!("no serial port at COM1 ({err}); output goes to the screen only");
    }
    for problem in cmdline::problems(boot.command_line.as_bytes()) {
        warn!("{problem}");
    }
    debug!("boot information at {:#x}", multiboot_info_addr);
    log_calibration(calibration);
    boot::log_summary(boot);
    boot::log_modules(boot);
    init_memory(boot);
    crate::fs::init(boot);
    move_screen(boot, framebuffer_shown);
    acpi::init(boot);
    let controllers = match interrupts::init() {
        Ok(controllers) => controllers,
        Err(err) => panic::fatal(format_args!("interrupts: {err}")),
    };
    crate::syscall::init();
    if let Err(err) = start_devices(controllers) {
        panic::fatal(format_args!("interrupts: {err}"));
    }
    info!("machine checks: {}", interrupts::machine_check::enable());
    drivers::pci::init();
    let source = timer::ensure_ticking();
    match source {
        timer::TimerSource::Rtc => warn!(
            "timer: the PIT does not tick (IRQ 0 silent); deadlines come from the RTC \
             periodic interrupt (IRQ 8, {} Hz)",
            timer::RTC_TIMER_HZ
        ),
        timer::TimerSource::None => warn!("timer: no timer interrupts; sleep will not return"),
        _ => {}
    }
    log_controllers(controllers, source);
    boot
}

/// The boot log line naming the interrupt controller and the timer, with
/// a warning first if the 8259s are in use for want of a usable APIC.
fn log_controllers(controllers: interrupts::Controllers, source: timer::TimerSource) {
    use interrupts::Controllers;
    let timer = match source {
        timer::TimerSource::ApicOneShot => {
            alloc::format!("{source} at {} kHz", timer::apic_timer_hz() / 1000)
        }
        _ => alloc::format!("{source}"),
    };
    let controller = match controllers {
        Controllers::Apic(summary) if summary.x2apic => "x2apic",
        Controllers::Apic(_) => "xapic",
        Controllers::PicNoMadt => "pic reason=no_madt",
        Controllers::PicApicUnusable(_) => "pic reason=apic_unusable",
    };
    let io_apics = match controllers {
        Controllers::Apic(summary) => summary.io_apics,
        _ => 0,
    };
    match controllers {
        Controllers::Apic(summary) => info!(
            "interrupts: {} + {} IOAPIC, {timer} (invariant TSC: {})",
            if summary.x2apic { "x2APIC" } else { "xAPIC" },
            summary.io_apics,
            if summary.features.invariant_tsc {
                "yes"
            } else {
                "no"
            },
        ),
        Controllers::PicNoMadt => {
            warn!("interrupts: no ACPI MADT; the 8259 PICs deliver the interrupts");
            info!("interrupts: 8259 PIC + {timer} (no MADT)");
        }
        Controllers::PicApicUnusable(err) => {
            warn!("interrupts: the APIC cannot be used ({err}); the 8259 PICs deliver them");
            info!("interrupts: 8259 PIC + {timer} (APIC unusable)");
        }
    }
    // For the tools (tools/kernel_output.py reads it).
    info!(
        "interrupt_mode: controller={controller} io_apics={io_apics} timer={}",
        source.key()
    );
}

/// Starts the timer, the keyboard and serial input, each on its interrupt
/// line, then turns interrupts on.
fn start_devices(controllers: interrupts::Controllers) -> Result<(), irq::IrqError> {
    match (controllers, interrupts::apic::local::get()) {
        (interrupts::Controllers::Apic(_), Some(lapic)) => timer::start_apic(lapic)?,
        _ => timer::start_pit()?,
    };
    let keyboard = match ps2::init() {
        Ok(()) => {
            irq::register(pic::IRQ_KEYBOARD, ps2::on_interrupt)?;
            true
        }
        Err(err) => {
            warn!("keyboard: {err}; use the serial console");
            false
        }
    };
    let serial = serial::enable_interrupts();
    if serial {
        irq::register(pic::IRQ_COM1, serial::on_interrupt)?;
        // Input that arrived while the line was masked raised it before the
        // PIC listened: take it now, which also lets the line fall.
        serial::on_interrupt();
    }
    if keyboard {
        ps2::take_pending();
    }
    interrupts::enable();
    info!(
        "interrupts on: keyboard {}, serial {}, {} IST stacks",
        if keyboard { "IRQ 1" } else { "absent" },
        if serial { "IRQ 4" } else { "absent" },
        gdt::IST_STACKS
    );
    Ok(())
}

/// Says which clock the TSC was measured against, and warns if the PIT
/// gave no plausible answer.
fn log_calibration(calibration: Result<(u64, time::TimeBase), time::CalibrationError>) {
    match calibration {
        Ok((hz, time::TimeBase::Pit)) => info!("TSC runs at {} MHz", hz / 1_000_000),
        Ok((hz, time::TimeBase::Rtc { pit_hz })) => warn!(
            "the PIT gives an implausible TSC rate ({} MHz): it does not count; \
             TSC calibrated against the RTC instead: {} MHz",
            pit_hz / 1_000_000,
            hz / 1_000_000
        ),
        Err(err) => warn!(
            "TSC not calibrated: the PIT gave {} MHz and the RTC {} MHz, neither plausible; \
             timestamps stay at zero",
            err.pit_hz / 1_000_000,
            err.rtc_hz / 1_000_000
        ),
    }
}

/// The framebuffer the console can draw on: an RGB one.
fn rgb_framebuffer(boot: &BootInfo<'_>) -> Option<boot::FramebufferInfo> {
    boot.framebuffer
        .filter(|fb| matches!(fb.kind, boot::FramebufferKind::Rgb { .. }))
}

/// The VGA text buffer's physical range.
fn vga_range() -> PhysRange {
    PhysRange::new(
        PhysAddr::new(vga_text::BUFFER_ADDR as u64),
        PhysAddr::new((vga_text::BUFFER_ADDR + vga_text::BUFFER_SIZE) as u64),
    )
}

/// Where the VGA text buffer lies in the boot data region, which the boot
/// page tables map (and the remap keeps until [`move_screen`]).
fn early_vga_base() -> NonNull<u8> {
    let addr = regions::boot_data_address(PhysAddr::new(vga_text::BUFFER_ADDR as u64));
    NonNull::new(addr.as_mut_ptr::<u8>()).expect("the boot data region is not at 0")
}

/// Turns on the screen console: the framebuffer if GRUB set up a graphics
/// mode and it lies in the range the boot tables map in the boot data
/// region, else VGA text on BIOS. Returns whether the framebuffer is shown.
fn show_early_screen(boot: &BootInfo<'_>) -> bool {
    if let Some(fb) = rgb_framebuffer(boot) {
        if fb.range().end.as_u64() > layout::BOOT_IDENTITY_MAP_END {
            return false;
        }
        let Some(base) = NonNull::new(regions::boot_data_address(fb.address).as_mut_ptr::<u8>())
        else {
            return false;
        };
        // SAFETY: the framebuffer lies in the range the boot tables map in
        // the boot data region, and the remap keeps it mapped there until
        // move_screen moves it.
        return unsafe { console::enable_framebuffer(&fb, base) }.is_ok();
    }
    if boot.firmware == Firmware::Bios {
        // SAFETY: BIOS machines boot in VGA text mode with the buffer at
        // 0xB8000, which the boot tables map in the boot data region.
        unsafe { console::enable_vga_text(early_vga_base()) };
    }
    false
}

/// Maps the screen's buffer (the framebuffer, or the VGA text buffer) in
/// the MMIO region, moves the console there (or starts it there, if the
/// framebuffer lay beyond the boot tables' reach), and unmaps the early
/// mapping from the boot data region.
fn move_screen(boot: &BootInfo<'_>, shown: bool) {
    match rgb_framebuffer(boot) {
        Some(fb) => move_framebuffer(&fb, shown),
        // SAFETY: 0xB8000 is the VGA text buffer on a BIOS machine: device
        // memory, which the memory map never lists as usable RAM.
        None if boot.firmware == Firmware::Bios => match unsafe { memory::map_device(vga_range()) }
        {
            // SAFETY: the VGA text buffer is mapped at `base` from now on.
            Ok(base) => unsafe { console::move_screen(base_pointer(base)) },
            Err(err) => warn!("VGA text: cannot map it: {err}; the screen goes dark"),
        },
        None => {}
    }
    memory::unmap_boot_data(vga_range());
}

/// A mapped address as a pointer (the MMIO region is far from 0).
fn base_pointer(addr: x86_64::VirtAddr) -> NonNull<u8> {
    NonNull::new(addr.as_mut_ptr::<u8>()).expect("the MMIO region is not at 0")
}

/// Maps the framebuffer in the MMIO region and moves the console there.
fn move_framebuffer(fb: &boot::FramebufferInfo, shown: bool) {
    // SAFETY: the framebuffer GRUB reported is device memory (the firmware
    // keeps it out of the usable areas of the memory map).
    let base = match unsafe { memory::map_device(fb.range()) } {
        Ok(base) => base,
        Err(err) => {
            warn!("framebuffer: cannot map it: {err}; the screen stays as it is");
            return;
        }
    };
    let base = base_pointer(base);
    if shown {
        // SAFETY: the framebuffer is mapped at `base` from now on.
        unsafe { console::move_screen(base) };
        memory::unmap_boot_data(fb.range());
    } else {
        // SAFETY: as above.
        match unsafe { console::enable_framebuffer(fb, base) } {
            Ok((columns, rows)) => info!("framebuffer console: {columns}x{rows} characters"),
            Err(err) => warn!("framebuffer: {err}; no screen console"),
        }
    }
}

/// Starts the frame allocator and switches to the kernel's own page table,
/// then starts the heap.
fn init_memory(boot: &'static BootInfo<'static>) {
    let vga = vga_range();
    // The early screen stays in the boot data region until move_screen.
    let framebuffer = rgb_framebuffer(boot).map_or(vga, |fb| fb.range());
    let layout = memory::BootMemory {
        regions: boot.memory_regions(),
        kernel_sections: boot.kernel_sections(),
        kernel: boot.kernel,
        // Every module, read from the boot information as it is used: none
        // may be handed out as free memory, however many there are.
        keep_read_only: core::iter::once(boot.info).chain(boot.modules().map(|m| m.range)),
        devices: &[vga, framebuffer],
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

/// The words of the ready line that tell the boot is done; the tools wait
/// for them (tools/facts.py reads this definition).
pub const READY_TEXT: &str = " is up in ";

/// Logs the boot log's last line: the kernel is up, how long init took, and
/// how much memory it manages.
pub fn log_ready(boot: &BootInfo<'_>) {
    let init = time::since_boot();
    info!(
        "Pyrite {VERSION}{READY_TEXT}{}.{} ms; {} usable",
        init.as_millis(),
        init.subsec_micros() % 1000 / 100,
        units::ByteSize(boot.usable_bytes())
    );
}
