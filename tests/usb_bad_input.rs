//! The xHCI driver against controllers that misbehave, imitated by a frame
//! of RAM posing as the register block: one that never leaves "not ready",
//! one whose firmware never lets go and whose reset never ends. Each must
//! end in a clear error within the driver's time bound, and the kernel
//! must go on.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::time::Duration;

use pci_types::{HeaderType, PciAddress};
use pyrite::drivers::pci::{Bar, PciFunction};
use pyrite::drivers::usb::xhci::{Controller, XhciError};
use pyrite::memory::dma::{self, DmaPage};
use pyrite::task::executor::{self, Executor};
use pyrite::task::timer;
use pyrite::{println, time};
use spin::Mutex;

pyrite::test_kernel!(
    a_controller_that_stays_not_ready_times_out,
    firmware_that_keeps_the_controller_is_overruled_and_a_stuck_reset_times_out,
);

const USBSTS_NOT_READY: u32 = 1 << 11;
const USBSTS_HALTED: u32 = 1 << 0;
const LEGACY_CAP: usize = 0x100;

/// A fake register block: capability registers at 0, operational at 0x20,
/// runtime at 0x600, doorbells at 0x800, and (if `legacy`) a USB legacy
/// support capability owned by the firmware at 0x100.
fn fake_controller(usbsts: u32, legacy: bool) -> (DmaPage, PciFunction) {
    let page = dma::allocate().expect("a frame for the fake registers");
    let regs = page.virt().as_mut_ptr::<u32>();
    let write = |offset: usize, value: u32| {
        // SAFETY: offsets below 4096 in the test's own frame.
        unsafe { regs.add(offset / 4).write_volatile(value) }
    };
    write(0x00, 0x0100_0020); // CAPLENGTH 0x20, version 1.0
    write(0x04, 0x0200_0108); // 8 slots, 1 interrupter, 2 ports
    write(
        0x10,
        if legacy {
            (LEGACY_CAP as u32 / 4) << 16
        } else {
            0
        },
    );
    write(0x14, 0x800);
    write(0x18, 0x600);
    write(0x24, usbsts);
    if legacy {
        write(LEGACY_CAP, 1 << 16 | 1); // capability 1, BIOS owned
    }
    let function = PciFunction {
        // A function no machine here has: configuration writes go nowhere.
        address: PciAddress::new(0, 0xFE, 31, 7),
        vendor: 0x1234,
        device: 0x5678,
        class: 0x0C,
        subclass: 0x03,
        interface: 0x30,
        header_type: HeaderType::Endpoint,
        bars: [
            Some(Bar::Memory {
                base: page.phys(),
                size: 0x1000,
                wide: false,
                prefetchable: false,
            }),
            None,
            None,
            None,
            None,
            None,
        ],
        driver: None,
    };
    (page, function)
}

/// Starts the controller in a task; returns its error and how long it took.
fn start(function: PciFunction) -> (XhciError, Duration) {
    let result = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&result);
    let mut executor = Executor::new();
    executor::spawn("timers", timer::run_timers()).unwrap();
    let began = time::since_boot();
    executor::spawn("start", async move {
        let outcome = Controller::start(&function).await.map(|_| ()).err();
        *slot.lock() = Some(outcome);
    })
    .unwrap();
    executor.run_until(|| result.lock().is_some());
    let error = result
        .lock()
        .take()
        .unwrap()
        .expect("the fake controller started");
    (error, time::since_boot() - began)
}

fn a_controller_that_stays_not_ready_times_out() {
    let (_page, function) = fake_controller(USBSTS_NOT_READY, false);
    let (error, took) = start(function);
    println!("  {error} after {} ms", took.as_millis());
    assert_eq!(
        error,
        XhciError::Timeout("the controller to be ready (CNR)")
    );
    assert!(
        took >= Duration::from_millis(900),
        "gave up too early: {took:?}"
    );
    assert!(took < Duration::from_secs(3), "waited too long: {took:?}");
}

fn firmware_that_keeps_the_controller_is_overruled_and_a_stuck_reset_times_out() {
    // Halted, ready; the RAM keeps the reset bit the driver writes, as a
    // controller whose reset never ends would.
    let (page, function) = fake_controller(USBSTS_HALTED, true);
    let (error, took) = start(function);
    println!("  {error} after {} ms", took.as_millis());
    assert_eq!(error, XhciError::Timeout("the reset to finish (HCRST)"));
    // One second for the firmware, one for the reset.
    assert!(
        took >= Duration::from_millis(1800),
        "gave up too early: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "waited too long: {took:?}");
    // SAFETY: the test's own frame.
    let legacy = unsafe {
        page.virt()
            .as_ptr::<u32>()
            .add(LEGACY_CAP / 4)
            .read_volatile()
    };
    assert_eq!(
        legacy & (1 << 24),
        1 << 24,
        "the OS did not claim the controller"
    );
    assert_eq!(
        legacy & (1 << 16),
        0,
        "the firmware's claim was not overruled"
    );
}
