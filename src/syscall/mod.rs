//! System calls: the only door from user space (DESIGN.md section 8).
//!
//! Linux x86-64's convention and numbers: `syscall` with the number in rax
//! and the arguments in rdi, rsi, rdx, r10, r8, r9; the result, or a
//! negative errno, in rax; rcx and r11 are clobbered, every other register
//! survives. Pyrite implements a subset ([`table`]); any other number gets
//! `-ENOSYS`, logged once per number at debug level.
//!
//! - `entry`: the MSRs (STAR, LSTAR, SFMASK, EFER.SCE), SMEP/SMAP, and
//!   the Rust side of asm/syscall.asm, which decodes and dispatches.
//! - [`table`]: numbers to handlers, pure and tested on the host.
//! - [`io`], [`files`], [`memory`], [`process`], [`spawn`], [`time`],
//!   [`info`]: one family each. Starting programs is Pyrite's own call,
//!   `spawn(path, argv, envp)` (number 1024, outside Linux's range);
//!   waiting is Linux's `wait4`.
//!
//! System calls run with interrupts off (SFMASK clears IF), so a kill
//! never ends a thread halfway through one; the few that wait (`read`,
//! `nanosleep`, `sched_yield`) turn them on while they wait, holding
//! nothing that a kill would leak.

pub mod entry;
pub mod errno;
pub mod files;
pub mod info;
pub mod io;
pub mod memory;
pub mod process;
pub mod spawn;
pub mod table;
pub mod time;

pub use entry::init;

/// A system call's six arguments, as they came in registers.
pub type Args = [u64; 6];

/// What a handler gives back: a value, or an errno (returned negated).
pub type SysResult = Result<u64, errno::Errno>;
