//! COM1, the 16550 UART at I/O port 0x3F8, run at 115200 baud 8N1.
//!
//! The serial port is the first console to come up, so even a crash in the
//! screen code is visible. If no UART answers (many laptops have none), the
//! port is left off and writes are dropped: the kernel never waits for a
//! device that is not there.

use core::fmt;

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::{BaudRate, Config, InitError, Uart16550};

/// Base I/O port of COM1.
const COM1_BASE: u16 = 0x3F8;

/// A serial port that may be absent.
pub struct SerialPort {
    uart: Option<Uart16550<PioBackend>>,
}

/// COM1. Lock it only with interrupts disabled (the console does so).
pub static COM1: Mutex<SerialPort> = Mutex::new(SerialPort { uart: None });

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
