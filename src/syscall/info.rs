//! Calls about the system and the thread: `uname`, `ioctl` on the
//! console, `arch_prctl(ARCH_SET_FS)`, `set_tid_address`.

use core::sync::atomic::Ordering;

use super::errno::{EBADF, EINVAL, ENOTTY};
use super::{Args, SysResult};
use crate::process::files::Open;
use crate::process::user_access::{USER_END, copy_to_user};

/// `uname(buf)`: Linux's `struct utsname`, six fields of 65 bytes.
pub fn uname(args: &Args) -> SysResult {
    let mut out = [0u8; 6 * 65];
    let fields: [&[u8]; 6] = [
        b"Pyrite",
        b"pyrite",
        crate::VERSION.as_bytes(),
        b"#1",
        b"x86_64",
        b"",
    ];
    for (slot, text) in out.chunks_exact_mut(65).zip(fields) {
        let n = text.len().min(64);
        slot[..n].copy_from_slice(&text[..n]);
    }
    copy_to_user(args[0], &out)?;
    Ok(0)
}

/// TCGETS and TIOCGWINSZ.
const TCGETS: u64 = 0x5401;
const TIOCGWINSZ: u64 = 0x5413;

/// `ioctl(fd, request, arg)`: the console answers TIOCGWINSZ (80 x 25);
/// everything else is -ENOTTY.
pub fn ioctl(args: &Args) -> SysResult {
    let process = crate::process::current().ok_or(EBADF)?;
    let open = process.files.lock().get(args[0]).ok_or(EBADF)?;
    match (open, args[1]) {
        (Open::Console, TIOCGWINSZ) => {
            let mut size = [0u8; 8];
            size[..2].copy_from_slice(&25u16.to_le_bytes());
            size[2..4].copy_from_slice(&80u16.to_le_bytes());
            copy_to_user(args[2], &size)?;
            Ok(0)
        }
        (Open::Console, TCGETS) | (_, _) => Err(ENOTTY),
    }
}

/// ARCH_SET_FS and ARCH_GET_FS.
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;

/// `arch_prctl(code, addr)`: the FS base, for thread-local storage. The
/// thread keeps it; the switch restores it.
pub fn arch_prctl(args: &Args) -> SysResult {
    match args[0] {
        ARCH_SET_FS if args[1] < USER_END => {
            crate::sched::set_user_fs_base(args[1]);
            Ok(0)
        }
        ARCH_GET_FS => {
            let base = crate::sched::user_fs_base();
            copy_to_user(args[1], &base.to_le_bytes())?;
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// `set_tid_address(tidptr)`: kept; returns the thread id (the pid: one
/// thread per process).
pub fn set_tid_address(args: &Args) -> SysResult {
    let process = crate::process::current().ok_or(EINVAL)?;
    process.clear_child_tid.store(args[0], Ordering::Relaxed);
    Ok(process.pid().0)
}
