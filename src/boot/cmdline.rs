//! The kernel command line: `multiboot2 /boot/kernel.elf ARGS` in grub.cfg.
//!
//! Options are space-separated `key=value` words. Known so far:
//! `log=off|error|warn|info|debug|trace`. Unknown options and bad values are
//! reported and ignored; they never stop the boot.
//!
//! The line is read as bytes, not as text: Multiboot2 promises UTF-8, but a
//! typo in a boot loader's editor or a stray byte must not cost the options
//! that are fine. Words are split on ASCII spaces at the byte level; a word
//! that is not UTF-8 is reported (with its byte offset) and skipped.

use core::fmt;

use log::LevelFilter;

/// The command line as the boot loader gave it: bytes, up to its NUL.
/// Shown lossily (U+FFFD for what is not UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommandLine<'a>(&'a [u8]);

impl<'a> CommandLine<'a> {
    /// The line in `raw`, cut at its first NUL (the whole slice if none).
    pub fn from_nul_terminated(raw: &'a [u8]) -> Self {
        let len = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        Self(&raw[..len])
    }

    /// Whether `word` is one of the line's words.
    pub fn has_word(&self, word: &str) -> bool {
        words(self.0).any(|(_, w)| w == word.as_bytes())
    }

    /// The line's bytes, without the NUL.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl fmt::Display for CommandLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Lossy(self.0).fmt(f)
    }
}

/// The settings the command line can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelOptions {
    /// The most verbose log level shown.
    pub log_level: LevelFilter,
}

impl Default for KernelOptions {
    fn default() -> Self {
        Self {
            log_level: LevelFilter::Info,
        }
    }
}

/// A word of the command line that was ignored, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionProblem<'a> {
    /// No option has this name.
    Unknown(&'a str),
    /// The word is not UTF-8 text.
    NotText {
        /// Where the word starts, in bytes from the start of the line.
        offset: usize,
        /// The word as given.
        word: &'a [u8],
    },
    /// The option exists but the value is not one it takes.
    BadValue {
        /// The option's name.
        option: &'a str,
        /// The value given.
        value: &'a str,
        /// The values it takes.
        expected: &'static str,
    },
}

impl fmt::Display for OptionProblem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(word) => write!(f, "unknown kernel option \"{word}\" ignored"),
            Self::NotText { offset, word } => write!(
                f,
                "kernel option at byte {offset} is not UTF-8 text (\"{}\"); ignored",
                Lossy(word)
            ),
            Self::BadValue {
                option,
                value,
                expected,
            } => write!(
                f,
                "kernel option {option}: \"{value}\" is not one of {expected}; ignored"
            ),
        }
    }
}

enum Setting {
    LogLevel(LevelFilter),
}

const LOG_LEVELS: &str = "off|error|warn|info|debug|trace";

/// Reads one word of the command line.
fn interpret(word: &str) -> Result<Setting, OptionProblem<'_>> {
    let (option, value) = word.split_once('=').unwrap_or((word, ""));
    match option {
        "log" => {
            let level = match value {
                "off" => LevelFilter::Off,
                "error" => LevelFilter::Error,
                "warn" => LevelFilter::Warn,
                "info" => LevelFilter::Info,
                "debug" => LevelFilter::Debug,
                "trace" => LevelFilter::Trace,
                _ => {
                    return Err(OptionProblem::BadValue {
                        option,
                        value,
                        expected: LOG_LEVELS,
                    });
                }
            };
            Ok(Setting::LogLevel(level))
        }
        _ => Err(OptionProblem::Unknown(word)),
    }
}

/// The words of `line`, split on ASCII whitespace, each with its byte
/// offset.
fn words(line: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut offset = 0;
    core::iter::from_fn(move || {
        let rest = line.get(offset..)?;
        let start = offset + rest.iter().position(|b| !b.is_ascii_whitespace())?;
        let len = line[start..]
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(line.len() - start);
        offset = start + len;
        Some((start, &line[start..offset]))
    })
}

/// Reads one word, which may not be text.
fn interpret_bytes(offset: usize, word: &[u8]) -> Result<Setting, OptionProblem<'_>> {
    match core::str::from_utf8(word) {
        Ok(word) => interpret(word),
        Err(_) => Err(OptionProblem::NotText { offset, word }),
    }
}

