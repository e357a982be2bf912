//! [`OutputRing`]: the bytes waiting for COM1's transmitter, and what
//! happens when the line stops taking them.
//!
//! A stalled line (a terminal that stops reading, a cable held by flow
//! control) must never stop the kernel: when the ring is full, output is
//! dropped and counted, and once the line has drained half of the ring a
//! single notice line says how much was lost. Dropping stays on until
//! then, so the gap falls between whole pieces of text instead of leaving
//! a trickle of fragments. Pure logic, unit-tested on the host; the UART
//! driver owns one behind its lock.

use core::fmt::{self, Write};

/// A bounded FIFO of output bytes with drop accounting. Holds up to `N`
/// bytes; never allocates.
pub struct OutputRing<const N: usize> {
    bytes: [u8; N],
    /// Index of the oldest byte.
    head: usize,
    /// Bytes held.
    len: usize,
    /// Bytes dropped since boot.
    dropped_total: u64,
    /// Bytes dropped since the last notice; nonzero while dropping.
    dropped_unreported: u64,
    /// Whether the newest byte held or sent ended a line.
    at_line_start: bool,
}

/// ANSI yellow around the notice, as for any warning on serial.
const NOTICE_START: &str = "\x1b[33m";
const NOTICE_END: &str = "\x1b[0m\r\n";

impl<const N: usize> OutputRing<N> {
    const VALID: () = assert!(N >= 256, "room for the notice and some text");

    /// An empty ring.
    pub const fn new() -> Self {
        let () = Self::VALID;
        Self {
            bytes: [0; N],
            head: 0,
            len: 0,
            dropped_total: 0,
            dropped_unreported: 0,
            at_line_start: true,
        }
    }

    /// Queues `bytes` whole, or drops them whole (and counts them) if they
    /// do not fit or if the ring is still dropping after a stall.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.dropped_unreported > 0 {
            self.maybe_resume();
        }
        if self.dropped_unreported > 0 || bytes.len() > N - self.len {
            self.dropped_unreported += bytes.len() as u64;
            self.dropped_total += bytes.len() as u64;
            return;
        }
        self.store(bytes);
    }

    /// Takes the oldest byte. Freeing room may end a stall: the notice is
    /// then queued behind what is already held.
    pub fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.bytes[self.head];
        self.head = (self.head + 1) % N;
        self.len -= 1;
        if self.dropped_unreported > 0 {
            self.maybe_resume();
        }
        Some(byte)
    }

    /// Whether no byte waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes waiting.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes the ring holds at most.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Bytes dropped since boot because the line was stalled.
    pub fn dropped(&self) -> u64 {
        self.dropped_total
    }

    /// Whether output is being dropped now (a stall not yet reported).
    #[cfg(test)]
    pub fn is_dropping(&self) -> bool {
        self.dropped_unreported > 0
    }

    /// Ends a stall once half the ring is free: queues the notice line.
    fn maybe_resume(&mut self) {
        if N - self.len < N / 2 {
            return;
        }
        let mut notice = Notice {
            buf: [0; 128],
            len: 0,
        };
        if !self.at_line_start {
            notice.push(b"\r\n");
        }
        // A Notice never fails: it truncates (and 128 bytes always suffice).
        let _ = write!(
            notice,
            "{NOTICE_START}serial: {} bytes of output dropped while the line was stalled{NOTICE_END}",
            self.dropped_unreported
        );
        self.dropped_unreported = 0;
        let len = notice.len;
        self.store(&notice.buf[..len]);
    }

    /// Appends bytes known to fit.
    fn store(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.len() <= N - self.len);
        for &byte in bytes {
            self.bytes[(self.head + self.len) % N] = byte;
            self.len += 1;
        }
        if let Some(&last) = bytes.last() {
            self.at_line_start = last == b'\n';
        }
    }
}

impl<const N: usize> Default for OutputRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A small stack buffer to format the notice in (no allocation: the ring
/// may resume inside the UART's interrupt handler).
struct Notice {
    buf: [u8; 128],
    len: usize,
}

impl Notice {
    fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }
}

impl Write for Notice {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn drain<const N: usize>(ring: &mut OutputRing<N>) -> String {
        let bytes: Vec<u8> = core::iter::from_fn(|| ring.pop()).collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn keeps_order_and_wraps_around() {
        let mut ring = OutputRing::<256>::new();
        for round in 0..10 {
            ring.push(std::format!("line {round}\n").as_bytes());
            ring.push(&[b'x'; 200]);
            let out = drain(&mut ring);
            assert!(out.starts_with(&std::format!("line {round}\n")));
            assert_eq!(out.len(), std::format!("line {round}\n").len() + 200);
        }
        assert_eq!(ring.dropped(), 0);
    }

    #[test]
    fn a_full_ring_drops_whole_writes_and_reports_once_the_line_drains() {
        let mut ring = OutputRing::<256>::new();
        ring.push(&[b'a'; 200]);
        ring.push(b"partial line without end ");
        ring.push(&[b'b'; 40]); // does not fit: dropped whole
        assert_eq!(ring.dropped(), 40);
        assert!(ring.is_dropping());
        // While stalled, even small writes that would fit are dropped, so
        // the gap is one piece.
        ring.push(b"z\n");
        assert_eq!(ring.dropped(), 42);
        assert_eq!(ring.len(), 225);
        // The line drains a little: still dropping until half is free.
        for _ in 0..50 {
            ring.pop();
        }
        ring.push(b"q");
        assert_eq!(ring.dropped(), 43);
        // Draining past half queues the notice behind the held text.
        let out = drain(&mut ring);
        assert!(!ring.is_dropping());
        assert!(
            out.ends_with(
                "partial line without end \r\n\x1b[33mserial: 43 bytes of output \
                 dropped while the line was stalled\x1b[0m\r\n"
            ),
            "{out:?}"
        );
        // Output resumes, and the total stays counted.
        ring.push(b"back\n");
        assert_eq!(drain(&mut ring), "back\n");
        assert_eq!(ring.dropped(), 43);
    }

    #[test]
    fn a_write_after_the_line_drained_comes_after_the_notice() {
        let mut ring = OutputRing::<256>::new();
        ring.push(&[b'a'; 255]);
        ring.push(b"lost\n");
        // The transmitter empties the ring without the interrupt path
        // noticing half-way (pops stop exactly at the threshold).
        for _ in 0..126 {
            ring.pop();
        }
        assert!(ring.is_dropping());
        ring.pop();
        assert!(!ring.is_dropping(), "half free: the notice is queued");
        ring.push(b"next\n");
        let out = drain(&mut ring);
        assert!(out.ends_with("stalled\x1b[0m\r\nnext\n"), "{out:?}");
        assert!(out.contains("serial: 5 bytes of output dropped"), "{out:?}");
    }

    #[test]
    fn a_write_larger_than_the_ring_is_dropped_not_split() {
        let mut ring = OutputRing::<256>::new();
        ring.push(&[b'a'; 300]);
        assert_eq!(ring.len(), 0);
        assert_eq!(ring.dropped(), 300);
        // The next write finds the ring empty: the notice, then the write.
        ring.push(b"ok\n");
        let out = drain(&mut ring);
        assert!(out.starts_with("\x1b[33mserial: 300 bytes"), "{out:?}");
        assert!(out.ends_with("\r\nok\n"), "{out:?}");
    }
}
