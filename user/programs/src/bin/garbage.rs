//! Calls system calls with garbage: every number from 0 to 1100 (the
//! implemented ones and many that are not), with arguments drawn from
//! kernel addresses, unmapped and non-canonical addresses, page 0, -1 and
//! small numbers. The kernel must answer each with a value or an error
//! and go on. Skipped: the calls that end or replace the program or wait
//! for the keyboard (read, exit, exit_group, spawn, wait4), close (it
//! could close the console this program prints to) and nanosleep (long).
//! Prints how many calls failed with each errno class and exits with 0.
#![no_std]
#![no_main]

use pyrite_rt::{println, sys};

pyrite_rt::main!(main);

const SKIP: [u64; 7] = [0, 3, 35, 60, 61, 231, 1024];
const VALUES: [u64; 10] = [
    0,
    1,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_8010_0000, // the kernel image
    0xffff_8000_0000_1000, // the physical window
    0x0000_8000_0000_0000, // the first non-canonical address
    0x0000_0000_0000_0008, // page 0
    0x0000_5000_0000_0000, // unmapped user memory
    0x0000_7fff_ffff_f000, // the never-mapped top page
    4096,
];

fn main(_: &pyrite_rt::Env) -> i32 {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut ok, mut errors) = (0u64, 0u64);
    for round in 0..4 {
        for number in (0..1100).filter(|n| !SKIP.contains(n)) {
            let mut args = [0u64; 6];
            for arg in &mut args {
                *arg = VALUES[(next() % VALUES.len() as u64) as usize];
            }
            if round == 0 {
                // The descriptors stay in range once, to reach past the
                // descriptor check.
                args[0] = next() % 4;
            }
            // SAFETY: no argument points at this program's memory, so the
            // kernel can only refuse them or act on its own objects.
            match unsafe { sys::syscall(number, args) } {
                Ok(_) => ok += 1,
                Err(_) => errors += 1,
            }
        }
    }
    println!("garbage: {ok} calls answered, {errors} refused; the kernel is still here");
    0
}
