//! [`ByteQueue`]: a bounded, lock-free single-producer single-consumer queue
//! of bytes, for handing input from an interrupt handler to the code that
//! consumes it. Pushing never blocks and never allocates: on a full queue
//! the byte is dropped and counted.

use core::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

/// A queue of up to `N - 1` bytes (one slot tells full from empty).
///
/// One producer (an interrupt handler) calls [`push`](Self::push); one
/// consumer calls [`pop`](Self::pop). `N` must be a power of two.
pub struct ByteQueue<const N: usize> {
    slots: [AtomicU8; N],
    /// Next slot to read; written only by the consumer.
    head: AtomicUsize,
    /// Next slot to write; written only by the producer.
    tail: AtomicUsize,
    dropped: AtomicU64,
}

/// The queue was full; the byte was dropped (and counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

impl<const N: usize> ByteQueue<N> {
    const VALID: () = assert!(N.is_power_of_two() && N >= 2);

    /// An empty queue.
    pub const fn new() -> Self {
        let () = Self::VALID;
        Self {
            slots: [const { AtomicU8::new(0) }; N],
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Adds a byte (producer side). On a full queue the byte is dropped,
    /// counted, and `QueueFull` returned.
    pub fn push(&self, byte: u8) -> Result<(), QueueFull> {
        let tail = self.tail.load(Ordering::Relaxed);
        let next = (tail + 1) % N;
        if next == self.head.load(Ordering::Acquire) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Err(QueueFull);
        }
        self.slots[tail].store(byte, Ordering::Relaxed);
        self.tail.store(next, Ordering::Release);
        Ok(())
    }

    /// Takes the oldest byte (consumer side).
    pub fn pop(&self) -> Option<u8> {
        let head = self.head.load(Ordering::Relaxed);
        if head == self.tail.load(Ordering::Acquire) {
            return None;
        }
        let byte = self.slots[head].load(Ordering::Relaxed);
        self.head.store((head + 1) % N, Ordering::Release);
        Some(byte)
    }

    /// Whether the queue holds no byte.
    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::Acquire) == self.tail.load(Ordering::Acquire)
    }

    /// Bytes dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// How many bytes the queue holds at most.
    pub const fn capacity(&self) -> usize {
        N - 1
    }
}

impl<const N: usize> Default for ByteQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::vec::Vec;

    #[test]
    fn fifo_order_and_overflow_drops_newest() {
        let queue = ByteQueue::<8>::new();
        assert_eq!(queue.capacity(), 7);
        for b in 0..7 {
            assert_eq!(queue.push(b), Ok(()));
        }
        assert_eq!(queue.push(99), Err(QueueFull));
        assert_eq!(queue.push(100), Err(QueueFull));
        assert_eq!(queue.dropped(), 2);
        let out: Vec<u8> = core::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(out, [0, 1, 2, 3, 4, 5, 6]);
        assert!(queue.is_empty());
        // Room again after draining.
        assert_eq!(queue.push(7), Ok(()));
        assert_eq!(queue.pop(), Some(7));
    }

    proptest! {
        #[test]
        fn behaves_like_a_bounded_fifo(ops in prop::collection::vec(any::<Option<u8>>(), 0..500)) {
            let queue = ByteQueue::<16>::new();
            let mut model = VecDeque::new();
            let mut dropped = 0;
            for op in ops {
                match op {
                    Some(byte) => {
                        let pushed = queue.push(byte);
                        if model.len() < 15 {
                            prop_assert_eq!(pushed, Ok(()));
                            model.push_back(byte);
                        } else {
                            prop_assert_eq!(pushed, Err(QueueFull));
                            dropped += 1;
                        }
                    }
                    None => prop_assert_eq!(queue.pop(), model.pop_front()),
                }
                prop_assert_eq!(queue.dropped(), dropped);
                prop_assert_eq!(queue.is_empty(), model.is_empty());
            }
        }
    }

    #[test]
    fn one_producer_one_consumer_threads() {
        let queue = Arc::new(ByteQueue::<64>::new());
        let producer = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || {
                let mut sent = 0u32;
                while sent < 100_000 {
                    if queue.push((sent % 251) as u8).is_ok() {
                        sent += 1;
                    }
                }
            })
        };
        let mut expected = 0u32;
        while expected < 100_000 {
            if let Some(byte) = queue.pop() {
                assert_eq!(byte, (expected % 251) as u8);
                expected += 1;
            }
        }
        producer.join().unwrap();
    }
}
