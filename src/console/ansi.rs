//! Colour on the serial console: ANSI SGR escapes around whole lines.
//!
//! Only warnings (yellow) and errors, panics and fault reports (red) are
//! coloured; everything else stays plain, so the tools that read serial
//! text keep matching it. Each line is wrapped on its own: the escape
//! comes right before the line's first character and the reset right
//! before its newline, so a line starting at column 0 (a test result,
//! a prompt) never begins with a stray code and a substring search
//! within one line still finds its text.

use core::fmt::{self, Write};

use super::{Colour, ColourCode};

/// Red text: errors, panics, fault reports.
pub const RED: &str = "\x1b[31m";
/// Yellow text: warnings.
pub const YELLOW: &str = "\x1b[33m";
/// Back to the terminal's default.
pub const RESET: &str = "\x1b[0m";

/// The serial colour for text drawn in `colour` on the screen: red for
/// the error colours (a red foreground or background), yellow for yellow,
/// none for the rest.
pub fn serial_colour(colour: ColourCode) -> Option<&'static str> {
    let (fg, bg) = (colour.foreground(), colour.background());
    if matches!(fg, Colour::Red | Colour::LightRed) || bg == Colour::Red {
        Some(RED)
    } else if fg == Colour::Yellow {
        Some(YELLOW)
    } else {
        None
    }
}

/// A writer that wraps every non-empty line written through it in
/// `start` … [`RESET`]. Call [`finish`](Self::finish) after the last
/// write, to close a line left open.
pub struct ColourLines<'a, W: Write> {
    inner: &'a mut W,
    start: &'static str,
    open: bool,
}

impl<'a, W: Write> ColourLines<'a, W> {
    /// Wraps `inner`, colouring with the escape `start`.
    pub fn new(inner: &'a mut W, start: &'static str) -> Self {
        Self {
            inner,
            start,
            open: false,
        }
    }

    /// Resets the colour if a line is still open.
    pub fn finish(mut self) -> fmt::Result {
        self.close()
    }

    fn close(&mut self) -> fmt::Result {
        if self.open {
            self.open = false;
            self.inner.write_str(RESET)?;
        }
        Ok(())
    }
}

impl<W: Write> Write for ColourLines<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                self.close()?;
                self.inner.write_char('\n')?;
            }
            if part.is_empty() {
                continue;
            }
            if !self.open {
                self.open = true;
                self.inner.write_str(self.start)?;
            }
            self.inner.write_str(part)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn coloured(start: &'static str, pieces: &[&str]) -> String {
        let mut out = String::new();
        let mut lines = ColourLines::new(&mut out, start);
        for piece in pieces {
            lines.write_str(piece).unwrap();
        }
        lines.finish().unwrap();
        out
    }

    #[test]
    fn each_line_is_wrapped_and_newlines_stay_outside() {
        assert_eq!(
            coloured(RED, &["\nKERNEL PANIC: ", "boom", "\n  at x.rs:1:2\n"]),
            "\n\x1b[31mKERNEL PANIC: boom\x1b[0m\n\x1b[31m  at x.rs:1:2\x1b[0m\n"
        );
    }

    #[test]
    fn an_unfinished_line_is_reset_at_the_end() {
        assert_eq!(coloured(YELLOW, &["a", "b"]), "\x1b[33mab\x1b[0m");
        assert_eq!(coloured(YELLOW, &["\n\n"]), "\n\n");
    }

    #[test]
    fn screen_colours_map_to_red_yellow_or_nothing() {
        let on_black = |fg| ColourCode::new(fg, Colour::Black);
        assert_eq!(serial_colour(super::super::ERROR_COLOUR), Some(RED));
        assert_eq!(serial_colour(on_black(Colour::LightRed)), Some(RED));
        assert_eq!(serial_colour(on_black(Colour::Yellow)), Some(YELLOW));
        assert_eq!(serial_colour(on_black(Colour::LightGrey)), None);
        assert_eq!(serial_colour(on_black(Colour::DarkGrey)), None);
    }
}