/// The options the command line sets; later words win over earlier ones.
pub fn parse(cmdline: &[u8]) -> KernelOptions {
    let mut options = KernelOptions::default();
    for setting in words(cmdline).filter_map(|(at, w)| interpret_bytes(at, w).ok()) {
        match setting {
            Setting::LogLevel(level) => options.log_level = level,
        }
    }
    options
}

/// The words of the command line that [`parse`] ignored, in order.
pub fn problems(cmdline: &[u8]) -> impl Iterator<Item = OptionProblem<'_>> {
    words(cmdline).filter_map(|(at, word)| interpret_bytes(at, word).err())
}

/// Shows bytes as text, with U+FFFD for each run that is not UTF-8.
#[derive(Debug, Clone, Copy)]
pub struct Lossy<'a>(pub &'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn empty_line_gives_defaults() {
        assert_eq!(parse(b""), KernelOptions::default());
        assert_eq!(parse(b"   "), KernelOptions::default());
        assert_eq!(problems(b"").count(), 0);
    }

    #[test]
    fn every_log_level_is_understood() {
        for (word, level) in [
            ("off", LevelFilter::Off),
            ("error", LevelFilter::Error),
            ("warn", LevelFilter::Warn),
            ("info", LevelFilter::Info),
            ("debug", LevelFilter::Debug),
            ("trace", LevelFilter::Trace),
        ] {
            let line = std::format!("log={word}");
            assert_eq!(parse(line.as_bytes()).log_level, level, "{line}");
            assert_eq!(problems(line.as_bytes()).count(), 0);
        }
    }

    #[test]
    fn last_setting_wins() {
        assert_eq!(parse(b"log=trace log=warn").log_level, LevelFilter::Warn);
    }

    #[test]
    fn unknown_options_are_reported_not_fatal() {
        let line = b"quiet log=debug splash=1";
        assert_eq!(parse(line).log_level, LevelFilter::Debug);
        let found: Vec<_> = problems(line).collect();
        assert_eq!(
            found,
            [
                OptionProblem::Unknown("quiet"),
                OptionProblem::Unknown("splash=1")
            ]
        );
    }

    #[test]
    fn bad_level_keeps_default_and_says_what_is_expected() {
        let line = b"log=loud";
        assert_eq!(parse(line).log_level, LevelFilter::Info);
        let problem = problems(line).next().expect("one problem");
        assert_eq!(
            std::format!("{problem}"),
            "kernel option log: \"loud\" is not one of off|error|warn|info|debug|trace; ignored"
        );
    }

    #[test]
    fn a_word_that_is_not_text_costs_only_itself() {
        let line = b"log=debug \xffbad\xfe tail=\xc3";
        assert_eq!(parse(line).log_level, LevelFilter::Debug);
        let found: Vec<_> = problems(line).collect();
        assert_eq!(
            found,
            [
                OptionProblem::NotText {
                    offset: 10,
                    word: b"\xffbad\xfe"
                },
                OptionProblem::NotText {
                    offset: 16,
                    word: b"tail=\xc3"
                },
            ]
        );
        assert_eq!(
            std::format!("{}", found[0]),
            "kernel option at byte 10 is not UTF-8 text (\"\u{FFFD}bad\u{FFFD}\"); ignored"
        );
    }

    #[test]
    fn invalid_bytes_before_a_good_option_do_not_hide_it() {
        assert_eq!(parse(b"\x80\x80 log=error").log_level, LevelFilter::Error);
        assert_eq!(parse(b"\tlog=trace\n").log_level, LevelFilter::Trace);
    }

    #[test]
    fn the_line_ends_at_its_nul_and_shows_lossily() {
        let line = CommandLine::from_nul_terminated(b"log=warn \xff\0junk");
        assert_eq!(line.as_bytes(), b"log=warn \xff");
        assert_eq!(std::format!("{line}"), "log=warn \u{FFFD}");
        assert_eq!(CommandLine::from_nul_terminated(b"").as_bytes(), b"");
        assert!(line.has_word("log=warn"));
        assert!(!line.has_word("log"));
    }

    #[test]
    fn words_carry_their_offsets() {
        let found: Vec<_> = words(b"  a bc\t\td ").collect();
        assert_eq!(found, [(2, &b"a"[..]), (4, &b"bc"[..]), (8, &b"d"[..])]);
    }
}
