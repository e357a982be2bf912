//! Starting and waiting for programs: Pyrite's `spawn` (number
//! [`SPAWN`], outside Linux's range) and Linux's `wait4`.

use alloc::vec::Vec;
use core::time::Duration;

use super::errno::{E2BIG, ECHILD, EINVAL, ENAMETOOLONG, ENOENT, ENOMEM, Errno};
use super::{Args, SysResult};
use crate::fs::MAX_PATH;
use crate::process::user_access::{copy_from_user, copy_to_user, read_user_string};
use crate::process::{self, ChildWait, LoadError, Pid, SpawnError};

/// `spawn(path, argv, envp)`: Pyrite's number, outside Linux's range
/// (Linux's x86-64 numbers stay below 512; x32 uses bit 30).
pub const SPAWN: u64 = 1024;
/// The most arguments plus environment strings.
pub const MAX_STRINGS: usize = 64;
/// The longest argument or environment string.
pub const MAX_STRING: usize = 4096;
/// WNOHANG.
const WNOHANG: u64 = 1;
/// The longest a waiting parent blocks before it looks again and passes a
/// preemption point (a kill does not wake a blocked thread); a child's end
/// wakes it at once.
const WAIT_STEP: Duration = Duration::from_millis(5);

/// Reads a NULL-terminated array of string pointers at `addr` (none if
/// `addr` is 0).
fn read_strings(addr: u64, out: &mut Vec<Vec<u8>>) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    for i in 0.. {
        if out.len() >= MAX_STRINGS {
            return Err(E2BIG);
        }
        let mut word = [0u8; 8];
        copy_from_user(&mut word, addr + i * 8)?;
        let ptr = u64::from_le_bytes(word);
        if ptr == 0 {
            break;
        }
        out.push(read_user_string(ptr, MAX_STRING)?.ok_or(E2BIG)?);
    }
    Ok(())
}

/// `spawn(path, argv, envp)`: starts a program as a child; its pid.
pub fn spawn(args: &Args) -> SysResult {
    let path = read_user_string(args[0], MAX_PATH)?.ok_or(ENAMETOOLONG)?;
    let path = core::str::from_utf8(&path).map_err(|_| ENOENT)?;
    let mut argv = Vec::new();
    read_strings(args[1], &mut argv)?;
    let mut envp = Vec::new();
    read_strings(args[2], &mut envp)?;
    let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let envp: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
    match process::spawn_child(path, &argv, &envp) {
        Ok(Pid(pid)) => Ok(pid),
        Err(SpawnError::Load(LoadError::File(_))) => Err(ENOENT),
        Err(SpawnError::Load(LoadError::Elf(_))) => Err(Errno(8)), // ENOEXEC
        Err(SpawnError::Load(LoadError::Arguments(_))) => Err(E2BIG),
        Err(_) => Err(ENOMEM),
    }
}

/// `wait4(pid, wstatus, options, rusage)`: pid > 0 or -1 (any child);
/// WNOHANG; rusage is not filled.
pub fn wait4(args: &Args) -> SysResult {
    let which = match args[0] as i64 {
        -1 => None,
        pid if pid > 0 => Some(Pid(pid as u64)),
        _ => return Err(EINVAL),
    };
    loop {
        // With interrupts off: no preemption point (and so no kill)
        // halfway through a reap.
        let found = crate::arch::without_interrupts(|| process::try_wait_child(which));
        match found {
            (Some(pid), ChildWait::Ended(status)) => {
                if args[1] != 0 {
                    copy_to_user(args[1], &status.wait_status().to_le_bytes())?;
                }
                return Ok(pid.0);
            }
            (_, ChildWait::NoChild) => return Err(ECHILD),
            _ if args[2] & WNOHANG != 0 => return Ok(0),
            // Nothing held while waiting: a kill at the preemption point
            // leaves nothing behind.
            _ => {
                // Woken when any thread exits, or after a step.
                crate::sched::wait_for_any_exit(|| process::child_wait_is_ready(which), WAIT_STEP);
                crate::sched::yield_now();
            }
        }
    }
}
