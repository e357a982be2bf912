//! Shows everything the kernel handed over: arguments, environment and the
//! auxiliary vector (with the 16 random bytes AT_RANDOM points at), and
//! copies the arguments into the heap to show it works.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use pyrite_rt::{Env, println, sys};

pyrite_rt::main!(main);

fn text(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("(not UTF-8)")
}

fn main(env: &Env) -> i32 {
    println!("pid {}, parent {}", sys::getpid(), sys::getppid());
    println!("argc {}", env.argc());
    let args: Vec<String> = env.args().map(|a| String::from(text(a))).collect();
    for (i, arg) in args.iter().enumerate() {
        println!("argv[{i}] = {arg}");
    }
    for (i, var) in env.vars().enumerate() {
        println!("envp[{i}] = {}", text(var));
    }
    for entry in env.aux() {
        let name = pyrite_rt::at::name(entry.key);
        println!("auxv {:<10} {:#x}", name.unwrap_or("?"), entry.value);
    }
    if let Some(random) = env.aux_value(pyrite_rt::at::RANDOM) {
        // SAFETY: AT_RANDOM points at 16 bytes on the initial stack.
        let bytes = unsafe { core::slice::from_raw_parts(random as *const u8, 16) };
        pyrite_rt::print!("random");
        for byte in bytes {
            pyrite_rt::print!(" {byte:02x}");
        }
        println!();
    }
    println!("joined on the heap: {}", args.join(" "));
    0
}
