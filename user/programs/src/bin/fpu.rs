//! Checks that the kernel keeps a program's SSE registers across
//! preemption: fills xmm0-xmm15 with values of its own (from its pid),
//! spins long enough to be preempted many times, and checks them. Run two
//! at once to make the switch carry them between programs. Exits with 0
//! if they held, 1 if not.
#![no_std]
#![no_main]

use pyrite_rt::{println, sys};

pyrite_rt::main!(main);

core::arch::global_asm!(
    r#"
    .globl fpu_check
    .type fpu_check, @function
# u64 fpu_check(seed: u64 [rdi], spins: u64 [rsi]): 0 if xmm0-15 kept
# the values made from `seed` through `spins` loops, else 1.
fpu_check:
    movq xmm0, rdi
    punpcklqdq xmm0, xmm0
    movdqa xmm1, xmm0
    paddq xmm1, xmm0
    movdqa xmm2, xmm1
    paddq xmm2, xmm0
    movdqa xmm3, xmm2
    paddq xmm3, xmm0
    movdqa xmm4, xmm3
    paddq xmm4, xmm0
    movdqa xmm5, xmm4
    paddq xmm5, xmm0
    movdqa xmm6, xmm5
    paddq xmm6, xmm0
    movdqa xmm7, xmm6
    paddq xmm7, xmm0
    movdqa xmm8, xmm7
    paddq xmm8, xmm0
    movdqa xmm9, xmm8
    paddq xmm9, xmm0
    movdqa xmm10, xmm9
    paddq xmm10, xmm0
    movdqa xmm11, xmm10
    paddq xmm11, xmm0
    movdqa xmm12, xmm11
    paddq xmm12, xmm0
    movdqa xmm13, xmm12
    paddq xmm13, xmm0
    movdqa xmm14, xmm13
    paddq xmm14, xmm0
    movdqa xmm15, xmm14
    paddq xmm15, xmm0
1:  dec rsi
    jnz 1b
    # xmmN holds (N + 1) * seed in its low half: check every one.
    xor eax, eax
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movq rdx, xmm\n
    imul rcx, rdi, \n + 1
    cmp rdx, rcx
    jne 2f
    .endr
    ret
2:  mov eax, 1
    ret
"#
);

unsafe extern "C" {
    fn fpu_check(seed: u64, spins: u64) -> u64;
}

/// Loops per check: long enough for several time slices under QEMU.
const SPINS: u64 = 200_000_000;

fn main(_: &pyrite_rt::Env) -> i32 {
    let seed = 0x0101_0101 * (sys::getpid() + 1);
    // SAFETY: fpu_check changes only xmm registers and rax, rcx, rdx, rsi,
    // which the C convention lets a callee change.
    let bad = unsafe { fpu_check(seed, SPINS) };
    println!(
        "fpu: SSE registers {}",
        if bad == 0 { "kept" } else { "CHANGED" }
    );
    bad as i32
}
