//! Sleeps for its argument in milliseconds (nanosleep), then says how long
//! the monotonic clock says it slept. Exits with 2 on a bad argument.
#![no_std]
#![no_main]

use pyrite_rt::{println, sys};

pyrite_rt::main!(main);

fn main(env: &pyrite_rt::Env) -> i32 {
    let ms = env
        .args()
        .nth(1)
        .and_then(|arg| core::str::from_utf8(arg).ok())
        .and_then(|arg| arg.parse::<u64>().ok());
    let Some(ms) = ms else {
        println!("usage: sleep MILLISECONDS");
        return 2;
    };
    let start = sys::clock_gettime(sys::CLOCK_MONOTONIC).unwrap_or(0);
    if let Err(sys::Errno(e)) = sys::sleep_ms(ms) {
        println!("nanosleep: -{e}");
        return 1;
    }
    let end = sys::clock_gettime(sys::CLOCK_MONOTONIC).unwrap_or(0);
    println!("slept {} ms", (end - start) / 1_000_000);
    0
}
