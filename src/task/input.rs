//! Input as streams: the keyboard's scancodes and the serial port's bytes,
//! each from the queue its interrupt handler fills, woken through the
//! driver's `AtomicWaker`.

use core::pin::Pin;
use core::task::{Context, Poll};

use futures_util::stream::Stream;
use futures_util::task::AtomicWaker;

use crate::drivers::{ps2, serial, usb};
use crate::queue::ByteQueue;

/// Woken whenever a stream hands out a byte: lets a watcher of the input
/// queues (their drop counts) sleep while no input comes, instead of
/// polling on a timer.
pub static INPUT_READ: AtomicWaker = AtomicWaker::new();

/// A stream of the bytes an interrupt handler queues.
pub struct QueueStream<const N: usize> {
    queue: &'static ByteQueue<N>,
    waker: &'static AtomicWaker,
}

impl<const N: usize> Stream for QueueStream<N> {
    type Item = u8;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u8>> {
        if let Some(byte) = self.queue.pop() {
            INPUT_READ.wake();
            return Poll::Ready(Some(byte));
        }
        // Register, then look again: a byte queued in between is not lost.
        self.waker.register(cx.waker());
        match self.queue.pop() {
            Some(byte) => {
                self.waker.take();
                INPUT_READ.wake();
                Poll::Ready(Some(byte))
            }
            None => Poll::Pending,
        }
    }
}

/// Scancodes from the PS/2 keyboard. One reader at a time.
pub fn scancodes() -> QueueStream<256> {
    QueueStream {
        queue: &ps2::SCANCODES,
        waker: &ps2::SCANCODE_WAKER,
    }
}

/// Scancodes from USB keyboards (set 1, as the PS/2 keyboard's). One
/// reader at a time.
pub fn usb_scancodes() -> QueueStream<256> {
    QueueStream {
        queue: &usb::hid::SCANCODES,
        waker: &usb::hid::SCANCODE_WAKER,
    }
}

/// Bytes received on COM1. One reader at a time.
pub fn serial_bytes() -> QueueStream<1024> {
    QueueStream {
        queue: &serial::INPUT,
        waker: &serial::INPUT_WAKER,
    }
}
