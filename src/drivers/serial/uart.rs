//! The 16550 UART's registers, and the few sequences Pyrite needs: set-up
//! without losing input that already arrived, and non-blocking transmit and
//! receive. No function here waits for the line.

use x86_64::instructions::port::Port;

/// Register offsets from the base port (DLAB clear unless noted).
mod reg {
    /// Receive buffer (read) / transmit holding register (write);
    /// divisor latch low with DLAB set.
    pub const DATA: u16 = 0;
    /// Interrupt enable; divisor latch high with DLAB set.
    pub const IER: u16 = 1;
    /// Interrupt identification (read) / FIFO control (write).
    pub const IIR_FCR: u16 = 2;
    /// Line control.
    pub const LCR: u16 = 3;
    /// Modem control.
    pub const MCR: u16 = 4;
    /// Line status.
    pub const LSR: u16 = 5;
    /// Modem status.
    pub const MSR: u16 = 6;
    /// Scratch: no function, used to see whether a UART answers.
    pub const SCRATCH: u16 = 7;
}

/// IER: received data available.
pub const IER_RX: u8 = 1 << 0;
/// IER: transmit holding register empty (ETBEI).
pub const IER_THRE: u8 = 1 << 1;

const LCR_8N1: u8 = 0x03;
const LCR_DLAB: u8 = 0x80;
/// FCR: FIFOs on, both cleared, receive interrupt at 14 bytes.
const FCR_ENABLE_AND_CLEAR: u8 = 0xC7;
/// MCR: DTR and RTS (we are here and ready), OUT2 (routes the interrupt
/// to the PIC on PCs).
const MCR_DTR_RTS_OUT2: u8 = 0x0B;
const LSR_DATA_READY: u8 = 1 << 0;
/// Transmit holding register (or the whole transmit FIFO) empty.
const LSR_THRE: u8 = 1 << 5;
/// The 1.8432 MHz clock divided by 16: divisor 1 is 115200 baud.
const DIVISOR_115200: u16 = 1;

/// How many bytes the transmitter takes at once when THRE is set.
const FIFO_DEPTH: usize = 16;
/// Bytes a receive FIFO holds at most (plus the holding register).
const RX_PENDING_MAX: usize = FIFO_DEPTH + 1;

/// What the interrupt identification register says is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Nothing: the interrupt line is low.
    Nothing,
    /// Received bytes (or a receive timeout with bytes in the FIFO).
    Received,
    /// The transmitter wants bytes (cleared by reading IIR, which this did).
    TransmitterEmpty,
    /// A line status event (cleared by reading LSR).
    LineStatus,
    /// A modem status change (cleared by reading MSR).
    ModemStatus,
}

/// Why [`Uart::init`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// Nothing answered at the base port.
    NotPresent,
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotPresent => f.write_str("no UART answers"),
        }
    }
}

/// A configured 16550 at a base port.
pub struct Uart {
    base: u16,
    /// Bytes per transmit burst: 16 with a working FIFO, 1 on a 16450.
    burst: usize,
}

impl Uart {
    fn read(&self, offset: u16) -> u8 {
        // SAFETY: the caller of `init` promised the registers are this
        // UART's and no one else's; reading them has no effect on memory.
        unsafe { Port::<u8>::new(self.base + offset).read() }
    }

    fn write(&self, offset: u16, value: u8) {
        // SAFETY: as for `read`; writes only configure the UART.
        unsafe { Port::<u8>::new(self.base + offset).write(value) }
    }

    /// The UART at `base` as it is, not configured again: for sending the
    /// last bytes of a kernel whose driver state cannot be trusted. One
    /// byte per burst, which is right whatever the FIFO's state.
    ///
    /// # Safety
    /// As for [`Uart::init`]; besides, nothing else may drive the UART
    /// while this handle is used.
    pub unsafe fn as_found(base: u16) -> Self {
        Self { base, burst: 1 }
    }

