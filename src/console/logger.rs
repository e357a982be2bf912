//! The `log` crate's backend: lines like
//! `[   0.123456] INFO  boot: message` on the console, coloured by level
//! (warnings and errors on serial too), wrapped between words on the
//! screen. Time is seconds since kernel entry.

use core::fmt;

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::{Colour, ColourCode, write_log_line};
use crate::time;

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;

/// Installs the logger with `level` as the most verbose level shown.
pub fn init(level: LevelFilter) {
    // Fails only if a logger is already set, which then keeps working.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

/// The kernel's top-level module a record comes from (`boot` for
/// `pyrite::boot::summary`), so that lines fit the 80-column screen.
fn short_target(target: &str) -> &str {
    match target.strip_prefix("pyrite::") {
        Some(path) => path.split("::").next().unwrap_or(path),
        None => target,
    }
}

fn level_colour(level: Level) -> ColourCode {
    let fg = match level {
        Level::Error => Colour::LightRed,
        Level::Warn => Colour::Yellow,
        Level::Info => Colour::LightGrey,
        Level::Debug | Level::Trace => Colour::DarkGrey,
    };
    ColourCode::new(fg, Colour::Black)
}

/// Formats one log line (without the newline).
pub struct LogLine<'a> {
    /// Time since boot.
    pub uptime: core::time::Duration,
    /// The record's level.
    pub level: Level,
    /// The module that logged.
    pub target: &'a str,
    /// The message.
    pub args: fmt::Arguments<'a>,
}

impl LogLine<'_> {
    /// What comes before the message: `[   0.123456] INFO  boot: `.
    pub fn prefix(&self) -> impl fmt::Display + '_ {
        Prefix(self)
    }
}

struct Prefix<'a, 'b>(&'a LogLine<'b>);

impl fmt::Display for Prefix<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.0;
        write!(
            f,
            "[{:>4}.{:06}] {:<5} {}: ",
            line.uptime.as_secs(),
            line.uptime.subsec_micros(),
            line.level,
            short_target(line.target),
        )
    }
}

impl fmt::Display for LogLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.prefix(), self.args)
    }
}

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = LogLine {
            uptime: time::since_boot(),
            level: record.level(),
            target: record.target(),
            args: *record.args(),
        };
        write_log_line(
            level_colour(record.level()),
            format_args!("{}", line.prefix()),
            line.args,
        );
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn line_has_the_documented_format() {
        let line = LogLine {
            uptime: Duration::from_micros(123_456),
            level: Level::Info,
            target: "pyrite::boot::summary",
            args: format_args!("hello {}", 42),
        };
        assert_eq!(std::format!("{line}"), "[   0.123456] INFO  boot: hello 42");
    }

    #[test]
    fn long_uptimes_and_foreign_targets() {
        let line = LogLine {
            uptime: Duration::new(12_345, 6_000),
            level: Level::Error,
            target: "basic_boot",
            args: format_args!("x"),
        };
        assert_eq!(std::format!("{line}"), "[12345.000006] ERROR basic_boot: x");
    }
}
