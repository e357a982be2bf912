//! The console that `print!`, `println!` and the log write to: the screen
//! (VGA text on BIOS, a framebuffer on UEFI) mirrored to COM1, so every line
//! on the screen also reaches the serial port.
//!
//! Both locks are taken with interrupts disabled, so an interrupt handler
//! that prints can never wait on a lock its own CPU holds.

pub mod ansi;
pub mod logger;
mod wrap;

use core::fmt::{self, Write};

use spin::Mutex;
use x86_64::instructions::interrupts::without_interrupts;

use core::ptr::NonNull;

use crate::boot::FramebufferInfo;
use crate::drivers::framebuffer::{FramebufferText, Unsupported};
use crate::drivers::serial::COM1;
use crate::drivers::vga_text::VgaText;
pub use crate::drivers::vga_text::{Colour, ColourCode};

/// A screen the console can draw text on.
// Only one Screen exists, in a static, set before the heap exists: boxing
// the large variant is neither possible nor worth it.
#[allow(clippy::large_enum_variant)]
enum Screen {
    VgaText(VgaText),
    Framebuffer(FramebufferText),
}

impl Screen {
    fn colour(&self) -> ColourCode {
        match self {
            Self::VgaText(s) => s.colour(),
            Self::Framebuffer(s) => s.colour(),
        }
    }

    fn set_colour(&mut self, colour: ColourCode) {
        match self {
            Self::VgaText(s) => s.set_colour(colour),
            Self::Framebuffer(s) => s.set_colour(colour),
        }
    }

    fn clear(&mut self) {
        match self {
            Self::VgaText(s) => s.clear(),
            Self::Framebuffer(s) => s.clear(),
        }
    }

    /// Text columns, and the column the cursor is at.
    fn width_and_column(&self) -> (usize, usize) {
        match self {
            Self::VgaText(s) => (crate::drivers::vga_text::WIDTH, s.column()),
            Self::Framebuffer(s) => (s.size().0, s.column()),
        }
    }

    fn show_cursor(&mut self) {
        match self {
            Self::VgaText(s) => s.update_cursor(),
            Self::Framebuffer(s) => s.show_cursor(),
        }
    }
}

impl Write for Screen {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        match self {
            Self::VgaText(s) => s.write_text(text),
            Self::Framebuffer(s) => s.write_text(text),
        }
        Ok(())
    }
}

/// The screen, once one is enabled.
static SCREEN: Mutex<Option<Screen>> = Mutex::new(None);

/// Colour for errors and panics.
pub const ERROR_COLOUR: ColourCode = ColourCode::new(Colour::White, Colour::Red);

/// Starts mirroring the console to the VGA text screen and clears it.
///
/// # Safety
/// The machine must have a VGA text buffer at physical 0xB8000 (BIOS boot
/// in text mode), mapped writable at `base` for as long as the console uses
/// it (see [`move_screen`]).
pub unsafe fn enable_vga_text(base: NonNull<u8>) {
    // SAFETY: the caller promised the buffer exists and stays mapped; the
    // writer is created once and lives in SCREEN.
    let mut screen = unsafe { VgaText::new(base) };
    screen.clear();
    without_interrupts(|| *SCREEN.lock() = Some(Screen::VgaText(screen)));
}

/// Starts mirroring the console to a framebuffer mapped at `base`, and
/// clears it. Returns the text size in columns and rows.
///
/// # Safety
/// The framebuffer `info` describes must be mapped writable at `base` for
/// as long as the console uses it (see [`move_screen`]).
pub unsafe fn enable_framebuffer(
    info: &FramebufferInfo,
    base: NonNull<u8>,
) -> Result<(usize, usize), Unsupported> {
    // SAFETY: the caller's promise is the driver's contract.
    let mut screen = unsafe { FramebufferText::new(info, base) }?;
    screen.clear();
    let size = screen.size();
    without_interrupts(|| *SCREEN.lock() = Some(Screen::Framebuffer(screen)));
    Ok(size)
}

/// Tells the screen console that its buffer (the framebuffer or the VGA
/// text buffer) is now mapped at `base`.
///
/// # Safety
/// The screen's buffer must be mapped writable at `base` from now on.
pub unsafe fn move_screen(base: NonNull<u8>) {
    without_interrupts(|| match SCREEN.lock().as_mut() {
        // SAFETY: the caller's promise.
        Some(Screen::Framebuffer(screen)) => unsafe { screen.move_to(base) },
        // SAFETY: the caller's promise.
        Some(Screen::VgaText(screen)) => unsafe { screen.move_to(base) },
        None => {}
    });
}

