//! USB: xHCI host controllers ([`xhci`]), descriptors ([`descriptor`]) and
//! boot keyboards ([`hid`]), run by one task ([`run`]) that drains every
//! controller's event ring.
//!
//! A controller with MSI-X or MSI wakes the task through [`on_interrupt`];
//! the task then sleeps only until a held key's next repeat, or for the
//! slow safety poll ([`SAFETY_POLL`]). A controller without (8259 mode, no
//! capability) is polled every [`POLL_PERIOD`].

pub mod descriptor;
pub mod hid;
pub mod signal;
pub mod xhci;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;

use futures_util::future::select;
use futures_util::pin_mut;
use spin::Mutex;

use self::xhci::Controller;
use crate::drivers::pci::{self, Bdf};
use crate::task::timer::sleep;

/// How often the event rings of controllers without interrupts are looked
/// at: a key reaches the shell within about two periods.
pub const POLL_PERIOD: Duration = Duration::from_millis(4);

/// How often the task looks at controllers that do interrupt. A controller
/// error (USBSTS HSE or HCE) raises no interrupt of its own, and a lost
/// message would otherwise leave events waiting until the next key; once a
/// second finds both, for one timer interrupt a second.
pub const SAFETY_POLL: Duration = Duration::from_secs(1);

/// PCI class, sub-class and interface of an xHCI controller.
const XHCI_CLASS: (u8, u8, u8) = (0x0C, 0x03, 0x30);

/// Raised when a controller has events for the task.
static EVENTS: signal::Signal = signal::Signal::new();

/// Wakes the USB task to handle its controllers' events now. For an
/// interrupt handler: never blocks, never allocates.
pub fn on_interrupt() {
    EVENTS.raise();
}

/// How long boot waits for the controllers and the devices on them to be
/// found, so that they show in the boot log before the ready line.
pub const BOOT_WAIT: Duration = Duration::from_secs(2);

/// Set once the controllers have started and their ports were looked at.
static SETTLED: AtomicBool = AtomicBool::new(false);

/// Whether the controllers found at boot have started and the devices
/// present at boot were enumerated (or failed to be).
pub fn settled() -> bool {
    SETTLED.load(Ordering::Acquire)
}

/// What `lsusb` prints, refreshed by the USB task after each change.
static LSUSB: Mutex<String> = Mutex::new(String::new());

/// Prints the controllers, ports and devices.
pub fn print_lsusb() {
    let text = LSUSB.lock().clone();
    if text.is_empty() {
        crate::println!("no xHCI controller running (the boot log says why)");
    } else {
        crate::print!("{text}");
    }
}

/// The USB task: starts every xHCI controller found on PCI, then polls.
pub async fn run() {
    let mut controllers: Vec<Controller> = Vec::new();
    let found: Vec<_> = pci::functions()
        .into_iter()
        .filter(|f| f.is(XHCI_CLASS.0, XHCI_CLASS.1, XHCI_CLASS.2))
        .collect();
    for function in &found {
        match Controller::start(function).await {
            Ok(controller) => {
                pci::bind(function.address, "xhci");
                log::info!(
                    "usb {}: xHCI {:04x}:{:04x} running, {} ports",
                    Bdf(function.address),
                    function.vendor,
                    function.device,
                    controller.ports
                );
                log::info!("xhci {}: {}", Bdf(function.address), controller.delivery);
                controllers.push(controller);
            }
            Err(err) => log::error!(
                "usb {}: xHCI controller not started: {err}; PS/2 and serial input stay",
                Bdf(function.address)
            ),
        }
    }
    match found.len() {
        0 => log::info!("usb: no xHCI controller"),
        n => log::info!("usb: {} of {n} xHCI controllers running", controllers.len()),
    }
    if controllers.is_empty() {
        SETTLED.store(true, Ordering::Release);
        return;
    }
    let mut last = (u64::MAX, 0);
    loop {
        let mut changed = false;
        for controller in controllers.iter_mut().filter(|c| !c.failed) {
            controller.poll();
            if controller.has_pending_ports() {
                controller.service_ports().await;
                changed = true;
            }
            controller.repeat_keys();
        }
        // The listing shows report counts: refresh it when they move too.
        let reports = controllers.iter().map(Controller::reports_received).sum();
        let failed = controllers.iter().filter(|c| c.failed).count();
        if changed || (reports, failed) != last {
            *LSUSB.lock() = describe(&controllers);
            last = (reports, failed);
        }
        SETTLED.store(true, Ordering::Release);
        let (poll, events) = (sleep(next_look(&controllers)), EVENTS.wait());
        pin_mut!(poll, events);
        select(poll, events).await;
    }
}

/// How long the task may sleep before it must look again without being
/// woken: a polled controller's period, else until the next key repeat or
/// the safety poll, whichever comes first.
fn next_look(controllers: &[Controller]) -> Duration {
    let running = controllers.iter().filter(|c| !c.failed);
    if running.clone().any(|c| c.delivery.polled()) {
        return POLL_PERIOD;
    }
    let now = crate::time::since_boot();
    running
        .filter_map(Controller::next_repeat)
        .map(|due| due.saturating_sub(now))
        .fold(SAFETY_POLL, Duration::min)
}

fn describe(controllers: &[Controller]) -> String {
    let mut out = String::new();
    for c in controllers {
        let _ = writeln!(
            out,
            "controller {} xHCI {:04x}:{:04x}, {} ports, {}{}{}",
            Bdf(c.address),
            c.id.0,
            c.id.1,
            c.ports,
            c.delivery,
            c.delivery
                .taken()
                .map_or(String::new(), |n| alloc::format!(" ({n} taken)")),
            if c.failed {
                ", stopped by a controller error"
            } else {
                ""
            }
        );
        for port in 1..=c.ports {
            let device = c.devices.iter().flatten().find(|d| d.port == port);
            let connected = c.port_status(port) & 1 != 0;
            let _ = write!(out, "  port {port} (USB {}): ", c.port_version(port));
            match (device, connected) {
                (Some(d), _) => {
                    let _ = write!(
                        out,
                        "slot {} device {:04x}:{:04x} class {:02x}, {}",
                        d.slot,
                        d.descriptor.vendor,
                        d.descriptor.product,
                        d.descriptor.class,
                        xhci::device::speed_name(d.speed),
                    );
                    match &d.keyboard {
                        Some(k) => {
                            let _ = writeln!(out, ", keyboard ({} reports)", k.received);
                        }
                        None => out.push('\n'),
                    }
                }
                (None, true) => out.push_str("connected, not usable\n"),
                (None, false) => out.push_str("empty\n"),
            }
        }
    }
    out
}