    /// Finds and configures the UART at `base`: 115200 8N1, FIFOs on,
    /// device interrupts off. Bytes received before this call (a key
    /// pressed on a terminal while the machine booted) are handed to
    /// `received` before the FIFO reset would discard them.
    ///
    /// Never waits for the line: a transmitter left busy by the firmware
    /// on a stalled line does not hold up the boot.
    ///
    /// # Safety
    /// `base..base + 8` must be a 16550's registers (or nothing), and this
    /// must be their only user.
    pub unsafe fn init(base: u16, mut received: impl FnMut(u8)) -> Result<Self, InitError> {
        let mut uart = Self { base, burst: 1 };
        let scratch = uart.read(reg::SCRATCH);
        let answers = [0x42, 0x73].iter().all(|&pattern| {
            uart.write(reg::SCRATCH, pattern);
            uart.read(reg::SCRATCH) == pattern
        });
        uart.write(reg::SCRATCH, scratch);
        if !answers {
            return Err(InitError::NotPresent);
        }
        uart.write(reg::IER, 0);
        let [low, high] = DIVISOR_115200.to_le_bytes();
        uart.write(reg::LCR, LCR_DLAB);
        uart.write(reg::DATA, low);
        uart.write(reg::IER, high);
        uart.write(reg::LCR, LCR_8N1);
        // What arrived before us (a key pressed while the machine booted)
        // would be lost to the FIFO reset, which turning the FIFO on always
        // does: take it right before. A byte that lands between these two
        // instructions (a terminal sending a stream just then) is still
        // lost; the hardware gives no way to switch without that window.
        uart.take_received(RX_PENDING_MAX, &mut received);
        uart.write(reg::IIR_FCR, FCR_ENABLE_AND_CLEAR);
        // IIR bits 7:6 read 11 when the FIFOs really are on (a 16550A).
        if uart.read(reg::IIR_FCR) & 0xC0 == 0xC0 {
            uart.burst = FIFO_DEPTH;
        }
        uart.write(reg::MCR, MCR_DTR_RTS_OUT2);
        // Clear stale status; keep any byte that came in meanwhile.
        let _ = uart.read(reg::LSR);
        let _ = uart.read(reg::MSR);
        uart.take_received(RX_PENDING_MAX, &mut received);
        Ok(uart)
    }

    /// Sets the interrupt enable register. Enabling [`IER_THRE`] while the
    /// transmitter is empty raises that interrupt at once.
    pub fn set_interrupts(&self, ier: u8) {
        self.write(reg::IER, ier);
    }

    /// Reads up to `max` received bytes into `received`; returns how many.
    pub fn take_received(&self, max: usize, mut received: impl FnMut(u8)) -> usize {
        let mut count = 0;
        while count < max && self.read(reg::LSR) & LSR_DATA_READY != 0 {
            received(self.read(reg::DATA));
            count += 1;
        }
        count
    }

    /// Whether the transmitter takes a burst of bytes now.
    pub fn can_send(&self) -> bool {
        self.read(reg::LSR) & LSR_THRE != 0
    }

    /// Bytes one burst may hold once [`can_send`](Self::can_send) is true.
    pub fn burst(&self) -> usize {
        self.burst
    }

    /// Writes one byte to the transmitter; only after `can_send`, at most
    /// `burst` bytes per time it said so.
    pub fn send(&self, byte: u8) {
        self.write(reg::DATA, byte);
    }

    /// Reads the interrupt identification register (which clears a pending
    /// transmitter-empty interrupt) and, for status events, the register
    /// that clears them.
    pub fn pending(&self) -> Pending {
        let iir = self.read(reg::IIR_FCR);
        if iir & 1 != 0 {
            return Pending::Nothing;
        }
        match (iir >> 1) & 0b111 {
            0b001 => Pending::TransmitterEmpty,
            0b010 | 0b110 => Pending::Received,
            0b011 => {
                let _ = self.read(reg::LSR);
                Pending::LineStatus
            }
            _ => {
                let _ = self.read(reg::MSR);
                Pending::ModemStatus
            }
        }
    }
}
