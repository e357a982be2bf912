//! Device contexts (xHCI 1.2, 6.2): the input context the driver fills for
//! Address Device, Configure Endpoint and Evaluate Context, with 32- or
//! 64-byte contexts as the controller says (HCCPARAMS1.CSZ).

use crate::memory::dma::DmaPage;

/// Endpoint types (xHCI 1.2, table 6-9).
pub const EP_CONTROL: u32 = 4;
/// Interrupt IN.
pub const EP_INTERRUPT_IN: u32 = 7;

/// An input context being filled, in a zeroed frame.
pub struct InputContext<'a> {
    page: &'a mut DmaPage,
    size: usize,
}

/// What an endpoint context holds.
pub struct Endpoint {
    /// Endpoint type.
    pub kind: u32,
    /// Max packet size.
    pub max_packet: u16,
    /// Interval exponent (periodic endpoints).
    pub interval: u8,
    /// The transfer ring's start (cycle state 1).
    pub ring: u64,
    /// Average TRB length.
    pub average_length: u16,
}

impl<'a> InputContext<'a> {
    /// Clears `page` for a new input context of `size`-byte contexts.
    pub fn new(page: &'a mut DmaPage, size: usize) -> Self {
        page.zero();
        Self { page, size }
    }

    fn write(&mut self, context: usize, dword: usize, value: u32) {
        let offset = context * self.size + dword * 4;
        // SAFETY: at most context 32 of 64 bytes: 2112 bytes, inside the frame.
        unsafe {
            self.page
                .virt()
                .as_mut_ptr::<u8>()
                .add(offset)
                .cast::<u32>()
                .write_volatile(value)
        };
    }

    /// Sets the add flags: bit 0 the slot context, bit n endpoint DCI n.
    pub fn add(&mut self, flags: u32) {
        self.write(0, 1, flags);
    }

    /// The slot context: speed, last valid DCI, root port.
    pub fn slot(&mut self, speed: u8, last_dci: u8, port: u8) {
        self.write(1, 0, u32::from(speed) << 20 | u32::from(last_dci) << 27);
        self.write(1, 1, u32::from(port) << 16);
    }

    /// The context of endpoint `dci`.
    pub fn endpoint(&mut self, dci: u8, ep: &Endpoint) {
        let context = 1 + usize::from(dci);
        self.write(context, 0, u32::from(ep.interval) << 16);
        // Error count 3: retry a failed transaction three times.
        let dword1 = 3 << 1 | ep.kind << 3 | u32::from(ep.max_packet) << 16;
        self.write(context, 1, dword1);
        self.write(context, 2, (ep.ring as u32) | 1);
        self.write(context, 3, (ep.ring >> 32) as u32);
        let esit = if ep.kind == EP_INTERRUPT_IN {
            u32::from(ep.max_packet) << 16
        } else {
            0
        };
        self.write(context, 4, u32::from(ep.average_length) | esit);
    }
}

/// The xHCI Interval field for an interrupt endpoint: 2^n × 125 µs.
/// Full and low speed give bInterval in frames (1 ms), high and super speed
/// an exponent (2^(bInterval-1) microframes).
pub fn interrupt_interval(speed: u8, b_interval: u8) -> u8 {
    match speed {
        1 | 2 => {
            let microframes = u32::from(b_interval.max(1)) * 8;
            (31 - microframes.leading_zeros()).clamp(3, 10) as u8
        }
        _ => b_interval.clamp(1, 16) - 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_in_frames_becomes_an_exponent() {
        // 10 ms at full speed: 80 microframes, 2^6 = 64 is the largest below.
        assert_eq!(interrupt_interval(1, 10), 6);
        assert_eq!(interrupt_interval(1, 1), 3);
        assert_eq!(interrupt_interval(2, 255), 10);
        assert_eq!(interrupt_interval(3, 4), 3);
        assert_eq!(interrupt_interval(4, 0), 0);
    }
}
