//! Turns the PS/2 scancodes queued by the keyboard interrupt into keys:
//! scancode set 1, with the layout in [`Layout`] (US by default).

pub use pc_keyboard::{DecodedKey, KeyCode};
use pc_keyboard::{HandleControl, PS2Keyboard, ScancodeSet1, layouts};

/// The keyboard layout. To use another, change this alias (for example to
/// `layouts::Uk105Key` or `layouts::De105Key`).
pub type Layout = layouts::Us104Key;

/// A decoder of scancodes into keys, keeping the modifier state.
pub struct KeyDecoder {
    keyboard: PS2Keyboard<Layout, ScancodeSet1>,
}

impl KeyDecoder {
    /// A decoder with no modifier held.
    pub const fn new() -> Self {
        Self {
            keyboard: PS2Keyboard::new(
                ScancodeSet1::new(),
                Layout {},
                HandleControl::MapLettersToUnicode,
            ),
        }
    }

    /// Feeds one scancode; returns a key when it completes one.
    pub fn decode(&mut self, scancode: u8) -> Option<DecodedKey> {
        match self.keyboard.add_byte(scancode) {
            Ok(Some(event)) => self.keyboard.process_keyevent(event),
            Ok(None) => None,
            Err(_) => {
                // A garbled sequence: start over with the next byte.
                self.keyboard.clear();
                None
            }
        }
    }
}

impl Default for KeyDecoder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(scancodes: &[u8]) -> std::vec::Vec<DecodedKey> {
        let mut decoder = KeyDecoder::new();
        scancodes
            .iter()
            .filter_map(|&s| decoder.decode(s))
            .collect()
    }

    #[test]
    fn letters_shift_and_backspace() {
        // h, shift+i, backspace: make and break codes of set 1.
        let keys = decode_all(&[0x23, 0xA3, 0x2A, 0x17, 0x97, 0xAA, 0x0E, 0x8E]);
        assert_eq!(
            keys,
            [
                DecodedKey::Unicode('h'),
                // Modifiers come through as raw keys when pressed.
                DecodedKey::RawKey(KeyCode::LShift),
                DecodedKey::Unicode('I'),
                DecodedKey::Unicode('\u{8}'),
            ]
        );
    }

    #[test]
    fn extended_keys_decode_as_raw_keys() {
        // Up arrow: E0 48, release E0 C8.
        let keys = decode_all(&[0xE0, 0x48, 0xE0, 0xC8]);
        assert_eq!(keys, [DecodedKey::RawKey(KeyCode::ArrowUp)]);
    }
}
