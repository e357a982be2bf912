//! System calls, with Linux x86-64's numbers and calling convention (rax =
//! number; rdi, rsi, rdx, r10, r8, r9; the result or -errno in rax): the
//! one gate is `__pyrite_syscall` in ../asm/start.s.

/// Linux's system call numbers, for the calls the runtime makes.
pub mod nr {
    /// `read(fd, buf, count)`
    pub const READ: u64 = 0;
    /// `write(fd, buf, count)`
    pub const WRITE: u64 = 1;
    /// `mmap(addr, len, prot, flags, fd, offset)`
    pub const MMAP: u64 = 9;
    /// `munmap(addr, len)`
    pub const MUNMAP: u64 = 11;
    /// `brk(addr)`
    pub const BRK: u64 = 12;
    /// `nanosleep(req, rem)`
    pub const NANOSLEEP: u64 = 35;
    /// `clock_gettime(clock, tp)`
    pub const CLOCK_GETTIME: u64 = 228;
    /// `sched_yield()`
    pub const SCHED_YIELD: u64 = 24;
    /// `getpid()`
    pub const GETPID: u64 = 39;
    /// `exit(status)`: ends the thread.
    pub const EXIT: u64 = 60;
    /// `wait4(pid, wstatus, options, rusage)`
    pub const WAIT4: u64 = 61;
    /// Pyrite's `spawn(path, argv, envp)`, outside Linux's range.
    pub const SPAWN: u64 = 1024;
    /// `getppid()`
    pub const GETPPID: u64 = 110;
    /// `exit_group(status)`: ends the process.
    pub const EXIT_GROUP: u64 = 231;
}

unsafe extern "C" {
    fn __pyrite_syscall(number: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64) -> i64;
}

/// An error number from a failed call (the kernel returned -errno).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i64);

/// Makes system call `number` with up to six arguments.
///
/// # Safety
/// The arguments must be what the call expects: pointers to memory the call
/// may read or write, as its contract says.
pub unsafe fn syscall(number: u64, args: [u64; 6]) -> Result<u64, Errno> {
    let [a1, a2, a3, a4, a5, a6] = args;
    // SAFETY: the gate only moves registers and traps; the caller answers
    // for what the arguments point at.
    let ret = unsafe { __pyrite_syscall(number, a1, a2, a3, a4, a5, a6) };
    // Linux returns -4095..-1 for errors.
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret))
    } else {
        Ok(ret as u64)
    }
}

/// Writes `bytes` to file descriptor `fd`; returns how many were written.
pub fn write(fd: u32, bytes: &[u8]) -> Result<usize, Errno> {
    let args = [
        u64::from(fd),
        bytes.as_ptr() as u64,
        bytes.len() as u64,
        0,
        0,
        0,
    ];
    // SAFETY: the kernel reads `bytes.len()` bytes from a live slice.
    unsafe { syscall(nr::WRITE, args) }.map(|n| n as usize)
}

/// Reads into `buf` from file descriptor `fd`; returns how many were read.
pub fn read(fd: u32, buf: &mut [u8]) -> Result<usize, Errno> {
    let args = [
        u64::from(fd),
        buf.as_mut_ptr() as u64,
        buf.len() as u64,
        0,
        0,
        0,
    ];
    // SAFETY: the kernel writes at most `buf.len()` bytes into a live slice.
    unsafe { syscall(nr::READ, args) }.map(|n| n as usize)
}

/// The process's id.
pub fn getpid() -> u64 {
    // SAFETY: no arguments.
    unsafe { syscall(nr::GETPID, [0; 6]) }.unwrap_or(0)
}

/// The parent process's id.
pub fn getppid() -> u64 {
    // SAFETY: no arguments.
    unsafe { syscall(nr::GETPPID, [0; 6]) }.unwrap_or(0)
}

/// Lets another thread run.
pub fn sched_yield() {
    // SAFETY: no arguments. Yielding cannot fail in a way worth reporting.
    let _ = unsafe { syscall(nr::SCHED_YIELD, [0; 6]) };
}

/// Ends the process with `status`.
pub fn exit_group(status: i32) -> ! {
    // SAFETY: exit_group takes a number and does not return.
    let _ = unsafe { syscall(nr::EXIT_GROUP, [status as u64, 0, 0, 0, 0, 0]) };
    // A kernel without exit_group: end the thread, then wait for the end.
    // SAFETY: as above.
    let _ = unsafe { syscall(nr::EXIT, [status as u64, 0, 0, 0, 0, 0]) };
    loop {
        core::hint::spin_loop();
    }
}

/// Moves the program break to `addr` (0 asks where it is); returns the
/// break after the call (the old one if it could not move).
pub fn brk(addr: usize) -> usize {
    // SAFETY: brk takes a number; memory it adds is the program's own.
    unsafe { syscall(nr::BRK, [addr as u64, 0, 0, 0, 0, 0]) }.map_or(0, |b| b as usize)
}

/// Maps `len` bytes of fresh zeroed memory, readable and writable.
pub fn mmap_anonymous(len: usize) -> Result<*mut u8, Errno> {
    // PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, no file.
    let args = [0, len as u64, 3, 0x22, u64::MAX, 0];
    // SAFETY: an anonymous mapping touches no memory the program has.
    unsafe { syscall(nr::MMAP, args) }.map(|a| a as *mut u8)
}

/// Unmaps `len` bytes at `addr`.
///
/// # Safety
/// Nothing may use the memory afterwards.
pub unsafe fn munmap(addr: *mut u8, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller's promise.
    unsafe { syscall(nr::MUNMAP, [addr as u64, len as u64, 0, 0, 0, 0]) }.map(|_| ())
}

/// CLOCK_MONOTONIC: time since boot.
pub const CLOCK_MONOTONIC: u64 = 1;

/// The time on `clock`, in nanoseconds.
pub fn clock_gettime(clock: u64) -> Result<u64, Errno> {
    let mut spec = [0u64; 2];
    // SAFETY: the kernel writes 16 bytes into `spec`.
    unsafe {
        syscall(
            nr::CLOCK_GETTIME,
            [clock, spec.as_mut_ptr() as u64, 0, 0, 0, 0],
        )
    }?;
    Ok(spec[0] * 1_000_000_000 + spec[1])
}

/// Sleeps for `ms` milliseconds.
pub fn sleep_ms(ms: u64) -> Result<(), Errno> {
    let spec = [ms / 1000, (ms % 1000) * 1_000_000];
    // SAFETY: the kernel reads 16 bytes from `spec`.
    unsafe { syscall(nr::NANOSLEEP, [spec.as_ptr() as u64, 0, 0, 0, 0, 0]) }.map(|_| ())
}

/// Starts the program at `path` (NUL-terminated) with `argv` and `envp`
/// (NULL-terminated arrays of NUL-terminated strings); its pid.
///
/// # Safety
/// The pointers must be as described.
pub unsafe fn spawn(
    path: *const u8,
    argv: *const *const u8,
    envp: *const *const u8,
) -> Result<u64, Errno> {
    // SAFETY: the caller's promise.
    unsafe { syscall(nr::SPAWN, [path as u64, argv as u64, envp as u64, 0, 0, 0]) }
}

/// Waits for child `pid` (-1: any); its pid and Linux's status word.
pub fn wait4(pid: i64) -> Result<(u64, u32), Errno> {
    let mut status = 0u32;
    let args = [pid as u64, &raw mut status as u64, 0, 0, 0, 0];
    // SAFETY: the kernel writes 4 bytes into `status`.
    let pid = unsafe { syscall(nr::WAIT4, args) }?;
    Ok((pid, status))
}
