//! Starts a program as its child (Pyrite's `spawn` system call), waits for
//! it (`wait4`), says how it ended, and exits with its exit code (or 128
//! plus the signal that ended it): `launch PROGRAM [ARGS...]`.
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

fn main(env: &pyrite_rt::Env) -> i32 {
    let args: Vec<&[u8]> = env.args().skip(1).collect();
    let Some(program) = args.first() else {
        println!("usage: launch PROGRAM [ARGS...]");
        return 2;
    };
    let path = c_string(b"/bin/", program);
    let strings: Vec<Vec<u8>> = args.iter().map(|a| c_string(b"", a)).collect();
    let mut argv: Vec<*const u8> = strings.iter().map(|s| s.as_ptr()).collect();
    argv.push(core::ptr::null());
    let envp = [core::ptr::null::<u8>()];
    // SAFETY: every pointer is a NUL-terminated string alive until the
    // call returns, and the arrays end with NULL.
    let spawned = unsafe { sys::spawn(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let pid = match spawned {
        Ok(pid) => pid,
        Err(sys::Errno(e)) => {
            println!("launch: spawn failed: -{e}");
            return 127;
        }
    };
    println!("launch: started child {pid} (I am {})", sys::getpid());
    match sys::wait4(pid as i64) {
        Ok((_, status)) if status & 0x7f == 0 => {
            let code = (status >> 8) & 0xff;
            println!("launch: child {pid} exited with status {code}");
            code as i32
        }
        Ok((_, status)) => {
            println!("launch: child {pid} ended by signal {}", status & 0x7f);
            128 + (status & 0x7f) as i32
        }
        Err(sys::Errno(e)) => {
            println!("launch: wait4 failed: -{e}");
            1
        }
    }
}
