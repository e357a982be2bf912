//! Standard output and error, and the `print!` family on them.

use core::fmt;

use crate::sys;

/// A file descriptor to write formatted text to.
pub struct Fd(pub u32);

/// Standard output.
pub const STDOUT: u32 = 1;
/// Standard error.
pub const STDERR: u32 = 2;

impl fmt::Write for Fd {
    /// Writes all of `s`, in as many calls as the kernel needs.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            match sys::write(self.0, rest) {
                Ok(0) | Err(_) => return Err(fmt::Error),
                Ok(n) => rest = &rest[n.min(rest.len())..],
            }
        }
        Ok(())
    }
}

/// Writes `args` to `fd`; output that cannot be written is dropped, as
/// there is nowhere to report it.
pub fn write_fmt(fd: u32, args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Fd(fd), args);
}

/// Prints to standard output.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::write_fmt($crate::io::STDOUT, format_args!($($arg)*)) };
}

/// Prints a line to standard output.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::print!("{}\n", format_args!($($arg)*)) };
}

/// Prints a line to standard error.
#[macro_export]
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::io::write_fmt($crate::io::STDERR, format_args!("{}\n", format_args!($($arg)*)))
    };
}
