//! System call numbers (Linux x86-64's) and what handles each.

use super::{Args, SysResult};

/// Linux's numbers for the calls Pyrite implements.
#[allow(missing_docs)]
pub mod nr {
    pub const READ: u64 = 0;
    pub const WRITE: u64 = 1;
    pub const OPEN: u64 = 2;
    pub const CLOSE: u64 = 3;
    pub const FSTAT: u64 = 5;
    pub const LSEEK: u64 = 8;
    pub const MMAP: u64 = 9;
    pub const MPROTECT: u64 = 10;
    pub const MUNMAP: u64 = 11;
    pub const BRK: u64 = 12;
    pub const IOCTL: u64 = 16;
    pub const WRITEV: u64 = 20;
    pub const SCHED_YIELD: u64 = 24;
    pub const NANOSLEEP: u64 = 35;
    pub const GETPID: u64 = 39;
    pub const EXIT: u64 = 60;
    pub const WAIT4: u64 = 61;
    pub const UNAME: u64 = 63;
    pub const GETPPID: u64 = 110;
    pub const ARCH_PRCTL: u64 = 158;
    pub const SET_TID_ADDRESS: u64 = 218;
    pub const CLOCK_GETTIME: u64 = 228;
    pub const EXIT_GROUP: u64 = 231;
    pub const OPENAT: u64 = 257;
    pub const SPAWN: u64 = crate::syscall::spawn::SPAWN;
}

/// A handler.
pub type Handler = fn(&Args) -> SysResult;

/// What is known of a call without running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallInfo {
    /// Its name, for the log.
    pub name: &'static str,
    /// Whether it may wait: it runs with interrupts on.
    pub waits: bool,
}

/// Every implemented call: number, name, whether it waits.
const CALLS: &[(u64, &str, bool)] = &[
    (nr::READ, "read", true),
    (nr::WRITE, "write", false),
    (nr::OPEN, "open", false),
    (nr::CLOSE, "close", false),
    (nr::FSTAT, "fstat", false),
    (nr::LSEEK, "lseek", false),
    (nr::MMAP, "mmap", false),
    (nr::MPROTECT, "mprotect", false),
    (nr::MUNMAP, "munmap", false),
    (nr::BRK, "brk", false),
    (nr::IOCTL, "ioctl", false),
    (nr::WRITEV, "writev", false),
    (nr::SCHED_YIELD, "sched_yield", true),
    (nr::NANOSLEEP, "nanosleep", true),
    (nr::GETPID, "getpid", false),
    (nr::EXIT, "exit", false),
    (nr::UNAME, "uname", false),
    (nr::GETPPID, "getppid", false),
    (nr::ARCH_PRCTL, "arch_prctl", false),
    (nr::SET_TID_ADDRESS, "set_tid_address", false),
    (nr::CLOCK_GETTIME, "clock_gettime", false),
    (nr::EXIT_GROUP, "exit_group", false),
    (nr::OPENAT, "openat", false),
    (nr::WAIT4, "wait4", true),
    (nr::SPAWN, "spawn", false),
];

/// The call with number `number`, if Pyrite implements it.
pub fn info(number: u64) -> Option<CallInfo> {
    CALLS
        .iter()
        .find(|(n, ..)| *n == number)
        .map(|&(_, name, waits)| CallInfo { name, waits })
}

/// The handler of call `number` (every number [`info`] knows has one).
pub fn handler(number: u64) -> Option<Handler> {
    use super::{files, info, io, memory, process, spawn, time};
    Some(match number {
        nr::READ => io::read,
        nr::WRITE => io::write,
        nr::WRITEV => io::writev,
        nr::OPEN => files::open,
        nr::OPENAT => files::openat,
        nr::CLOSE => files::close,
        nr::FSTAT => files::fstat,
        nr::LSEEK => files::lseek,
        nr::MMAP => memory::mmap,
        nr::MPROTECT => memory::mprotect,
        nr::MUNMAP => memory::munmap,
        nr::BRK => memory::brk,
        nr::IOCTL => info::ioctl,
        nr::SCHED_YIELD => process::sched_yield,
        nr::NANOSLEEP => time::nanosleep,
        nr::GETPID => process::getpid,
        nr::GETPPID => process::getppid,
        nr::EXIT | nr::EXIT_GROUP => process::exit,
        nr::UNAME => info::uname,
        nr::ARCH_PRCTL => info::arch_prctl,
        nr::SET_TID_ADDRESS => info::set_tid_address,
        nr::CLOCK_GETTIME => time::clock_gettime,
        nr::WAIT4 => spawn::wait4,
        nr::SPAWN => spawn::spawn,
        _ => return None,
    })
}

/// The six arguments of a call, from the saved registers in Linux's order:
/// rdi, rsi, rdx, r10, r8, r9.
pub fn arguments(rdi: u64, rsi: u64, rdx: u64, r10: u64, r8: u64, r9: u64) -> Args {
    [rdi, rsi, rdx, r10, r8, r9]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_numbers_find_their_calls() {
        assert_eq!(info(1).map(|c| c.name), Some("write"));
        assert_eq!(info(60).map(|c| c.name), Some("exit"));
        assert_eq!(info(231).map(|c| c.name), Some("exit_group"));
        assert_eq!(info(228).map(|c| c.name), Some("clock_gettime"));
        assert_eq!(info(257).map(|c| c.name), Some("openat"));
        assert_eq!(info(61).map(|c| c.name), Some("wait4"));
        assert_eq!(info(1024).map(|c| c.name), Some("spawn"));
        assert!(info(35).is_some_and(|c| c.waits), "nanosleep waits");
        assert!(info(1).is_some_and(|c| !c.waits));
    }

    #[test]
    fn unknown_numbers_find_nothing() {
        for n in [57, 59, 62, 400, 1023, 1 << 32, u64::MAX] {
            assert!(info(n).is_none(), "{n}");
        }
    }

    #[test]
    fn each_number_once() {
        for (i, (n, ..)) in CALLS.iter().enumerate() {
            assert!(CALLS[i + 1..].iter().all(|(m, ..)| m != n), "{n} twice");
        }
    }

    #[test]
    fn arguments_come_in_linux_order() {
        assert_eq!(arguments(1, 2, 3, 4, 5, 6), [1, 2, 3, 4, 5, 6]);
    }
}
