//! Reading and writing: `read`, `write`, `writev`. Descriptors 1 and 2
//! write to the console; descriptor 0 reads the console a line at a time
//! ([`crate::process::console_input`]: the foreground program's keys, end
//! of file for others); file descriptors read their module file.

use super::errno::{EBADF, EINVAL};
use super::{Args, SysResult};
use crate::process::files::Open;
use crate::process::user_access::{copy_from_user, copy_to_user};

/// Bytes copied from or to user memory at a time.
const CHUNK: usize = 512;
/// The most one `write` or `writev` writes: a partial write, as Linux
/// allows, so that no call runs long with interrupts off.
pub const MAX_WRITE: u64 = 64 * 1024;
/// The most iovecs a `writev` takes (Linux's IOV_MAX).
const IOV_MAX: u64 = 1024;

fn descriptor(fd: u64) -> Result<Open, super::errno::Errno> {
    let process = crate::process::current().ok_or(EBADF)?;
    process.files.lock().get(fd).ok_or(EBADF)
}

/// Writes user bytes `addr..addr + len` to the console, chunk by chunk.
fn write_console(addr: u64, len: u64) -> SysResult {
    let mut buf = [0u8; CHUNK];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        if let Err(err) = copy_from_user(&mut buf[..n], addr + done) {
            // Linux returns what was written before the bad byte, if any.
            return if done > 0 { Ok(done) } else { Err(err.into()) };
        }
        for chunk in buf[..n].utf8_chunks() {
            crate::console::write_fmt(format_args!("{}", chunk.valid()));
            if !chunk.invalid().is_empty() {
                crate::console::write_fmt(format_args!("\u{fffd}"));
            }
        }
        done += n as u64;
    }
    Ok(done)
}

/// `write(fd, buf, count)`.
pub fn write(args: &Args) -> SysResult {
    let [fd, buf, count, ..] = *args;
    match (fd, descriptor(fd)?) {
        (1 | 2, Open::Console) => write_console(buf, count.min(MAX_WRITE)),
        _ => Err(EBADF),
    }
}

/// `writev(fd, iov, iovcnt)`.
pub fn writev(args: &Args) -> SysResult {
    let [fd, iov, count, ..] = *args;
    if count > IOV_MAX {
        return Err(EINVAL);
    }
    let mut total = 0u64;
    for i in 0..count {
        if total >= MAX_WRITE {
            break;
        }
        let mut raw = [0u8; 16];
        copy_from_user(&mut raw, iov + i * 16)?;
        let base = u64::from_le_bytes(raw[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(raw[8..].try_into().expect("8 bytes"));
        total += write(&[fd, base, len.min(MAX_WRITE - total), 0, 0, 0])?;
    }
    Ok(total)
}

/// `read(fd, buf, count)`.
pub fn read(args: &Args) -> SysResult {
    let [fd, buf, count, ..] = *args;
    let process = crate::process::current().ok_or(EBADF)?;
    let open = process.files.lock().get(fd).ok_or(EBADF)?;
    match open {
        Open::Console if fd == 0 => {
            let max = (count as usize).min(CHUNK);
            let pid = process.pid();
            // Nothing of the process is held while waiting: a kill there
            // ends the thread without dropping what its stack holds.
            drop(process);
            let bytes = crate::process::console_input::read(pid, max);
            copy_to_user(buf, &bytes)?;
            Ok(bytes.len() as u64)
        }
        Open::Console => Err(EBADF),
        Open::File { file, offset } => {
            let mut chunk = [0u8; CHUNK];
            let n = file.read_at(offset, &mut chunk[..(count as usize).min(CHUNK)]);
            copy_to_user(buf, &chunk[..n])?;
            process.files.lock().set(
                fd,
                Open::File {
                    file,
                    offset: offset + n as u64,
                },
            );
            Ok(n as u64)
        }
    }
}
