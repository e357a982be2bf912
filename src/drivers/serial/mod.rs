//! COM1, the 16550 UART at I/O port 0x3F8, run at 115200 baud 8N1.
//!
//! The serial port is the first console to come up, so even a crash in the
//! screen code is visible. If no UART answers (many laptops have none), the
//! port is left off and writes are dropped: the kernel never waits for a
//! device that is not there.
//!
//! Output never waits for the line with interrupts off. Text goes into a
//! fixed ring ([`output::OutputRing`]); whenever the transmitter is empty
//! the writer hands it a FIFO's worth, and the transmitter-empty interrupt
//! hands it the next. A line that stops taking bytes (a terminal that does
//! not read, flow control) fills the ring; further output is dropped and
//! counted, and a notice follows when the line drains. Until interrupts
//! are on, and in last words (panics, fatal faults), the ring is drained
//! by polling, with a bounded wait: the first wait that times out marks the
//! line stalled, and later writes only look at the line status.

mod output;
mod uart;

use core::fmt;

use futures_util::task::AtomicWaker;
use spin::Mutex;

pub use uart::InitError;
use uart::{IER_RX, IER_THRE, Pending, Uart};

use crate::queue::ByteQueue;
use output::OutputRing;

/// Base I/O port of COM1.
const COM1_BASE: u16 = 0x3F8;
/// Output waiting for the line: 8 KiB is 0.7 s of text at 115200 baud.
const OUTPUT_BYTES: usize = 8192;
/// Line status reads a polled write waits for the transmitter: about 20 ms
/// on real hardware (an ISA port read takes about a microsecond), well
/// beyond the 1.4 ms a full FIFO takes at 115200 baud.
const POLL_LIMIT: u32 = 20_000;
/// Interrupt causes handled per COM1 interrupt, at most.
const CAUSES_PER_INTERRUPT: usize = 8;

/// How output reaches the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No interrupts yet (boot) or no more (last words): polled, bounded.
    Polled,
    /// The transmitter-empty interrupt drains the ring.
    Interrupts,
}

/// A serial port that may be absent, with its pending output.
pub struct SerialPort {
    uart: Option<Uart>,
    out: OutputRing<OUTPUT_BYTES>,
    mode: Mode,
    /// A polled wait timed out and the transmitter has not been seen empty
    /// since: polled writes stop waiting.
    stalled: bool,
}

/// COM1. Lock it only with interrupts disabled (the console does so).
pub static COM1: Mutex<SerialPort> = Mutex::new(SerialPort {
    uart: None,
    out: OutputRing::new(),
    mode: Mode::Polled,
    stalled: false,
});

/// Bytes received on COM1, oldest first. Full: new bytes are dropped and
/// counted.
pub static INPUT: ByteQueue<1024> = ByteQueue::new();
/// Woken when bytes arrive in [`INPUT`].
pub static INPUT_WAKER: AtomicWaker = AtomicWaker::new();

fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    x86_64::instructions::interrupts::without_interrupts(f)
}

/// Detects and configures COM1. Until this succeeds, writes are dropped.
/// Bytes typed before it (during the boot) are kept in [`INPUT`].
pub fn init() -> Result<(), InitError> {
    // SAFETY: 0x3F8..0x3FF are COM1's registers on every PC, and this module
    // is the only code that touches them (emergency_write aside, which runs
    // only when the rest of the kernel is stopped).
    let uart = unsafe {
        Uart::init(COM1_BASE, |byte| {
            let _ = INPUT.push(byte);
        })
    }?;
    without_interrupts(|| COM1.lock().uart = Some(uart));
    Ok(())
}

/// Turns on the receive and transmitter-empty interrupts (COM1 is IRQ 4):
/// from now on output is interrupt-driven. Returns false if there is no
/// UART.
pub fn enable_interrupts() -> bool {
    without_interrupts(|| {
        let mut port = COM1.lock();
        let Some(uart) = port.uart.as_ref() else {
            return false;
        };
        uart.set_interrupts(IER_RX | IER_THRE);
        port.mode = Mode::Interrupts;
        port.pump();
        true
    })
}

