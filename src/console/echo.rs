//! Until there is a shell: echo what is typed on the PS/2 keyboard, and
//! sleep in `hlt` while nothing happens.

use crate::drivers::keyboard::{DecodedKey, KeyDecoder};
use crate::drivers::ps2::SCANCODES;
use crate::interrupts;
use crate::print;

/// Echoes typed keys forever. Backspace erases the last character.
pub fn echo_keys() -> ! {
    let mut decoder = KeyDecoder::new();
    let mut reported_drops = 0;
    loop {
        while let Some(scancode) = SCANCODES.pop() {
            match decoder.decode(scancode) {
                Some(DecodedKey::Unicode('\u{8}')) => print!("\u{8} \u{8}"),
                Some(DecodedKey::Unicode(c)) => print!("{c}"),
                Some(DecodedKey::RawKey(key)) => log::debug!("key {key:?}"),
                None => {}
            }
        }
        let dropped = SCANCODES.dropped();
        if dropped != reported_drops {
            log::warn!(
                "keyboard: {} scancodes dropped (queue full)",
                dropped - reported_drops
            );
            reported_drops = dropped;
        }
        interrupts::wait_for_interrupt_if(|| SCANCODES.is_empty());
    }
}