/// Whether the screen is a framebuffer.
pub fn has_framebuffer() -> bool {
    without_interrupts(|| matches!(*SCREEN.lock(), Some(Screen::Framebuffer(_))))
}

/// Clears the screen, and the serial terminal with an ANSI sequence.
pub fn clear() {
    without_interrupts(|| {
        COM1.lock().send(b"\x1b[2J\x1b[H");
        if let Some(screen) = SCREEN.lock().as_mut() {
            screen.clear();
        }
    });
}

/// Whether a screen is attached.
pub fn has_screen() -> bool {
    without_interrupts(|| SCREEN.lock().is_some())
}

/// Writes formatted text to serial and the screen. Used by [`print!`].
pub fn write_fmt(args: fmt::Arguments<'_>) {
    write_coloured(None, args);
}

/// Writes formatted text; on the screen in `colour` if given, and on
/// serial in the matching ANSI colour ([`ansi::serial_colour`]): red for
/// errors and panics, yellow for warnings.
pub fn write_coloured(colour: Option<ColourCode>, args: fmt::Arguments<'_>) {
    without_interrupts(|| {
        write_serial(colour, args);
        with_screen_in(colour, |screen| {
            // Formatting cannot fail on the screen writers.
            let _ = screen.write_fmt(args);
        });
    });
}

/// Writes one log line, `prefix` then `message` and a newline, in
/// `colour`. Serial gets the line whole; on the screen a line too long
/// for it breaks between words, continuations indented to where the
/// message starts.
pub fn write_log_line(colour: ColourCode, prefix: fmt::Arguments<'_>, message: fmt::Arguments<'_>) {
    without_interrupts(|| {
        write_serial(Some(colour), format_args!("{prefix}{message}\n"));
        with_screen_in(Some(colour), |screen| {
            let (width, column) = screen.width_and_column();
            let mut wrap = wrap::WordWrap::new(screen, width, column);
            let _ = wrap.write_fmt(prefix);
            let _ = wrap.mark_indent();
            let _ = wrap.write_fmt(format_args!("{message}\n"));
            let _ = wrap.finish();
        });
    });
}

/// Writes to serial, coloured as [`write_coloured`] says. Interrupts must
/// be off.
fn write_serial(colour: Option<ColourCode>, args: fmt::Arguments<'_>) {
    // Formatting cannot fail on the serial writer.
    let mut serial = COM1.lock();
    match colour.and_then(ansi::serial_colour) {
        Some(start) => {
            let mut lines = ansi::ColourLines::new(&mut *serial, start);
            let _ = lines.write_fmt(args);
            let _ = lines.finish();
        }
        None => {
            let _ = serial.write_fmt(args);
        }
    }
}

/// Runs `draw` on the screen, if there is one, in `colour` if given, and
/// shows the cursor after. Interrupts must be off.
fn with_screen_in(colour: Option<ColourCode>, draw: impl FnOnce(&mut Screen)) {
    if let Some(screen) = SCREEN.lock().as_mut() {
        let previous = screen.colour();
        if let Some(colour) = colour {
            screen.set_colour(colour);
        }
        draw(screen);
        screen.set_colour(previous);
        screen.show_cursor();
    }
}

/// Sends what serial output still waits in the ring, by bounded polling,
/// and polls from then on: for a machine about to halt or reset, where no
/// transmit interrupt will come to send it.
pub fn drain_before_stop() {
    without_interrupts(crate::drivers::serial::enter_last_words);
}

/// Releases the console locks whatever holds them, so a panic report gets
/// through even if the panic struck while printing, and sends serial output
/// synchronously (with a bounded wait per burst) from then on.
///
/// # Safety
/// Only for the panic path: the holder of a lock must never run again
/// (interrupts are off and this is the only CPU running kernel code).
pub unsafe fn force_unlock() {
    // SAFETY: the caller promised the previous holders are gone for good.
    unsafe {
        COM1.force_unlock();
        SCREEN.force_unlock();
    }
    // No interrupt will drain serial output any more: poll, bounded.
    crate::drivers::serial::enter_last_words();
}

/// Prints to the console (screen and serial).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::console::write_fmt(format_args!($($arg)*)));
}

/// Prints to the console (screen and serial), with a newline.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::console::write_fmt(format_args!("{}\n", format_args!($($arg)*))));
}
