//! The 8042 PS/2 controller (ports 0x60 and 0x64) and its first port, the
//! keyboard. The interrupt handler only reads the scancode and queues it
//! ([`SCANCODES`]); decoding happens outside interrupt context.

use core::fmt;

use futures_util::task::AtomicWaker;
use x86_64::instructions::port::Port;

use crate::queue::ByteQueue;

const DATA: u16 = 0x60;
/// Read: status register. Write: controller command.
const STATUS_COMMAND: u16 = 0x64;
const STATUS_OUTPUT_FULL: u8 = 1 << 0;
const STATUS_INPUT_FULL: u8 = 1 << 1;

const CMD_READ_CONFIG: u8 = 0x20;
const CMD_WRITE_CONFIG: u8 = 0x60;
const CMD_DISABLE_PORT2: u8 = 0xA7;
const CMD_DISABLE_PORT1: u8 = 0xAD;
const CMD_ENABLE_PORT1: u8 = 0xAE;
/// Pulses the CPU reset line.
const CMD_RESET_CPU: u8 = 0xFE;

const CONFIG_PORT1_IRQ: u8 = 1 << 0;
const CONFIG_PORT2_IRQ: u8 = 1 << 1;
const CONFIG_PORT1_CLOCK_OFF: u8 = 1 << 4;
/// Translate to scancode set 1, which the decoder expects.
const CONFIG_TRANSLATION: u8 = 1 << 6;

/// Status polls before giving up on the controller.
const MAX_POLLS: u32 = 100_000;
/// Stale bytes drained at most at start.
const MAX_FLUSH: u32 = 64;

/// Scancodes from the keyboard interrupt, oldest first. Full: new scancodes
/// are dropped and counted.
pub static SCANCODES: ByteQueue<256> = ByteQueue::new();
/// Woken when scancodes arrive in [`SCANCODES`].
pub static SCANCODE_WAKER: AtomicWaker = AtomicWaker::new();

/// The controller did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoController;

impl fmt::Display for NoController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no PS/2 controller answered (a USB-only machine, or legacy emulation off)")
    }
}

fn status() -> u8 {
    // SAFETY: reading the 8042 status register has no side effects.
    unsafe { Port::<u8>::new(STATUS_COMMAND).read() }
}

fn wait_input_empty() -> Result<(), NoController> {
    (0..MAX_POLLS)
        .find(|_| status() & STATUS_INPUT_FULL == 0)
        .map(|_| ())
        .ok_or(NoController)
}

fn wait_output_full() -> Result<(), NoController> {
    (0..MAX_POLLS)
        .find(|_| status() & STATUS_OUTPUT_FULL != 0)
        .map(|_| ())
        .ok_or(NoController)
}

fn command(byte: u8) -> Result<(), NoController> {
    wait_input_empty()?;
    // SAFETY: a controller command from the set above; this module owns the port.
    unsafe { Port::<u8>::new(STATUS_COMMAND).write(byte) };
    Ok(())
}

fn write_data(byte: u8) -> Result<(), NoController> {
    wait_input_empty()?;
    // SAFETY: data for the command just sent; this module owns the port.
    unsafe { Port::<u8>::new(DATA).write(byte) };
    Ok(())
}

fn read_data() -> u8 {
    // SAFETY: reading the data port takes one byte from the controller's
    // output buffer; this module owns the port.
    unsafe { Port::<u8>::new(DATA).read() }
}

/// Sets the controller up for the keyboard on port 1: interrupts on,
/// translation to scancode set 1 on, the second port's interrupt off.
/// Call with interrupts off. Every wait is bounded.
pub fn init() -> Result<(), NoController> {
    // A floating bus reads 0xFF: no controller at all.
    if status() == 0xFF {
        return Err(NoController);
    }
    command(CMD_DISABLE_PORT1)?;
    command(CMD_DISABLE_PORT2)?;
    for _ in 0..MAX_FLUSH {
        if status() & STATUS_OUTPUT_FULL == 0 {
            break;
        }
        read_data();
    }
    command(CMD_READ_CONFIG)?;
    wait_output_full()?;
    let config = read_data();
    let config = (config | CONFIG_PORT1_IRQ | CONFIG_TRANSLATION)
        & !(CONFIG_PORT2_IRQ | CONFIG_PORT1_CLOCK_OFF);
    command(CMD_WRITE_CONFIG)?;
    write_data(config)?;
    command(CMD_ENABLE_PORT1)?;
    Ok(())
}

/// The keyboard interrupt (IRQ 1): queue the scancode and wake its reader,
/// nothing more.
pub fn on_interrupt() {
    let scancode = read_data();
    // A full queue drops and counts the scancode: never block here.
    let _ = SCANCODES.push(scancode);
    SCANCODE_WAKER.wake();
}

/// Queues a scancode that is waiting in the controller, if any (for the
/// moment before interrupts are on).
pub fn take_pending() {
    if status() & STATUS_OUTPUT_FULL != 0 {
        on_interrupt();
    }
}

/// Asks the controller to pulse the CPU's reset line (the classic PC
/// reboot). Returns if the controller did not act.
pub fn pulse_reset_line() {
    let _ = command(CMD_RESET_CPU);
}
