//! HID keyboard usages (HID Usage Tables, page 0x07) as PS/2 scancode set 1
//! sequences: the bytes the PS/2 keyboard would send for the same key, so a
//! USB key goes through the very decoder a PS/2 key does.

/// Set-1 make codes for usages 0x04 (A) to 0x65 (Application); 0 where
/// no single-byte code exists. `E` marks an `E0`-prefixed code.
const E: u16 = 0x100;
const TABLE: [u16; 0x62] = [
    // 0x04 a..z
    0x1E,
    0x30,
    0x2E,
    0x20,
    0x12,
    0x21,
    0x22,
    0x23,
    0x17,
    0x24,
    0x25,
    0x26,
    0x32,
    0x31,
    0x18,
    0x19,
    0x10,
    0x13,
    0x1F,
    0x14,
    0x16,
    0x2F,
    0x11,
    0x2D,
    0x15,
    0x2C,
    // 0x1E 1..9, 0
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x07,
    0x08,
    0x09,
    0x0A,
    0x0B,
    // 0x28 Enter, Escape, Backspace, Tab, Space, - = [ ] \ non-US-# ; ' ` , . /
    0x1C,
    0x01,
    0x0E,
    0x0F,
    0x39,
    0x0C,
    0x0D,
    0x1A,
    0x1B,
    0x2B,
    0x2B,
    0x27,
    0x28,
    0x29,
    0x33,
    0x34,
    0x35,
    // 0x39 CapsLock, F1..F12
    0x3A,
    0x3B,
    0x3C,
    0x3D,
    0x3E,
    0x3F,
    0x40,
    0x41,
    0x42,
    0x43,
    0x44,
    0x57,
    0x58,
    // 0x46 PrintScreen (a four-byte sequence: left out), ScrollLock, Pause (six bytes: left out)
    0,
    0x46,
    0,
    // 0x49 Insert Home PageUp Delete End PageDown Right Left Down Up
    E | 0x52,
    E | 0x47,
    E | 0x49,
    E | 0x53,
    E | 0x4F,
    E | 0x51,
    E | 0x4D,
    E | 0x4B,
    E | 0x50,
    E | 0x48,
    // 0x53 NumLock, keypad / * - + Enter 1..9 0 .
    0x45,
    E | 0x35,
    0x37,
    0x4A,
    0x4E,
    E | 0x1C,
    0x4F,
    0x50,
    0x51,
    0x4B,
    0x4C,
    0x4D,
    0x47,
    0x48,
    0x49,
    0x52,
    0x53,
    // 0x64 non-US \, Application
    0x56,
    E | 0x5D,
];

/// Modifier usages 0xE0-0xE7: left Ctrl, Shift, Alt, GUI, then the right ones.
const MODIFIERS: [u16; 8] = [
    0x1D,
    0x2A,
    0x38,
    E | 0x5B,
    E | 0x1D,
    0x36,
    E | 0x38,
    E | 0x5C,
];

/// The set-1 code of `usage`, `E`-flagged when it takes the `E0` prefix.
fn code(usage: u8) -> Option<u16> {
    let code = match usage {
        0x04..=0x65 => TABLE[usize::from(usage - 0x04)],
        0xE0..=0xE7 => MODIFIERS[usize::from(usage - 0xE0)],
        _ => 0,
    };
    (code != 0).then_some(code)
}

/// The scancode bytes for pressing (`pressed`) or releasing `usage`: one or
/// two bytes (in a buffer of two, with the count), or `None` for a usage
/// with no set-1 code.
pub fn sequence(usage: u8, pressed: bool) -> Option<([u8; 2], usize)> {
    let code = code(usage)?;
    let byte = (code as u8) | if pressed { 0 } else { 0x80 };
    Some(if code & E != 0 {
        ([0xE0, byte], 2)
    } else {
        ([byte, 0], 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::keyboard::{DecodedKey, KeyCode, KeyDecoder};

    fn decode(usage: u8) -> std::vec::Vec<DecodedKey> {
        let mut decoder = KeyDecoder::new();
        let mut keys = std::vec::Vec::new();
        for pressed in [true, false] {
            let (bytes, n) = sequence(usage, pressed).unwrap();
            keys.extend(bytes[..n].iter().filter_map(|&b| decoder.decode(b)));
        }
        keys
    }

    #[test]
    fn letters_digits_and_controls_decode_as_the_ps2_keys() {
        assert_eq!(decode(0x04), [DecodedKey::Unicode('a')]);
        assert_eq!(decode(0x1D), [DecodedKey::Unicode('z')]);
        assert_eq!(decode(0x1E), [DecodedKey::Unicode('1')]);
        assert_eq!(decode(0x27), [DecodedKey::Unicode('0')]);
        assert_eq!(decode(0x28), [DecodedKey::Unicode('\n')]);
        assert_eq!(decode(0x2A), [DecodedKey::Unicode('\u{8}')]);
        assert_eq!(decode(0x2C), [DecodedKey::Unicode(' ')]);
        assert_eq!(decode(0x38), [DecodedKey::Unicode('/')]);
        assert_eq!(decode(0x45), [DecodedKey::RawKey(KeyCode::F12)]);
    }

    #[test]
    fn extended_keys_take_the_e0_prefix() {
        assert_eq!(sequence(0x52, true), Some(([0xE0, 0x48], 2)));
        assert_eq!(sequence(0x52, false), Some(([0xE0, 0xC8], 2)));
        assert_eq!(decode(0x52), [DecodedKey::RawKey(KeyCode::ArrowUp)]);
        assert_eq!(decode(0x50), [DecodedKey::RawKey(KeyCode::ArrowLeft)]);
        assert_eq!(decode(0x4C), [DecodedKey::Unicode('\u{7f}')]);
    }

    #[test]
    fn shift_modifier_changes_the_letter() {
        let mut decoder = KeyDecoder::new();
        let mut keys = std::vec::Vec::new();
        for (usage, pressed) in [(0xE1, true), (0x0B, true), (0x0B, false), (0xE1, false)] {
            let (bytes, n) = sequence(usage, pressed).unwrap();
            keys.extend(bytes[..n].iter().filter_map(|&b| decoder.decode(b)));
        }
        assert_eq!(
            keys,
            [
                DecodedKey::RawKey(KeyCode::LShift),
                DecodedKey::Unicode('H')
            ]
        );
    }

    #[test]
    fn usages_without_a_code_give_none() {
        assert_eq!(sequence(0x00, true), None);
        assert_eq!(sequence(0x01, true), None);
        assert_eq!(sequence(0x46, true), None);
        assert_eq!(sequence(0x66, true), None);
    }
}
