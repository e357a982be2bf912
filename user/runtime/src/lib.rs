//! The runtime of Pyrite's user programs: the entry point (`_start`, in
//! ../asm/start.s), the program's arguments, environment and auxiliary
//! vector ([`Env`]), the system calls with Linux's numbers ([`sys`]),
//! `print!`/`println!`, a heap, and a panic handler that exits with 101.
//!
//! A program names its main function with [`main!`]:
//! ```ignore
//! #![no_std]
//! #![no_main]
//! pyrite_rt::main!(main);
//! fn main(env: &pyrite_rt::Env) -> i32 { pyrite_rt::println!("hi"); 0 }
//! ```
#![no_std]

extern crate alloc;

mod env;
mod heap;
pub mod io;
pub mod sys;

pub use env::{AuxEntry, Env, at};

core::arch::global_asm!(include_str!("../../asm/start.s"));

/// Exit status of a program that panicked.
pub const PANIC_STATUS: i32 = 101;

/// Names the program's main function, `fn(&Env) -> i32`; its result is the
/// exit status.
#[macro_export]
macro_rules! main {
    ($main:path) => {
        /// Called by the runtime's entry point.
        #[unsafe(no_mangle)]
        pub fn __pyrite_main(env: &$crate::Env) -> i32 {
            $main(env)
        }
    };
}

unsafe extern "Rust" {
    /// The program's main, defined by [`main!`].
    safe fn __pyrite_main(env: &Env) -> i32;
}

/// Called by `_start` with the initial stack; runs main and exits with its
/// status.
///
/// # Safety
/// `stack` must point at a System V initial stack (argc, argv, envp, auxv)
/// that stays in place for the program's whole run.
#[unsafe(no_mangle)]
unsafe extern "C" fn __pyrite_start(stack: *const u64) -> ! {
    // SAFETY: the caller's promise.
    let env = unsafe { Env::from_initial_stack(stack) };
    sys::exit_group(__pyrite_main(&env))
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    eprintln!("panicked: {info}");
    sys::exit_group(PANIC_STATUS)
}
