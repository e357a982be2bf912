//! Checks that a system call keeps the registers the ABI says survive
//! (everything but rax, rcx and r11): loads known values, makes getpid
//! calls, and compares. Exits with 0 if all survived, 1 if some changed
//! (it prints the mask: rbx 1, rbp 2, r12 4, r13 8, r14 16, r15 32, rdi 64,
//! rsi 128, rdx 256, r8 512, r9 1024, r10 2048, rsp 4096), and 100 if rcx
//! and r11 were not what sysret leaves (the return address and RFLAGS).
#![no_std]
#![no_main]

pyrite_rt::main!(main);

core::arch::global_asm!(
    r#"
    .globl regs_check
    .type regs_check, @function
# u64 regs_check(): returns the mask of changed registers.
regs_check:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rip + saved_rsp], rsp
    movabs rbx, 0x1111111111111111
    movabs rbp, 0x2222222222222222
    movabs r12, 0x3333333333333333
    movabs r13, 0x4444444444444444
    movabs r14, 0x5555555555555555
    movabs r15, 0x6666666666666666
    movabs rdi, 0x7777777777777777
    movabs rsi, 0x8888888888888888
    movabs rdx, 0x9999999999999999
    movabs r8,  0xaaaaaaaaaaaaaaaa
    movabs r9,  0xbbbbbbbbbbbbbbbb
    movabs r10, 0xcccccccccccccccc
    mov eax, 39
    syscall
    xor eax, eax
    movabs rcx, 0x1111111111111111
    cmp rbx, rcx
    je 2f
    or rax, 1
2:  movabs rcx, 0x2222222222222222
    cmp rbp, rcx
    je 2f
    or rax, 2
2:  movabs rcx, 0x3333333333333333
    cmp r12, rcx
    je 2f
    or rax, 4
2:  movabs rcx, 0x4444444444444444
    cmp r13, rcx
    je 2f
    or rax, 8
2:  movabs rcx, 0x5555555555555555
    cmp r14, rcx
    je 2f
    or rax, 16
2:  movabs rcx, 0x6666666666666666
    cmp r15, rcx
    je 2f
    or rax, 32
2:  movabs rcx, 0x7777777777777777
    cmp rdi, rcx
    je 2f
    or rax, 64
2:  movabs rcx, 0x8888888888888888
    cmp rsi, rcx
    je 2f
    or rax, 128
2:  movabs rcx, 0x9999999999999999
    cmp rdx, rcx
    je 2f
    or rax, 256
2:  movabs rcx, 0xaaaaaaaaaaaaaaaa
    cmp r8, rcx
    je 2f
    or rax, 512
2:  movabs rcx, 0xbbbbbbbbbbbbbbbb
    cmp r9, rcx
    je 2f
    or rax, 1024
2:  movabs rcx, 0xcccccccccccccccc
    cmp r10, rcx
    je 2f
    or rax, 2048
2:  cmp rsp, [rip + saved_rsp]
    je 2f
    or rax, 4096
2:  pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

# u64 regs_rcx_r11(): makes a syscall and returns 1 if rcx held the
# address after it and r11 the flags, as sysret leaves them.
    .globl regs_rcx_r11
    .type regs_rcx_r11, @function
regs_rcx_r11:
    xor ecx, ecx
    xor r11d, r11d
    mov eax, 39
    syscall
3:
    lea rdx, [rip + 3b]
    xor eax, eax
    cmp rcx, rdx
    jne 4f
    test r11, 0x200         # IF set, as in user mode
    jz 4f
    mov eax, 1
4:  ret

    .bss
    .balign 8
saved_rsp: .quad 0
    .text
"#
);

unsafe extern "C" {
    fn regs_check() -> u64;
    fn regs_rcx_r11() -> u64;
}

fn main(_: &pyrite_rt::Env) -> i32 {
    let mut worst = 0;
    for _ in 0..1000 {
        // SAFETY: both follow the C calling convention (they save what
        // they change of the callee-saved registers).
        worst |= unsafe { regs_check() };
    }
    // SAFETY: as above.
    let sysret = unsafe { regs_rcx_r11() };
    pyrite_rt::println!(
        "regs: changed mask {worst:#x}, rcx/r11 as sysret leaves them: {}",
        sysret == 1
    );
    if worst != 0 {
        1
    } else if sysret != 1 {
        100
    } else {
        0
    }
}