/// The COM1 interrupt: move every received byte into [`INPUT`], feed the
/// transmitter from the ring, and clear every cause so the (edge-triggered)
/// line can rise again. Never blocks: the main code takes the COM1 lock
/// only with interrupts off.
pub fn on_interrupt() {
    let mut port = COM1.lock();
    let mut received = 0;
    if let Some(uart) = port.uart.as_ref() {
        for _ in 0..CAUSES_PER_INTERRUPT {
            match uart.pending() {
                Pending::Nothing => break,
                Pending::Received => {
                    received += uart.take_received(INPUT.capacity(), |b| {
                        let _ = INPUT.push(b);
                    })
                }
                Pending::TransmitterEmpty | Pending::LineStatus | Pending::ModemStatus => {}
            }
        }
        // Bytes that arrived without an interrupt of their own (the line
        // was masked at the PIC) are taken here too.
        received += uart.take_received(INPUT.capacity(), |b| {
            let _ = INPUT.push(b);
        });
    }
    port.fill_transmitter();
    drop(port);
    if received > 0 {
        INPUT_WAKER.wake();
    }
}

/// Output bytes dropped since boot because the line was stalled, and the
/// size of the output ring.
pub fn output_dropped() -> (u64, usize) {
    without_interrupts(|| {
        let port = COM1.lock();
        (port.out.dropped(), port.out.capacity())
    })
}

/// Sends what the ring holds by polling, with the usual bounded wait, and
/// polls from now on: for a kernel about to stop (panic or fault reports,
/// a test kernel's exit), whose interrupts will not come. Call it with
/// interrupts off. If the COM1 lock is held (a fault struck inside the
/// driver and nothing freed the lock), does nothing rather than wait.
pub fn enter_last_words() {
    let Some(mut port) = COM1.try_lock() else {
        return;
    };
    port.mode = Mode::Polled;
    // One more chance for a line that stalled earlier.
    port.stalled = false;
    port.pump();
}

/// Writes `bytes` to COM1 without the lock or the driver's state, polling
/// the transmitter: for the last words of a kernel whose console is broken.
/// Gives up at the first wait that times out.
///
/// # Safety
/// The rest of the kernel must be stopped (interrupts off, this the only
/// CPU running kernel code), so nothing else drives the port.
pub unsafe fn emergency_write(bytes: &[u8]) {
    // SAFETY: COM1's registers; the caller promised nothing else uses them.
    let uart = unsafe { Uart::as_found(COM1_BASE) };
    for &byte in bytes {
        // One bounded wait for the whole message: a transmitter that did
        // not empty once will not for the next byte either.
        if !wait_to_send(&uart) {
            return;
        }
        uart.send(byte);
    }
}

/// Waits, at most [`POLL_LIMIT`] status reads, until `uart` takes a burst.
/// False if it did not.
fn wait_to_send(uart: &Uart) -> bool {
    (0..POLL_LIMIT).any(|_| uart.can_send())
}

impl SerialPort {
    /// Whether a UART was found and configured.
    pub fn is_present(&self) -> bool {
        self.uart.is_some()
    }

    /// Queues raw bytes and starts sending them; never waits unboundedly.
    /// With no UART the bytes are dropped.
    pub fn send(&mut self, bytes: &[u8]) {
        if self.uart.is_none() {
            return;
        }
        self.out.push(bytes);
        self.pump();
    }

    /// Moves bytes from the ring to the line as the mode allows.
    fn pump(&mut self) {
        match self.mode {
            Mode::Interrupts => self.fill_transmitter(),
            Mode::Polled => self.drain_polled(),
        }
    }

    /// Hands the transmitter bursts while it is empty, without waiting. On
    /// real hardware that is one burst (the next comes with the THRE
    /// interrupt); an emulated line that sends at once takes all.
    fn fill_transmitter(&mut self) {
        let Some(uart) = self.uart.as_ref() else {
            return;
        };
        while !self.out.is_empty() && uart.can_send() {
            self.stalled = false;
            for _ in 0..uart.burst() {
                match self.out.pop() {
                    Some(byte) => uart.send(byte),
                    None => break,
                }
            }
        }
    }

    /// Sends the ring by polling: waits for the transmitter at most
    /// [`POLL_LIMIT`] status reads per burst, and not at all once a wait
    /// has timed out, until the line moves again.
    fn drain_polled(&mut self) {
        loop {
            self.fill_transmitter();
            let Some(uart) = self.uart.as_ref() else {
                return;
            };
            if self.out.is_empty() || self.stalled {
                return;
            }
            if !wait_to_send(uart) {
                self.stalled = true;
                return;
            }
        }
    }
}

impl fmt::Write for SerialPort {
    /// Terminals expect CR LF: every `\n` goes out as `\r\n`.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for (i, line) in s.split('\n').enumerate() {
            if i > 0 {
                self.send(b"\r\n");
            }
            self.send(line.as_bytes());
        }
        Ok(())
    }
}
