//! Process calls: `exit`/`exit_group`, `getpid`, `getppid`, `sched_yield`.

use super::{Args, SysResult};
use crate::process::{self, ExitStatus};

/// `exit(status)` and `exit_group(status)` (one thread per process, so the
/// same): the low 8 bits are the status.
pub fn exit(args: &Args) -> SysResult {
    process::exit_current(ExitStatus::Exited((args[0] & 0xff) as i32))
}

/// `getpid()`.
pub fn getpid(_: &Args) -> SysResult {
    Ok(process::current().map_or(0, |p| p.pid().0))
}

/// `getppid()`: 0 for a process the kernel started.
pub fn getppid(_: &Args) -> SysResult {
    Ok(process::current()
        .and_then(|p| p.parent())
        .map_or(0, |pid| pid.0))
}

/// `sched_yield()`.
pub fn sched_yield(_: &Args) -> SysResult {
    crate::sched::yield_now();
    Ok(0)
}
