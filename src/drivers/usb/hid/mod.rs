//! USB HID boot keyboards: reports become key events ([`report`]), the
//! events become PS/2 scancode set 1 bytes ([`scancode`]) in [`SCANCODES`],
//! which the shell reads through the same decoder as the PS/2 keyboard's.
//! Key repeat is done here, in software, as a PS/2 keyboard does it in its
//! own firmware.

pub mod report;
pub mod scancode;

use core::time::Duration;

use futures_util::task::AtomicWaker;

use self::report::{BootReport, KeyEvent, KeyState, Repeat};
use crate::queue::ByteQueue;

/// Scancodes from USB keyboards, oldest first. One producer: the USB task.
/// Full: new scancodes are dropped and counted.
pub static SCANCODES: ByteQueue<256> = ByteQueue::new();
/// Woken when scancodes arrive in [`SCANCODES`].
pub static SCANCODE_WAKER: AtomicWaker = AtomicWaker::new();

fn emit(event: KeyEvent) {
    let (usage, pressed) = match event {
        KeyEvent::Press(usage) => (usage, true),
        KeyEvent::Release(usage) => (usage, false),
    };
    if let Some((bytes, count)) = scancode::sequence(usage, pressed) {
        for &byte in &bytes[..count] {
            // A full queue drops and counts the byte.
            let _ = SCANCODES.push(byte);
        }
        SCANCODE_WAKER.wake();
    }
}

/// One keyboard's keys held and repeat.
#[derive(Debug, Default)]
pub struct Keyboard {
    state: KeyState,
    repeat: Repeat,
}

impl Keyboard {
    /// Handles a report received at `now`.
    pub fn report(&mut self, bytes: [u8; 8], now: Duration) {
        let Some(report) = BootReport::parse(&bytes) else {
            return;
        };
        let repeat = &mut self.repeat;
        self.state.update(&report, |event| {
            repeat.on_event(event, now);
            emit(event);
        });
    }

    /// Sends a repeat if one is due at `now`.
    pub fn tick(&mut self, now: Duration) {
        if let Some(usage) = self.repeat.due(now) {
            emit(KeyEvent::Press(usage));
        }
    }

    /// When the next repeat is due, if a key is held.
    pub fn next_repeat(&self) -> Option<Duration> {
        self.repeat.next_due()
    }

    /// The keyboard went away: every key it held is released.
    pub fn unplug(&mut self) {
        let repeat = &mut self.repeat;
        self.state.release_all(|event| {
            repeat.on_event(event, Duration::ZERO);
            emit(event);
        });
    }
}
