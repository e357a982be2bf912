//! The kernel's entry point: `long_mode_init.asm` calls [`kernel_main`] with
//! the physical address of the Multiboot2 boot information. This file is the
//! init sequence and nothing else.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use core::future::Future;

use pyrite::drivers::usb;
use pyrite::task::executor::{self, Executor};
use pyrite::task::{shell, timer};

/// The Rust entry point, called once on the boot stack.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
    let boot_info = pyrite::init(multiboot_info_addr);
    // From here the boot stack's code is a thread: the executor's.
    if let Err(err) = pyrite::sched::init("executor") {
        pyrite::panic::fatal(format_args!("cannot start the scheduler: {err}"));
    }
    let mut executor = Executor::new();
    spawn_or_die("timers", timer::run_timers());
    spawn_or_die("input-drops", shell::watch_input_drops());
    spawn_or_die("usb", usb::run());
    // USB controllers and the devices on them go in the boot log, before
    // the ready line; a slow one is waited for a bounded time only.
    let deadline = pyrite::time::since_boot() + usb::BOOT_WAIT;
    executor.run_until(|| usb::settled() || pyrite::time::since_boot() >= deadline);
    pyrite::log_ready(boot_info);
    spawn_or_die("shell", shell::run());
    executor.run()
}

fn spawn_or_die(name: &'static str, future: impl Future<Output = ()> + Send + 'static) {
    if let Err(err) = executor::spawn(name, future) {
        pyrite::panic::fatal(format_args!("cannot start {name}: {err}"));
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    pyrite::panic::kernel_panic(info)
}
