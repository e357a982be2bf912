//! The two 8259 PICs, remapped to vectors 32-47 (the `pic8259` crate), with
//! only the lines the kernel handles unmasked (none, when the APIC delivers
//! the interrupts: then they stay masked for good), and recognition of the
//! spurious IRQs 7 and 15.

use core::sync::atomic::{AtomicU64, Ordering};

use pic8259::ChainedPics;
use spin::Mutex;
use x86_64::instructions::port::Port;

/// Vector of IRQ 0.
pub const PIC1_OFFSET: u8 = 32;
/// Vector of IRQ 8.
pub const PIC2_OFFSET: u8 = PIC1_OFFSET + 8;

/// The timer (PIT channel 0).
pub const IRQ_TIMER: u8 = 0;
/// The PS/2 keyboard.
pub const IRQ_KEYBOARD: u8 = 1;
/// The secondary PIC's cascade line.
pub const IRQ_CASCADE: u8 = 2;
/// COM1.
pub const IRQ_COM1: u8 = 4;

const PIC1_COMMAND: u16 = 0x20;
const PIC2_COMMAND: u16 = 0xA0;
const OCW3_READ_ISR: u8 = 0x0B;
const EOI: u8 = 0x20;

static PICS: Mutex<ChainedPics> = Mutex::new(
    // SAFETY: vectors 32-47 do not overlap the CPU exceptions.
    unsafe { ChainedPics::new(PIC1_OFFSET, PIC2_OFFSET) },
);

static SPURIOUS: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

/// Remaps both PICs with every line masked. Call with interrupts off,
/// before the devices are told to raise interrupts: reprogramming a PIC
/// forgets an interrupt already raised (the line would have to fall and
/// rise again).
pub fn init() {
    let mut pics = PICS.lock();
    // SAFETY: the PICs' ports belong to this module; the offsets avoid the
    // exception vectors, and interrupts are off while they are reprogrammed.
    unsafe {
        pics.initialize();
        pics.write_masks(0xFF, 0xFF);
    }
}

/// Unmasks `irqs` (and the cascade line if any is on the second PIC).
pub fn unmask(irqs: &[u8]) {
    let mut pics = PICS.lock();
    // SAFETY: reading and writing the mask registers; the handlers for
    // these lines are installed.
    unsafe {
        let [low, high] = pics.read_masks();
        let mut mask = u16::from(low) | (u16::from(high) << 8);
        for &irq in irqs {
            mask &= !(1 << irq);
        }
        if mask & 0xFF00 != 0xFF00 {
            mask &= !(1 << IRQ_CASCADE);
        }
        pics.write_masks(mask as u8, (mask >> 8) as u8);
    }
}

/// Reads a PIC's in-service register.
fn in_service(command_port: u16) -> u8 {
    let mut port: Port<u8> = Port::new(command_port);
    // SAFETY: OCW3 selects the ISR for the next read of the command port;
    // it changes nothing else.
    unsafe {
        port.write(OCW3_READ_ISR);
        port.read()
    }
}

/// Whether IRQ `irq` (7 or 15) is spurious: the PIC raised it but then
/// found nothing in service. Spurious IRQs are counted and must not get an
/// EOI from their own PIC; a spurious IRQ 15 still needs one to the primary
/// PIC, which did see the cascade.
pub fn is_spurious(irq: u8) -> bool {
    let spurious = match irq {
        7 => in_service(PIC1_COMMAND) & 0x80 == 0,
        15 => {
            let spurious = in_service(PIC2_COMMAND) & 0x80 == 0;
            if spurious {
                let mut port: Port<u8> = Port::new(PIC1_COMMAND);
                // SAFETY: a non-specific EOI to the primary PIC for the cascade.
                unsafe { port.write(EOI) };
            }
            spurious
        }
        _ => false,
    };
    if spurious {
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
    }
    spurious
}

/// Acknowledges IRQ `irq`.
pub fn end_of_interrupt(irq: u8) {
    // SAFETY: called at the end of a real (not spurious) IRQ's handler.
    unsafe { PICS.lock().notify_end_of_interrupt(PIC1_OFFSET + irq) };
}

/// Counts a spurious IRQ recognised elsewhere (a masked 8259's, in APIC
/// mode, where the in-service check does not apply).
pub fn count_spurious() {
    SPURIOUS.fetch_add(1, Ordering::Relaxed);
}

/// Counts an IRQ that no driver handles (it is masked, so it should not come).
pub fn count_unexpected() {
    UNEXPECTED.fetch_add(1, Ordering::Relaxed);
}

/// Spurious IRQs seen so far.
pub fn spurious_count() -> u64 {
    SPURIOUS.load(Ordering::Relaxed)
}

/// Unexpected IRQs and vectors seen so far.
pub fn unexpected_count() -> u64 {
    UNEXPECTED.load(Ordering::Relaxed)
}
