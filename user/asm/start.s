# The entry point and the system call gate of Pyrite's user programs
# (Intel syntax; included by runtime/src/lib.rs through global_asm!).

    .text
    .globl _start
    .type _start, @function
# The kernel enters here with rsp at argc (the System V initial stack:
# argc, argv..., NULL, envp..., NULL, auxv pairs), 16-byte aligned.
_start:
    xor ebp, ebp                # the outermost frame, for backtraces
    mov rdi, rsp                # the initial stack, for the runtime
    and rsp, -16                # aligned at the call, as the ABI asks
    call __pyrite_start         # never returns
    ud2

    .globl __pyrite_syscall
    .type __pyrite_syscall, @function
# u64 __pyrite_syscall(number, a1, a2, a3, a4, a5, a6): from the C calling
# convention (rdi, rsi, rdx, rcx, r8, r9, stack) to Linux's system call one
# (rax; rdi, rsi, rdx, r10, r8, r9). The kernel clobbers rcx and r11, which
# the C convention lets a callee clobber anyway.
__pyrite_syscall:
    mov rax, rdi
    mov rdi, rsi
    mov rsi, rdx
    mov rdx, rcx
    mov r10, r8
    mov r8, r9
    mov r9, [rsp + 8]
    syscall
    ret
