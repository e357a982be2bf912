//! A wake-up an interrupt handler can give the USB task: set a flag, wake
//! the waker. Raising never blocks and never allocates, so it is safe in an
//! interrupt handler; the task takes the flag when it runs.

use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll};

use futures_util::task::AtomicWaker;

/// A flag with a waker.
pub struct Signal {
    raised: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    /// A signal not raised.
    pub const fn new() -> Self {
        Self {
            raised: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }
    }

    /// Raises the signal and wakes its waiter (interrupt-safe).
    pub fn raise(&self) {
        self.raised.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Completes once the signal is raised, and lowers it.
    pub fn wait(&self) -> Wait<'_> {
        Wait { signal: self }
    }
}

impl Default for Signal {
    fn default() -> Self {
        Self::new()
    }
}

/// The future of [`Signal::wait`].
pub struct Wait<'a> {
    signal: &'a Signal,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.raised.swap(false, Ordering::Acquire) {
            return Poll::Ready(());
        }
        // Register, then look again: a raise in between is not lost.
        self.signal.waker.register(cx.waker());
        if self.signal.raised.swap(false, Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use core::sync::atomic::AtomicUsize;
    use core::task::Waker;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_raise_wakes_the_waiter_once_and_is_taken() {
        let signal = Signal::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let mut wait = signal.wait();
        assert_eq!(Pin::new(&mut wait).poll(&mut cx), Poll::Pending);
        signal.raise();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(Pin::new(&mut wait).poll(&mut cx), Poll::Ready(()));
        // Taken: the next wait waits again.
        let mut again = signal.wait();
        assert_eq!(Pin::new(&mut again).poll(&mut cx), Poll::Pending);
    }

    #[test]
    fn a_raise_before_the_wait_is_not_lost() {
        let signal = Signal::new();
        signal.raise();
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        assert_eq!(Pin::new(&mut signal.wait()).poll(&mut cx), Poll::Ready(()));
    }
}
