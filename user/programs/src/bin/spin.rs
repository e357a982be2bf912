//! Loops forever without a system call: only preemption takes the CPU
//! from it, and only a kill ends it.
#![no_std]
#![no_main]

pyrite_rt::main!(main);

fn main(_: &pyrite_rt::Env) -> i32 {
    pyrite_rt::println!("spinning (pid {})", pyrite_rt::sys::getpid());
    loop {
        core::hint::spin_loop();
    }
}
