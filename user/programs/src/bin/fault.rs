//! Does something a program must not, as its argument says, so the kernel
//! can show it ends this process alone: null, write-text, exec-data, ud2,
//! div0, stack-overflow, kernel-read, bad-syscall-ptr (passes a kernel
//! pointer to write and prints the result it got; it exits with 0 if that
//! was -EFAULT, else 1), nt-sleep (sleeps with RFLAGS.NT set, which the
//! kernel must clear on entry; it ends normally).
#![no_std]
#![no_main]

use pyrite_rt::{println, sys};

pyrite_rt::main!(main);

/// Linux's EFAULT.
const EFAULT: i64 = 14;

/// A kernel address: the kernel's image (the top 2 GiB).
const KERNEL_ADDRESS: u64 = 0xffff_ffff_8010_0000;

static DATA: [u8; 4] = [0xc3, 0xc3, 0xc3, 0xc3]; // ret ret ret ret
static mut WRITABLE: [u8; 4] = [0xc3; 4];

const USAGE: &str = "usage: fault null|write-text|exec-data|ud2|div0|stack-overflow|kernel-read|\
     bad-syscall-ptr|nt-sleep";

fn main(env: &pyrite_rt::Env) -> i32 {
    let Some(what) = env.args().nth(1) else {
        println!("{USAGE}");
        return 2;
    };
    let what = core::str::from_utf8(what).unwrap_or("?");
    println!("fault: {what}");
    match what {
        "null" => {
            // SAFETY: none: this read faults, on purpose.
            let value = unsafe { core::ptr::read_volatile(core::ptr::null::<u64>()) };
            println!("read {value} from null?");
        }
        // SAFETY: none: this write to the code faults, on purpose.
        "write-text" => unsafe { core::ptr::write_volatile(main as *const () as *mut u8, 0x90) },
        "exec-data" => {
            let _ = &DATA;
            // SAFETY: none: the call into data faults, on purpose.
            let code: extern "C" fn() =
                unsafe { core::mem::transmute((&raw mut WRITABLE).cast::<u8>()) };
            code();
        }
        // SAFETY: none: an invalid opcode, on purpose.
        "ud2" => unsafe { core::arch::asm!("ud2") },
        "div0" => {
            let zero = core::hint::black_box(0u64);
            // SAFETY: none: a divide error, on purpose (Rust's `/` checks).
            unsafe {
                core::arch::asm!("div {0}", in(reg) zero, inout("rax") 1u64 => _,
                    inout("rdx") 0u64 => _)
            };
        }
        "stack-overflow" => println!("{}", recurse(1)),
        "kernel-read" => {
            // SAFETY: none: the read of kernel memory faults, on purpose.
            let value = unsafe { core::ptr::read_volatile(KERNEL_ADDRESS as *const u64) };
            println!("read {value:#x} from the kernel?");
        }
        "nt-sleep" => {
            // SAFETY: sets RFLAGS.NT (user code may); the kernel must clear
            // it on entry, or an interrupt during the sleep returns with
            // `iretq` and NT set, which faults in the kernel.
            unsafe {
                core::arch::asm!("pushfq", "or qword ptr [rsp], 0x4000", "popfq");
            }
            let slept = sys::sleep_ms(50);
            // SAFETY: clears NT again.
            unsafe {
                core::arch::asm!("pushfq", "and qword ptr [rsp], ~0x4000", "popfq");
            }
            println!(
                "slept with NT set: {}",
                if slept.is_ok() { "ok" } else { "failed" }
            );
            return 0;
        }
        "bad-syscall-ptr" => {
            let args = [1, KERNEL_ADDRESS, 64, 0, 0, 0];
            // SAFETY: the kernel must refuse the pointer, not read it.
            let result = unsafe { sys::syscall(sys::nr::WRITE, args) };
            match result {
                Ok(n) => println!("write returned {n}"),
                Err(sys::Errno(e)) => println!("write returned -{e}"),
            }
            return if result == Err(sys::Errno(EFAULT)) {
                0
            } else {
                1
            };
        }
        _ => {
            println!("{USAGE}");
            return 2;
        }
    }
    println!("fault: {what} did not fault");
    1
}

/// Recurses until the stack runs out (the stop condition never holds),
/// each frame holding a page.
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 4096];
    frame[0] = depth as u8;
    let frame = core::hint::black_box(frame);
    if core::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + u64::from(frame[0])
}
