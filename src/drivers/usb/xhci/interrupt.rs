//! Interrupter 0 by MSI-X or MSI: a vector taken for the controllers, the
//! message programmed through PCI, moderation set, and a handler that only
//! acknowledges and wakes the USB task. The task drains the event ring; the
//! handler never touches a ring.
//!
//! Without the local APIC (8259 mode, where no message reaches a CPU) or
//! without either capability, the controller is polled instead; the boot
//! log and `lsusb` say which ([`Delivery`]).

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::VirtAddr;

use super::regs::*;
use crate::drivers::pci::msi::{self, MsiKind};
use crate::drivers::pci::{self, PciFunction};
use crate::interrupts::apic::local;
use crate::interrupts::irq::{self, Mode};

/// Controllers whose interrupter the handler acknowledges.
const MAX_CONTROLLERS: usize = 8;

/// Interrupter 0's register set of each controller taking interrupts
/// (virtual addresses; 0 is an empty slot). Written once per controller,
/// before its interrupts are enabled; read by the handler.
static INTERRUPTERS: [AtomicU64; MAX_CONTROLLERS] = [const { AtomicU64::new(0) }; MAX_CONTROLLERS];

/// IMOD interval in 250 ns units: 160 is 40 µs. It bounds the rate at
/// 25 000 interrupts a second under an event flood and adds at most 40 µs
/// to a key press (xHCI 1.2, 5.5.2.2).
const MODERATION: u32 = 160;

/// How a controller's events reach the USB task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// By this kind of message on this vector.
    Interrupts(MsiKind, u8),
    /// By polling, for this reason.
    Polled(&'static str),
}

impl Delivery {
    /// Whether the task must poll this controller on a timer.
    pub fn polled(self) -> bool {
        matches!(self, Self::Polled(_))
    }

    /// Interrupts taken on its vector since boot, if it interrupts.
    pub fn taken(self) -> Option<u64> {
        match self {
            Self::Interrupts(_, vector) => Some(irq::vector_count(vector)),
            Self::Polled(_) => None,
        }
    }
}

impl fmt::Display for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Interrupts(kind, vector) => write!(f, "interrupts by {kind} vector {vector:#x}"),
            Self::Polled(why) => write!(
                f,
                "polled every {} ms ({why})",
                super::super::POLL_PERIOD.as_millis()
            ),
        }
    }
}

/// The handler of every controller's vector: acknowledges each
/// interrupter with its pending bit set and wakes the USB task.
fn on_interrupt() {
    for slot in &INTERRUPTERS {
        let at = slot.load(Ordering::Acquire);
        if at == 0 {
            continue;
        }
        let iman = VirtAddr::new(at).as_mut_ptr::<u32>();
        // SAFETY: `set_up` stored the address of a mapped interrupter
        // register set, mapped for the kernel's run; IMAN is its first
        // dword. IP is write-1-to-clear; IE is written back as set.
        unsafe {
            let value = iman.read_volatile();
            if value & IMAN_PENDING != 0 {
                iman.write_volatile(IMAN_ENABLE | IMAN_PENDING);
            }
        }
    }
    crate::drivers::usb::on_interrupt();
}

/// Chooses how the controller at `function` delivers its events and sets
/// it up: moderation, a vector, the message, then IMAN.IE and USBCMD.INTE.
/// Call before the controller runs, from the USB task only (one controller
/// at a time, so a free slot found stays free until it is filled).
pub fn set_up(function: &PciFunction, op: Mmio, interrupter: Mmio) -> Delivery {
    if irq::mode() == Mode::Pic {
        return Delivery::Polled("no MSI in PIC mode");
    }
    let Some(lapic) = local::get() else {
        return Delivery::Polled("no local APIC");
    };
    let access = pci::access();
    let address = function.address;
    let has_msi = msi::find(&access, address, msi::CAP_MSIX).is_some()
        || msi::find(&access, address, msi::CAP_MSI).is_some();
    if !has_msi {
        return Delivery::Polled("no MSI or MSI-X capability");
    }
    let Some(slot) = INTERRUPTERS.iter().find(|s| s.load(Ordering::Acquire) == 0) else {
        return Delivery::Polled("too many controllers for interrupts");
    };
    let vector = match irq::register_free_vector(on_interrupt) {
        Ok(vector) => vector,
        Err(err) => {
            log::warn!("xhci {}: {err}", pci::Bdf(address));
            return Delivery::Polled("no free vector");
        }
    };
    interrupter.write(IMOD, MODERATION);
    interrupter.write(IMAN, IMAN_PENDING);
    slot.store(interrupter.base().as_u64(), Ordering::Release);
    match msi::enable(&access, function, lapic.id(), vector) {
        Ok(kind) => {
            interrupter.write(IMAN, IMAN_ENABLE | IMAN_PENDING);
            op.write(USBCMD, op.read(USBCMD) | CMD_INTERRUPTS);
            Delivery::Interrupts(kind, vector)
        }
        Err(err) => {
            // The vector stays taken (vectors are never given back); its
            // handler finds nothing pending on this controller.
            slot.store(0, Ordering::Release);
            log::warn!("xhci {}: {err}", pci::Bdf(address));
            Delivery::Polled("MSI could not be set up")
        }
    }
}
