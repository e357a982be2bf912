//! Reading and writing user memory from the kernel: the only door.
//!
//! Every access checks its range first ([`check_range`]: in the lower half,
//! no wrap-around, not page 0) and then every page in the current process's
//! space: mapped for user access, writable if written, or a demand-zero
//! page not touched yet (mapped now, so the copy finds it). Only then does
//! `user_copy` (asm/user_copy.asm) copy, with SMAP lifted for the copy
//! alone. If the copy faults anyway (another thread of the process unmapped
//! the page meanwhile), the page-fault handler resumes it at its recovery
//! label and the caller gets [`BadAddress`] (the system calls' `-EFAULT`),
//! never a kernel fault.

use alloc::vec::Vec;
use core::ops::Range;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::memory::PAGE_SIZE;

/// One past the highest user address (the end of the lower half).
pub const USER_END: u64 = 0x0000_8000_0000_0000;

/// A user pointer that does not point at memory the program may access so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress;

/// How the kernel accesses a user range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It reads it (the program wrote it).
    Read,
    /// It writes it.
    Write,
}

/// Whether SMAP is on: `user_copy` then sets and clears RFLAGS.AC.
#[unsafe(no_mangle)]
pub static USER_ACCESS_SMAP: AtomicU8 = AtomicU8::new(0);

unsafe extern "C" {
    /// Copies `len` bytes; 0, or -14 if an access faulted.
    fn user_copy(dst: *mut u8, src: *const u8, len: usize) -> i64;
    static user_copy_access: u8;
    static user_copy_access_end: u8;
    static user_copy_fault: u8;
}

/// The range `addr..addr + len` if it lies wholly in user space (above
/// page 0, below [`USER_END`]) without wrapping. An empty range is always
/// fine (nothing is accessed).
pub fn check_range(addr: u64, len: u64) -> Result<Range<u64>, BadAddress> {
    if len == 0 {
        return Ok(addr..addr);
    }
    let end = addr.checked_add(len).ok_or(BadAddress)?;
    if addr < PAGE_SIZE || end > USER_END {
        return Err(BadAddress);
    }
    Ok(addr..end)
}

/// The pages (numbers) a non-empty range touches.
pub fn pages_of(range: &Range<u64>) -> Range<u64> {
    if range.is_empty() {
        return 0..0;
    }
    range.start / PAGE_SIZE..(range.end - 1) / PAGE_SIZE + 1
}

/// Where the page-fault handler resumes a faulting `user_copy`, if `rip`
/// lies in its access.
pub fn fault_fixup(rip: u64) -> Option<u64> {
    let start = (&raw const user_copy_access) as u64;
    let end = (&raw const user_copy_access_end) as u64;
    (start..end)
        .contains(&rip)
        .then_some((&raw const user_copy_fault) as u64)
}

/// Checks `addr..addr + len` for `access` in the current process.
fn prepare(addr: u64, len: usize, access: Access) -> Result<(), BadAddress> {
    let range = check_range(addr, len as u64)?;
    if range.is_empty() {
        return Ok(());
    }
    let process = super::current().ok_or(BadAddress)?;
    for page in pages_of(&range) {
        process.ensure_page(page * PAGE_SIZE, access)?;
    }
    Ok(())
}

/// Copies user memory at `src` into `dst`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), BadAddress> {
    prepare(src, dst.len(), Access::Read)?;
    // SAFETY: `dst` is a kernel buffer of this length; the source range is
    // user memory checked above, and a fault in it is recovered.
    match unsafe { user_copy(dst.as_mut_ptr(), src as *const u8, dst.len()) } {
        0 => Ok(()),
        _ => Err(BadAddress),
    }
}

/// Copies `src` into user memory at `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), BadAddress> {
    prepare(dst, src.len(), Access::Write)?;
    // SAFETY: as in `copy_from_user`, the other way round.
    match unsafe { user_copy(dst as *mut u8, src.as_ptr(), src.len()) } {
        0 => Ok(()),
        _ => Err(BadAddress),
    }
}

/// Reads a NUL-terminated string at `addr`, at most `max` bytes before the
/// NUL; `None` inside the result if it is longer.
pub fn read_user_string(addr: u64, max: usize) -> Result<Option<Vec<u8>>, BadAddress> {
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() <= max {
        // Page by page: the string may end just before an unmapped page.
        let room = (PAGE_SIZE - at % PAGE_SIZE) as usize;
        let chunk = room.min(max + 1 - out.len());
        let mut buf = alloc::vec![0u8; chunk];
        copy_from_user(&mut buf, at)?;
        if let Some(nul) = buf.iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..nul]);
            return Ok(Some(out));
        }
        out.extend_from_slice(&buf);
        at += chunk as u64;
    }
    Ok(None)
}

/// Turns SMAP on where the CPU has it (and SMEP: the kernel never runs
/// user code). Returns what is on, for the log.
pub fn enable_protection() -> (bool, bool) {
    use x86_64::registers::control::{Cr4, Cr4Flags};
    // CPUID leaf 7, subleaf 0: EBX bit 7 SMEP, bit 20 SMAP.
    let max_leaf = core::arch::x86_64::__cpuid(0).eax;
    if max_leaf < 7 {
        return (false, false);
    }
    let ebx = core::arch::x86_64::__cpuid_count(7, 0).ebx;
    let smep = ebx & (1 << 7) != 0;
    let smap = ebx & (1 << 20) != 0;
    // SAFETY: SMEP and SMAP only forbid the kernel to run or touch user
    // pages; the kernel runs none, and touches them only in `user_copy`,
    // which lifts SMAP for the copy (told through USER_ACCESS_SMAP first).
    unsafe {
        if smap {
            USER_ACCESS_SMAP.store(1, Ordering::SeqCst);
        }
        Cr4::update(|flags| {
            flags.set(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION, smep);
            flags.set(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION, smap);
        });
    }
    (smep, smap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_in_user_space_pass() {
        assert_eq!(check_range(0x40_0000, 16), Ok(0x40_0000..0x40_0010));
        assert_eq!(check_range(USER_END - 8, 8), Ok(USER_END - 8..USER_END));
        assert_eq!(check_range(0, 0), Ok(0..0), "empty: nothing touched");
    }

    #[test]
    fn bad_ranges_fail() {
        assert_eq!(check_range(0, 1), Err(BadAddress), "page 0");
        assert_eq!(check_range(0xfff, 1), Err(BadAddress), "page 0");
        assert_eq!(
            check_range(USER_END - 8, 9),
            Err(BadAddress),
            "crosses the end"
        );
        assert_eq!(check_range(USER_END, 1), Err(BadAddress));
        assert_eq!(
            check_range(0xffff_ffff_8000_0000, 8),
            Err(BadAddress),
            "kernel"
        );
        assert_eq!(check_range(u64::MAX - 3, 8), Err(BadAddress), "wraps");
    }

    #[test]
    fn pages_of_a_range() {
        assert_eq!(pages_of(&(0x1000..0x1001)), 1..2);
        assert_eq!(pages_of(&(0x1fff..0x2001)), 1..3);
        assert_eq!(pages_of(&(0x2000..0x3000)), 2..3);
        assert_eq!(pages_of(&(0x2000..0x2000)), 0..0);
    }
}
