//! The boot keyboard report (HID 1.11, appendix B.1) turned into key
//! presses and releases, and software key repeat. Pure logic.
//!
//! A report is 8 bytes: a modifier bitmap (bit n = usage 0xE0 + n), a
//! reserved byte, and up to six usages of keys held. A report whose key
//! slots hold ErrorRollOver (0x01) says "too many keys": the keys held are
//! unknown, so it changes nothing.

use core::time::Duration;

/// Usages below this are error codes (ErrorRollOver, POSTFail, ErrorUndefined).
const FIRST_KEY_USAGE: u8 = 0x04;
const ERROR_ROLL_OVER: u8 = 0x01;
/// The usage of the first modifier (left Ctrl).
pub const FIRST_MODIFIER_USAGE: u8 = 0xE0;

/// One change of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEvent {
    /// The key with this usage went down.
    Press(u8),
    /// The key with this usage went up.
    Release(u8),
}

/// A boot keyboard report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BootReport {
    /// Modifier bitmap.
    pub modifiers: u8,
    /// Usages of keys held (0 = empty slot).
    pub keys: [u8; 6],
}

impl BootReport {
    /// Reads a report; `None` if shorter than the boot format's 8 bytes.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; 8] = bytes.get(..8)?.try_into().ok()?;
        let mut keys = [0; 6];
        keys.copy_from_slice(&bytes[2..8]);
        Some(Self {
            modifiers: bytes[0],
            keys,
        })
    }

    /// Whether this is a rollover (or other error) report.
    pub fn is_error(&self) -> bool {
        self.keys
            .iter()
            .any(|&k| (ERROR_ROLL_OVER..FIRST_KEY_USAGE).contains(&k))
    }

    fn holds(&self, usage: u8) -> bool {
        usage >= FIRST_KEY_USAGE && self.keys.contains(&usage)
    }
}

/// What a keyboard holds, to tell each report's changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyState {
    last: BootReport,
}

impl KeyState {
    /// Applies `report` and calls `emit` for each change: releases first,
    /// modifiers before keys on press and after them on release (so a
    /// shifted key goes down with its shift, and up before it).
    pub fn update(&mut self, report: &BootReport, mut emit: impl FnMut(KeyEvent)) {
        if report.is_error() {
            return;
        }
        let last = self.last;
        for &usage in &last.keys {
            if usage >= FIRST_KEY_USAGE && !report.holds(usage) {
                emit(KeyEvent::Release(usage));
            }
        }
        for bit in 0..8 {
            let usage = FIRST_MODIFIER_USAGE + bit;
            match (last.modifiers >> bit & 1, report.modifiers >> bit & 1) {
                (1, 0) => emit(KeyEvent::Release(usage)),
                (0, 1) => emit(KeyEvent::Press(usage)),
                _ => {}
            }
        }
        for (i, &usage) in report.keys.iter().enumerate() {
            let repeated_in_report = report.keys[..i].contains(&usage);
            if usage >= FIRST_KEY_USAGE && !last.holds(usage) && !repeated_in_report {
                emit(KeyEvent::Press(usage));
            }
        }
        self.last = *report;
    }

    /// Releases every key held (the keyboard went away).
    pub fn release_all(&mut self, emit: impl FnMut(KeyEvent)) {
        self.update(&BootReport::default(), emit);
    }
}

/// Wait before the first repeat: the PC keyboard's default typematic delay.
pub const REPEAT_DELAY: Duration = Duration::from_millis(500);
/// Time between repeats: 30 a second, the PC keyboard's fastest rate.
pub const REPEAT_PERIOD: Duration = Duration::from_nanos(1_000_000_000 / 30);

/// Software key repeat: the last key pressed repeats while it is held, as a
/// PS/2 keyboard's typematic repeat does. Modifiers never repeat.
#[derive(Debug, Clone, Copy, Default)]
pub struct Repeat {
    held: Option<(u8, Duration)>,
}

impl Repeat {
    /// Notes a key event at time `now`.
    pub fn on_event(&mut self, event: KeyEvent, now: Duration) {
        match event {
            KeyEvent::Press(usage) if usage < FIRST_MODIFIER_USAGE => {
                self.held = Some((usage, now + REPEAT_DELAY));
            }
            KeyEvent::Release(usage) if self.held.is_some_and(|(held, _)| held == usage) => {
                self.held = None;
            }
            _ => {}
        }
    }

    /// When the next repeat is due, if a key is held.
    pub fn next_due(&self) -> Option<Duration> {
        self.held.map(|(_, next)| next)
    }

    /// The key to repeat now, if one is due; the next repeat is then one
    /// period later (or a period from `now`, after a long gap, so that a
    /// late poll does not fire a burst).
    pub fn due(&mut self, now: Duration) -> Option<u8> {
        let (usage, next) = self.held?;
        if now < next {
            return None;
        }
        let following = (next + REPEAT_PERIOD).max(now + REPEAT_PERIOD / 2);
        self.held = Some((usage, following));
        Some(usage)
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
