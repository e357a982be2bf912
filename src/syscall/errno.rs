//! The errno values Pyrite returns, with Linux's numbers.

use crate::process::user_access::BadAddress;

/// An error number; a system call returns it negated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i64);

/// No such file or directory.
pub const ENOENT: Errno = Errno(2);
/// Argument list too long.
pub const E2BIG: Errno = Errno(7);
/// Bad file descriptor.
pub const EBADF: Errno = Errno(9);
/// No child processes.
pub const ECHILD: Errno = Errno(10);
/// Out of memory.
pub const ENOMEM: Errno = Errno(12);
/// Bad address.
pub const EFAULT: Errno = Errno(14);
/// Is a directory.
pub const EISDIR: Errno = Errno(21);
/// Invalid argument.
pub const EINVAL: Errno = Errno(22);
/// Too many open files.
pub const EMFILE: Errno = Errno(24);
/// Not a terminal.
pub const ENOTTY: Errno = Errno(25);
/// Read-only file system.
pub const EROFS: Errno = Errno(30);
/// File name too long.
pub const ENAMETOOLONG: Errno = Errno(36);
/// No such system call.
pub const ENOSYS: Errno = Errno(38);

impl From<BadAddress> for Errno {
    fn from(_: BadAddress) -> Self {
        EFAULT
    }
}

/// The value rax gets: the result, or the errno negated.
pub fn to_rax(result: Result<u64, Errno>) -> u64 {
    match result {
        Ok(value) => value,
        Err(Errno(e)) => (-e) as u64,
    }
}
