//! File calls on the module files: `open`, `openat`, `close`, `lseek`,
//! `fstat`. Files are read-only; there are no directories to open.

use super::errno::{EBADF, EINVAL, EISDIR, EMFILE, ENAMETOOLONG, ENOENT, EROFS, Errno};
use super::{Args, SysResult};
use crate::fs::{FsError, MAX_PATH};
use crate::process::files::Open;
use crate::process::user_access::{copy_to_user, read_user_string};

/// O_ACCMODE: the access mode bits; only O_RDONLY (0) is served.
const O_ACCMODE: u64 = 3;
/// AT_FDCWD: paths relative to the working directory (which is `/`).
const AT_FDCWD: u64 = (-100i64) as u64;

fn open_path(path_addr: u64, flags: u64) -> SysResult {
    if flags & O_ACCMODE != 0 {
        return Err(EROFS);
    }
    let path = read_user_string(path_addr, MAX_PATH)?.ok_or(ENAMETOOLONG)?;
    let path = core::str::from_utf8(&path).map_err(|_| ENOENT)?;
    let files = crate::fs::files().ok_or(ENOENT)?;
    let file = files.open(path).map_err(|err| match err {
        FsError::NotFound => ENOENT,
        _ => EISDIR,
    })?;
    let process = crate::process::current().ok_or(EBADF)?;
    let fd = process.files.lock().open(file).ok_or(EMFILE)?;
    Ok(fd)
}

/// `open(path, flags, mode)`.
pub fn open(args: &Args) -> SysResult {
    open_path(args[0], args[1])
}

/// `openat(dirfd, path, flags, mode)`: only AT_FDCWD (or absolute paths).
pub fn openat(args: &Args) -> SysResult {
    if args[0] != AT_FDCWD && args[0] > i32::MAX as u64 {
        return Err(EBADF);
    }
    open_path(args[1], args[2])
}

/// `close(fd)`.
pub fn close(args: &Args) -> SysResult {
    let process = crate::process::current().ok_or(EBADF)?;
    if process.files.lock().close(args[0]) {
        Ok(0)
    } else {
        Err(EBADF)
    }
}

/// SEEK_SET, SEEK_CUR, SEEK_END.
const SEEK_SET: u64 = 0;
const SEEK_CUR: u64 = 1;
const SEEK_END: u64 = 2;

/// The new offset of an lseek, if valid.
pub fn seek(offset: u64, len: u64, delta: i64, whence: u64) -> Result<u64, Errno> {
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => offset,
        SEEK_END => len,
        _ => return Err(EINVAL),
    };
    base.checked_add_signed(delta).ok_or(EINVAL)
}

/// `lseek(fd, offset, whence)`.
pub fn lseek(args: &Args) -> SysResult {
    let process = crate::process::current().ok_or(EBADF)?;
    let mut files = process.files.lock();
    match files.get(args[0]).ok_or(EBADF)? {
        Open::File { file, offset } => {
            let new = seek(offset, file.len(), args[1] as i64, args[2])?;
            files.set(args[0], Open::File { file, offset: new });
            Ok(new)
        }
        Open::Console => Err(Errno(29)), // ESPIPE
    }
}

/// `fstat(fd, statbuf)`: the size and type; the rest zero.
pub fn fstat(args: &Args) -> SysResult {
    let process = crate::process::current().ok_or(EBADF)?;
    let open = process.files.lock().get(args[0]).ok_or(EBADF)?;
    copy_to_user(args[1], &stat_bytes(open))?;
    Ok(0)
}

/// Linux's `struct stat` (144 bytes) for `open`: st_mode at 24, st_size at
/// 48, st_blksize at 56, st_blocks at 64.
fn stat_bytes(open: Open) -> [u8; 144] {
    let (mode, size): (u32, u64) = match open {
        Open::Console => (0o020_620, 0),
        Open::File { file, .. } => (0o100_444, file.len()),
    };
    let mut out = [0u8; 144];
    out[24..28].copy_from_slice(&mode.to_le_bytes());
    out[48..56].copy_from_slice(&size.to_le_bytes());
    out[56..64].copy_from_slice(&4096u64.to_le_bytes());
    out[64..72].copy_from_slice(&size.div_ceil(512).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeks() {
        assert_eq!(seek(5, 100, 10, SEEK_SET), Ok(10));
        assert_eq!(seek(5, 100, 10, SEEK_CUR), Ok(15));
        assert_eq!(seek(5, 100, -10, SEEK_END), Ok(90));
        assert_eq!(seek(5, 100, -10, SEEK_CUR), Err(EINVAL));
        assert_eq!(seek(5, 100, 0, 3), Err(EINVAL));
    }

    #[test]
    fn stat_of_the_console() {
        let s = stat_bytes(Open::Console);
        assert_eq!(u32::from_le_bytes(s[24..28].try_into().unwrap()), 0o020_620);
    }
}
