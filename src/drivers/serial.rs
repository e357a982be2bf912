//! COM1, the 16550 UART at I/O port 0x3F8, run at 115200 baud 8N1.
//!
//! The serial port is the first console to come up, so even a crash in the
//! screen code is visible. If no UART answers (many laptops have none), the
//! port is left off and writes are dropped: the kernel never waits for a
//! device that is not there.

use core::fmt;

use futures_util::task::AtomicWaker;
use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::spec::registers::IER;
use uart_16550::{BaudRate, Config, InitError, Uart16550};

use crate::queue::ByteQueue;

/// Base I/O port of COM1.
const COM1_BASE: u16 = 0x3F8;

/// A serial port that may be absent.
pub struct SerialPort {
    uart: Option<Uart16550<PioBackend>>,
}

/// COM1. Lock it only with interrupts disabled (the console does so).
pub static COM1: Mutex<SerialPort> = Mutex::new(SerialPort { uart: None });

/// Bytes received on COM1, oldest first. Full: new bytes are dropped and
/// counted.
pub static INPUT: ByteQueue<1024> = ByteQueue::new();
/// Woken when bytes arrive in [`INPUT`].
pub static INPUT_WAKER: AtomicWaker = AtomicWaker::new();

/// Detects and configures COM1. Until this succeeds, writes are dropped.
pub fn init() -> Result<(), InitError> {
    // SAFETY: 0x3F8..0x3FF are COM1's registers on every PC, and this module
    // is the only code that touches them.
    let mut uart = match unsafe { Uart16550::new_port(COM1_BASE) } {
        Ok(uart) => uart,
        Err(_) => unreachable!("0x3F8 + 8 registers fits in the port space"),
    };
    let config = Config {
        baud_rate: BaudRate::Baud115200,
        ..Config::DEFAULT
    };
    uart.init(config)?;
    x86_64::instructions::interrupts::without_interrupts(|| COM1.lock().uart = Some(uart));
    Ok(())
}

/// Turns on the receive interrupt (COM1 is IRQ 4). Returns false if there
/// is no UART.
pub fn enable_receive_interrupt() -> bool {
    x86_64::instructions::interrupts::without_interrupts(|| match COM1.lock().uart.as_mut() {
        Some(uart) => {
            uart.enable_interrupts(IER::DATA_READY);
            true
        }
        None => false,
    })
}

/// The COM1 interrupt: move every received byte into [`INPUT`] and wake
/// its reader. Never blocks: the main code takes the COM1 lock only with
/// interrupts off.
pub fn on_interrupt() {
    let mut port = COM1.lock();
    if let Some(uart) = port.uart.as_mut() {
        while let Ok(byte) = uart.try_receive_byte() {
            let _ = INPUT.push(byte);
        }
    }
    drop(port);
    INPUT_WAKER.wake();
}

/// Writes `bytes` to COM1 without the lock or the driver, polling the
/// line status register: for the last words of a kernel whose console is
/// broken. Gives up on a byte after a bounded wait.
pub fn emergency_write(bytes: &[u8]) {
    use x86_64::instructions::port::Port;
    let mut data: Port<u8> = Port::new(COM1_BASE);
    let mut status: Port<u8> = Port::new(COM1_BASE + 5);
    for &byte in bytes {
        // SAFETY: COM1's line status and data registers; the rest of the
        // kernel is stopped, so nothing else drives the port.
        unsafe {
            for _ in 0..100_000 {
                if status.read() & 0x20 != 0 {
                    break;
                }
            }
            data.write(byte);
        }
    }
}

impl SerialPort {
    /// Whether a UART was found and configured.
    pub fn is_present(&self) -> bool {
        self.uart.is_some()
    }

    /// Sends raw bytes, waiting for the transmitter as needed.
    pub fn send(&mut self, bytes: &[u8]) {
        if let Some(uart) = self.uart.as_mut() {
            uart.send_bytes_exact(bytes);
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
