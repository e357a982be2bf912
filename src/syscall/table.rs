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
    pub const UNAME: u64 = 63;
    pub const GETPPID: u64 = 110;
    pub const ARCH_PRCTL: u64 = 158;
    pub const SET_TID_ADDRESS: u64 = 218;
    pub const CLOCK_GETTIME: u64 = 228;
    pub const EXIT_GROUP: u64 = 231;
    pub const OPENAT: u64 = 257;
}

/// A handler.
pub type Handler = fn(&Args) -> SysResult;

/// How a call runs.
#[derive(Clone, Copy)]
pub struct Call {
    /// Its name, for the log.
    pub name: &'static str,
    /// The handler.
    pub handler: Handler,
    /// Whether it may wait: it runs with interrupts on.
    pub waits: bool,
}

const fn call(name: &'static str, handler: Handler) -> Call {
    Call {
        name,
        handler,
        waits: false,
    }
}

const fn waiting(name: &'static str, handler: Handler) -> Call {
    Call {
        name,
        handler,
        waits: true,
    }
}

/// The call with number `number`, if Pyrite implements it.
pub fn lookup(number: u64) -> Option<Call> {
    use super::{files, info, io, memory, process, time};
    Some(match number {
        nr::READ => waiting("read", io::read),
        nr::WRITE => call("write", io::write),
        nr::WRITEV => call("writev", io::writev),
        nr::OPEN => call("open", files::open),
        nr::OPENAT => call("openat", files::openat),
        nr::CLOSE => call("close", files::close),
        nr::FSTAT => call("fstat", files::fstat),
        nr::LSEEK => call("lseek", files::lseek),
        nr::MMAP => call("mmap", memory::mmap),
        nr::MPROTECT => call("mprotect", memory::mprotect),
        nr::MUNMAP => call("munmap", memory::munmap),
        nr::BRK => call("brk", memory::brk),
        nr::IOCTL => call("ioctl", info::ioctl),
        nr::SCHED_YIELD => waiting("sched_yield", process::sched_yield),
        nr::NANOSLEEP => waiting("nanosleep", time::nanosleep),
        nr::GETPID => call("getpid", process::getpid),
        nr::GETPPID => call("getppid", process::getppid),
        nr::EXIT => call("exit", process::exit),
        nr::EXIT_GROUP => call("exit_group", process::exit),
        nr::UNAME => call("uname", info::uname),
        nr::ARCH_PRCTL => call("arch_prctl", info::arch_prctl),
        nr::SET_TID_ADDRESS => call("set_tid_address", info::set_tid_address),
        nr::CLOCK_GETTIME => call("clock_gettime", time::clock_gettime),
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
        assert_eq!(lookup(1).map(|c| c.name), Some("write"));
        assert_eq!(lookup(60).map(|c| c.name), Some("exit"));
        assert_eq!(lookup(231).map(|c| c.name), Some("exit_group"));
        assert_eq!(lookup(228).map(|c| c.name), Some("clock_gettime"));
        assert!(lookup(35).is_some_and(|c| c.waits), "nanosleep waits");
        assert!(lookup(1).is_some_and(|c| !c.waits));
    }

    #[test]
    fn unknown_numbers_find_nothing() {
        for n in [57, 59, 61, 400, 1 << 32, u64::MAX] {
            assert!(lookup(n).is_none(), "{n}");
        }
    }

    #[test]
    fn arguments_come_in_linux_order() {
        assert_eq!(arguments(1, 2, 3, 4, 5, 6), [1, 2, 3, 4, 5, 6]);
    }
}
