//! The keys the shell understands, from the PS/2 keyboard (decoded by
//! `pc-keyboard`) and from a serial terminal (bytes and ANSI escapes).

use crate::drivers::keyboard::{DecodedKey, KeyCode};

/// A key press the line editor acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Erase the character before the cursor.
    Backspace,
    /// Submit the line.
    Enter,
    /// Older history entry.
    Up,
    /// Newer history entry.
    Down,
    /// Drop the line (Ctrl-C).
    Cancel,
}

/// The shell's key for a decoded keyboard key, if it has one.
pub fn from_keyboard(key: DecodedKey) -> Option<Key> {
    match key {
        DecodedKey::Unicode('\n' | '\r') => Some(Key::Enter),
        DecodedKey::Unicode('\u{8}' | '\u{7f}') => Some(Key::Backspace),
        DecodedKey::Unicode('\u{3}') => Some(Key::Cancel),
        DecodedKey::Unicode(c) if !c.is_control() => Some(Key::Char(c)),
        DecodedKey::RawKey(KeyCode::ArrowUp) => Some(Key::Up),
        DecodedKey::RawKey(KeyCode::ArrowDown) => Some(Key::Down),
        _ => None,
    }
}

/// Turns a serial terminal's bytes into keys: CR or LF is Enter, DEL or BS
/// is Backspace, ESC [ A / ESC [ B are the arrows. Other escape sequences
/// and bytes outside printable ASCII are dropped.
#[derive(Debug, Default)]
pub struct SerialKeys {
    state: EscapeState,
    last_was_cr: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum EscapeState {
    #[default]
    Plain,
    Escape,
    Bracket,
}

impl SerialKeys {
    /// A decoder at the start of input.
    pub const fn new() -> Self {
        Self {
            state: EscapeState::Plain,
            last_was_cr: false,
        }
    }

    /// Feeds one byte; returns a key when it completes one.
    pub fn feed(&mut self, byte: u8) -> Option<Key> {
        let was_cr = core::mem::replace(&mut self.last_was_cr, byte == b'\r');
        match (self.state, byte) {
            (EscapeState::Plain, 0x1B) => {
                self.state = EscapeState::Escape;
                None
            }
            (EscapeState::Escape, b'[') => {
                self.state = EscapeState::Bracket;
                None
            }
            (EscapeState::Bracket, b'0'..=b'9' | b';') => None,
            (EscapeState::Bracket, final_byte) => {
                self.state = EscapeState::Plain;
                match final_byte {
                    b'A' => Some(Key::Up),
                    b'B' => Some(Key::Down),
                    _ => None,
                }
            }
            (EscapeState::Escape, _) => {
                self.state = EscapeState::Plain;
                None
            }
            (EscapeState::Plain, b'\r') => Some(Key::Enter),
            // CR LF from a terminal is one Enter.
            (EscapeState::Plain, b'\n') => (!was_cr).then_some(Key::Enter),
            (EscapeState::Plain, 0x7F | 0x08) => Some(Key::Backspace),
            (EscapeState::Plain, 0x03) => Some(Key::Cancel),
            (EscapeState::Plain, 0x20..=0x7E) => Some(Key::Char(byte as char)),
            (EscapeState::Plain, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut decoder = SerialKeys::new();
        bytes.iter().filter_map(|&b| decoder.feed(b)).collect()
    }

    #[test]
    fn serial_bytes_become_keys() {
        assert_eq!(keys(b"hi\r"), [Key::Char('h'), Key::Char('i'), Key::Enter]);
        assert_eq!(
            keys(b"a\r\nb\n"),
            [Key::Char('a'), Key::Enter, Key::Char('b'), Key::Enter]
        );
        assert_eq!(
            keys(b"x\x7f\x08"),
            [Key::Char('x'), Key::Backspace, Key::Backspace]
        );
        assert_eq!(keys(b"\x1b[A\x1b[B\x1b[C"), [Key::Up, Key::Down]);
        assert_eq!(keys(b"\x1b[1;5Aq"), [Key::Up, Key::Char('q')]);
        assert_eq!(keys(b"\x03\x01\xff"), [Key::Cancel]);
    }

    #[test]
    fn keyboard_keys_map() {
        assert_eq!(
            from_keyboard(DecodedKey::Unicode('a')),
            Some(Key::Char('a'))
        );
        assert_eq!(from_keyboard(DecodedKey::Unicode('\n')), Some(Key::Enter));
        assert_eq!(
            from_keyboard(DecodedKey::Unicode('\u{8}')),
            Some(Key::Backspace)
        );
        assert_eq!(
            from_keyboard(DecodedKey::RawKey(KeyCode::ArrowUp)),
            Some(Key::Up)
        );
        assert_eq!(from_keyboard(DecodedKey::RawKey(KeyCode::LShift)), None);
    }
}
