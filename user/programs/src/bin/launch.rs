//! Starts a program as its child (Pyrite's `spawn` system call), waits for
//! it (`wait4`), says how it ended, and exits with its exit code (or 128
//! plus the signal that ended it): `launch PROGRAM [ARGS...]`.
//!
//! `launch -n COUNT PROGRAM [ARGS...]` does it COUNT times, one child at a
//! time, says only how many ended well, and stops at the first that did
//! not (its code is the exit status).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use pyrite_rt::{println, sys};

pyrite_rt::main!(main);

/// A NUL-terminated copy of `bytes`.
fn c_string(prefix: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + bytes.len() + 1);
    out.extend_from_slice(prefix);
    out.extend_from_slice(bytes);
    out.push(0);
    out
}

/// How one child ended: its exit code, or 128 plus its signal.
fn exit_code(status: u32) -> i32 {
    if status & 0x7f == 0 {
        ((status >> 8) & 0xff) as i32
    } else {
        128 + (status & 0x7f) as i32
    }
}

/// Starts `args[0]` with `args` and waits for it; its pid and exit code,
/// or the code this program exits with when the spawn or wait failed.
fn run_once(args: &[&[u8]], quiet: bool) -> Result<(i64, i32), i32> {
    let path = c_string(b"/bin/", args[0]);
    let strings: Vec<Vec<u8>> = args.iter().map(|a| c_string(b"", a)).collect();
    let mut argv: Vec<*const u8> = strings.iter().map(|s| s.as_ptr()).collect();
    argv.push(core::ptr::null());
    let envp = [core::ptr::null::<u8>()];
    // SAFETY: every pointer is a NUL-terminated string alive until the
    // call returns, and the arrays end with NULL.
    let spawned = unsafe { sys::spawn(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let pid = match spawned {
        Ok(pid) => pid as i64,
        Err(sys::Errno(e)) => {
            println!("launch: spawn failed: -{e}");
            return Err(127);
        }
    };
    if !quiet {
        println!("launch: started child {pid} (I am {})", sys::getpid());
    }
    match sys::wait4(pid) {
        Ok((_, status)) => Ok((pid, exit_code(status))),
        Err(sys::Errno(e)) => {
            println!("launch: wait4 failed: -{e}");
            Err(1)
        }
    }
}

fn main(env: &pyrite_rt::Env) -> i32 {
    let mut args: Vec<&[u8]> = env.args().skip(1).collect();
    let mut count = None;
    if args.first() == Some(&&b"-n"[..]) {
        count = args
            .get(1)
            .and_then(|n| core::str::from_utf8(n).ok())
            .and_then(|n| n.parse::<u32>().ok());
        if count.is_none() {
            println!("usage: launch -n COUNT PROGRAM [ARGS...]");
            return 2;
        }
        args.drain(..2);
    }
    if args.is_empty() {
        println!("usage: launch [-n COUNT] PROGRAM [ARGS...]");
        return 2;
    }
    let Some(count) = count else {
        return match run_once(&args, false) {
            Ok((pid, code)) if code < 128 => {
                println!("launch: child {pid} exited with status {code}");
                code
            }
            Ok((pid, code)) => {
                println!("launch: child {pid} ended by signal {}", code - 128);
                code
            }
            Err(code) => code,
        };
    };
    for done in 0..count {
        match run_once(&args, true) {
            Ok((_, 0)) => {}
            Ok((pid, code)) => {
                println!(
                    "launch: child {pid} (run {}) ended with code {code}",
                    done + 1
                );
                return code;
            }
            Err(code) => return code,
        }
    }
    println!("launch: {count} runs, every one exited with status 0");
    0
}
