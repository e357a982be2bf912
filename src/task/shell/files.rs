//! The shell's file commands, `ls` and `cat`: their arguments, and how
//! they show files (directory listings, text, and hexdumps for what is not
//! text). Pure logic, tested on the host.

use alloc::vec::Vec;
use core::fmt::{self, Write};

use super::command::{Command, ParseError};
use crate::fs::DirEntry;

/// How much of a file `cat -x` shows.
pub const HEXDUMP_LIMIT: usize = 4096;

/// Parses `ls`'s arguments: at most one directory.
pub fn parse_ls(rest: &str) -> Result<Command<'_>, ParseError<'_>> {
    match rest.split_whitespace().collect::<Vec<_>>()[..] {
        [] => Ok(Command::Ls(None)),
        [dir] => Ok(Command::Ls(Some(dir))),
        _ => Err(ParseError::BadArgument {
            command: "ls",
            problem: "one directory at most",
        }),
    }
}

/// Parses `cat`'s arguments: `[-x] FILE`.
pub fn parse_cat(rest: &str) -> Result<Command<'_>, ParseError<'_>> {
    let bad = |problem| ParseError::BadArgument {
        command: "cat",
        problem,
    };
    match rest.split_whitespace().collect::<Vec<_>>()[..] {
        [] | ["-x"] => Err(bad("which file?")),
        ["-x", path] => Ok(Command::Cat { path, hex: true }),
        [path] if !path.starts_with('-') => Ok(Command::Cat { path, hex: false }),
        [option] | [option, _] if option.starts_with('-') => Err(bad("the only option is -x")),
        _ => Err(bad("one file only")),
    }
}

/// Whether `bytes` can go to the console as they are: UTF-8 with no control
/// characters but newline, tab and carriage return (an escape byte would
/// drive the terminal).
pub fn is_text(bytes: &[u8]) -> bool {
    core::str::from_utf8(bytes).is_ok_and(|text| {
        text.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
    })
}

/// Writes a listing: one line per entry, the size in bytes (or `dir`) then
/// the name (directories end with `/`).
pub fn write_listing(entries: &[DirEntry], out: &mut impl Write) -> fmt::Result {
    for entry in entries {
        match entry.size {
            Some(size) => writeln!(out, "{size:>10}  {}", entry.name)?,
            None => writeln!(out, "{:>10}  {}/", "dir", entry.name)?,
        }
    }
    Ok(())
}

/// Writes the first [`HEXDUMP_LIMIT`] bytes of `bytes` as a hexdump: the
/// offset, 16 bytes in hex, and the same as ASCII (`.` for the rest), then
/// how many bytes were left out.
pub fn write_hexdump(bytes: &[u8], out: &mut impl Write) -> fmt::Result {
    let shown = &bytes[..bytes.len().min(HEXDUMP_LIMIT)];
    for (line, chunk) in shown.chunks(16).enumerate() {
        write!(out, "{:08x} ", line * 16)?;
        for column in 0..16 {
            match chunk.get(column) {
                Some(byte) => write!(out, " {byte:02x}")?,
                None => write!(out, "   ")?,
            }
        }
        write!(out, "  |")?;
        for &byte in chunk {
            let c = if byte.is_ascii_graphic() || byte == b' ' {
                byte as char
            } else {
                '.'
            };
            out.write_char(c)?;
        }
        writeln!(out, "|")?;
    }
    let rest = bytes.len() - shown.len();
    if rest > 0 {
        writeln!(
            out,
            "... {rest} more bytes not shown (at most {HEXDUMP_LIMIT})"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::command::parse;
    use super::*;
    use alloc::string::{String, ToString};
    use alloc::vec;
    use std::format;

    #[test]
    fn file_commands_parse() {
        assert_eq!(parse("ls"), Ok(Command::Ls(None)));
        assert_eq!(parse("ls  /bin "), Ok(Command::Ls(Some("/bin"))));
        let cat = |path, hex| Ok(Command::Cat { path, hex });
        assert_eq!(parse("cat /etc/motd"), cat("/etc/motd", false));
        assert_eq!(parse("cat -x /bin/hello"), cat("/bin/hello", true));
    }

    #[test]
    fn file_commands_say_what_is_wrong() {
        let message = |line| format!("{}", parse(line).unwrap_err());
        assert_eq!(
            message("ls /a /b"),
            "ls: one directory at most (usage: ls [DIR])"
        );
        assert_eq!(message("cat"), "cat: which file? (usage: cat [-x] FILE)");
        assert_eq!(message("cat -x"), "cat: which file? (usage: cat [-x] FILE)");
        assert_eq!(
            message("cat -v /f"),
            "cat: the only option is -x (usage: cat [-x] FILE)"
        );
        assert_eq!(
            message("cat a b"),
            "cat: one file only (usage: cat [-x] FILE)"
        );
    }

    #[test]
    fn text_is_told_from_binary() {
        assert!(is_text(b"hello\n\tworld\r\n"));
        assert!(is_text("süß\n".as_bytes()));
        assert!(is_text(b""));
        assert!(!is_text(b"\x7fELF\x02\x01"));
        assert!(!is_text(b"nul\0inside"));
        assert!(!is_text(b"\x1b[2J clears the screen"));
        assert!(!is_text(b"\xff\xfe not UTF-8"));
    }

    #[test]
    fn listings_show_sizes_and_directories() {
        let entries = [
            DirEntry {
                name: "hello".to_string(),
                size: Some(18_000),
            },
            DirEntry {
                name: "sub".to_string(),
                size: None,
            },
        ];
        let mut out = String::new();
        write_listing(&entries, &mut out).unwrap();
        assert_eq!(out, "     18000  hello\n       dir  sub/\n");
    }

    #[test]
    fn hexdumps_show_offsets_hex_and_ascii() {
        let mut out = String::new();
        write_hexdump(b"\x7fELF\x02\x01\x01\x00 abcdefgh:)", &mut out).unwrap();
        assert_eq!(
            out,
            "00000000  7f 45 4c 46 02 01 01 00 20 61 62 63 64 65 66 67  |.ELF.... abcdefg|\n\
             00000010  68 3a 29                                         |h:)|\n"
        );
        let big = vec![0u8; HEXDUMP_LIMIT + 100];
        let mut out = String::new();
        write_hexdump(&big, &mut out).unwrap();
        assert_eq!(out.lines().count(), HEXDUMP_LIMIT / 16 + 1);
        assert!(
            out.ends_with("... 100 more bytes not shown (at most 4096)\n"),
            "{out}"
        );
    }
}
