//! Greets, shows its arguments (joined on the heap), and exits with 0.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use pyrite_rt::println;

pyrite_rt::main!(main);

fn main(env: &pyrite_rt::Env) -> i32 {
    println!("Hello from user space!");
    let args: Vec<&str> = env
        .args()
        .skip(1)
        .map(|arg| core::str::from_utf8(arg).unwrap_or("?"))
        .collect();
    if !args.is_empty() {
        println!("{}", args.join(" "));
    }
    0
}
