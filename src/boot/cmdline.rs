//! The kernel command line: `multiboot2 /boot/kernel.elf ARGS` in grub.cfg.
//!
//! Options are space-separated `key=value` words. Known so far:
//! `log=off|error|warn|info|debug|trace`. Unknown options and bad values are
//! reported and ignored; they never stop the boot.

use core::fmt;

use log::LevelFilter;

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

/// The options the command line sets; later words win over earlier ones.
pub fn parse(cmdline: &str) -> KernelOptions {
    let mut options = KernelOptions::default();
    for setting in cmdline
        .split_ascii_whitespace()
        .filter_map(|w| interpret(w).ok())
    {
        match setting {
            Setting::LogLevel(level) => options.log_level = level,
        }
    }
    options
}

/// The words of the command line that [`parse`] ignored, in order.
pub fn problems(cmdline: &str) -> impl Iterator<Item = OptionProblem<'_>> {
    cmdline
        .split_ascii_whitespace()
        .filter_map(|word| interpret(word).err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn empty_line_gives_defaults() {
        assert_eq!(parse(""), KernelOptions::default());
        assert_eq!(parse("   "), KernelOptions::default());
        assert_eq!(problems("").count(), 0);
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
            assert_eq!(parse(&line).log_level, level, "{line}");
            assert_eq!(problems(&line).count(), 0);
        }
    }

    #[test]
    fn last_setting_wins() {
        assert_eq!(parse("log=trace log=warn").log_level, LevelFilter::Warn);
    }

    #[test]
    fn unknown_options_are_reported_not_fatal() {
        let line = "quiet log=debug splash=1";
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
        let line = "log=loud";
        assert_eq!(parse(line).log_level, LevelFilter::Info);
        let problem = problems(line).next().expect("one problem");
        assert_eq!(
            std::format!("{problem}"),
            "kernel option log: \"loud\" is not one of off|error|warn|info|debug|trace; ignored"
        );
    }
}
