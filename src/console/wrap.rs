//! Word wrapping for log lines on the screen.
//!
//! A log line longer than the screen would otherwise break wherever the
//! screen runs out of columns, often mid-word. [`WordWrap`] breaks it at
//! spaces instead and indents each continuation to where the message
//! starts, so the timestamp and level column stay clear. Serial gets the
//! long line intact; this is for the screen only. Pure logic (columns are
//! bytes: the screens draw one cell per byte), tested on the host.

use core::fmt::{self, Write};

/// Longest word held back to see whether it fits; longer ones are broken
/// where the line ends.
const WORD_MAX: usize = 64;

/// A writer that wraps text at word boundaries to `width` columns.
pub struct WordWrap<'a, W: Write> {
    inner: &'a mut W,
    width: usize,
    /// Column of the next byte written to `inner`.
    col: usize,
    /// Where continuation lines start.
    indent: usize,
    /// Spaces read before the word, written only if the word stays on
    /// this line (a wrapped line ends without trailing blanks).
    spaces: usize,
    /// The word being read, not yet written.
    word: [u8; WORD_MAX],
    word_len: usize,
}

impl<'a, W: Write> WordWrap<'a, W> {
    /// Wraps `inner`, a screen `width` columns wide whose cursor is at
    /// column `col`.
    pub fn new(inner: &'a mut W, width: usize, col: usize) -> Self {
        Self {
            inner,
            width: width.max(1),
            col,
            indent: 0,
            spaces: 0,
            word: [0; WORD_MAX],
            word_len: 0,
        }
    }

    /// Continuation lines start at the current column from now on (at
    /// most half the width, so a narrow screen still shows text).
    pub fn mark_indent(&mut self) -> fmt::Result {
        self.flush_word()?;
        self.write_spaces(self.spaces.min(self.width.saturating_sub(self.col)))?;
        self.indent = self.col.min(self.width / 2);
        Ok(())
    }

    /// Writes what is held back. Call after the last write.
    pub fn finish(mut self) -> fmt::Result {
        self.flush_word()?;
        self.write_spaces(self.spaces.min(self.width.saturating_sub(self.col)))
    }

    fn write_spaces(&mut self, count: usize) -> fmt::Result {
        for _ in 0..count {
            self.inner.write_char(' ')?;
        }
        self.col += count;
        self.spaces = 0;
        Ok(())
    }

    fn new_line(&mut self) -> fmt::Result {
        self.inner.write_char('\n')?;
        for _ in 0..self.indent {
            self.inner.write_char(' ')?;
        }
        self.col = self.indent;
        Ok(())
    }

    fn flush_word(&mut self) -> fmt::Result {
        let len = self.word_len;
        if len == 0 {
            return Ok(());
        }
        self.word_len = 0;
        if self.col + self.spaces + len > self.width && self.col > self.indent {
            self.spaces = 0;
            self.new_line()?;
        } else {
            self.write_spaces(self.spaces)?;
        }
        for i in 0..len {
            if self.col >= self.width {
                self.new_line()?;
            }
            // The word holds whole UTF-8 sequences: `push` splits only at
            // character boundaries, and the screens draw any byte.
            self.inner.write_char(char::from(self.word[i]))?;
            self.col += 1;
        }
        Ok(())
    }

    fn push(&mut self, c: char) -> fmt::Result {
        let mut buf = [0; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        if self.word_len + bytes.len() > WORD_MAX.min(self.width - self.indent) {
            self.flush_word()?;
        }
        for &b in bytes {
            // Multi-byte characters become one placeholder cell per byte on
            // the screen anyway; keep the byte count the column count.
            self.word[self.word_len] = if b.is_ascii() { b } else { 0x7F };
            self.word_len += 1;
        }
        Ok(())
    }
}

impl<W: Write> Write for WordWrap<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '\n' => {
                    self.flush_word()?;
                    self.spaces = 0;
                    self.inner.write_char('\n')?;
                    self.col = 0;
                }
                ' ' => {
                    self.flush_word()?;
                    self.spaces += 1;
                }
                c => self.push(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn wrap(width: usize, prefix: &str, message: &str) -> String {
        let mut out = String::new();
        let mut w = WordWrap::new(&mut out, width, 0);
        w.write_str(prefix).unwrap();
        w.mark_indent().unwrap();
        // In pieces, as formatting writes them.
        for piece in message.split_inclusive(['e', ' ']) {
            w.write_str(piece).unwrap();
        }
        w.finish().unwrap();
        out
    }

    #[test]
    fn short_lines_pass_unchanged() {
        assert_eq!(
            wrap(40, "[1] INFO  x: ", "hello world\n"),
            "[1] INFO  x: hello world\n"
        );
    }

    #[test]
    fn long_lines_break_between_words_and_indent_to_the_message() {
        let out = wrap(
            40,
            "[1] INFO  boot: ",
            "the quick brown fox jumps over the lazy dog\n",
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "[1] INFO  boot: the quick brown fox",
                "                jumps over the lazy dog",
            ]
        );
        // Narrow screens indent at most half the width.
        let out = wrap(30, "[1] INFO  boot: ", "the quick brown fox jumps over\n");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "[1] INFO  boot: the quick",
                "               brown fox jumps",
                "               over"
            ]
        );
    }

    #[test]
    fn a_word_longer_than_the_room_is_broken_at_the_line_end() {
        let out = wrap(20, "ab: ", "x 0123456789abcdefghijklmnop y\n");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines, ["ab: x", "    0123456789abcdef", "    ghijklmnop y"]);
    }

    #[test]
    fn exactly_full_lines_do_not_leave_blank_rows() {
        // 10 columns: "ab: " + "012345" fills the line; the space wraps.
        let out = wrap(10, "ab: ", "012345 6789\n");
        assert_eq!(out, "ab: 012345\n    6789\n");
    }

    #[test]
    fn the_text_is_kept_whatever_the_width() {
        let message = "a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh iiiiiiiii jjjjjjjjjj kk";
        for width in 12..100 {
            let out = wrap(width, "[0.1] WARN  mod: ", message);
            let words: Vec<&str> = out.split_whitespace().skip(3).collect();
            let expected: Vec<&str> = message.split(' ').collect();
            if width >= 17 + 10 {
                assert_eq!(words, expected, "width {width}:\n{out}");
            }
            assert!(
                out.lines().all(|line| line.len() <= width),
                "width {width}:\n{out}"
            );
        }
    }

    #[test]
    fn starting_mid_line_counts_the_columns_already_used() {
        let mut out = String::new();
        let mut w = WordWrap::new(&mut out, 10, 6);
        w.write_str("abc defg\n").unwrap();
        w.finish().unwrap();
        assert_eq!(out, "abc\ndefg\n");
    }
}
