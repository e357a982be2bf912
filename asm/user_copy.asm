; Copying between the kernel and user memory (src/process/user_access.rs).
;
; The only code that touches user memory. With SMAP on, the kernel may
; touch user pages only while RFLAGS.AC is set: `stac` before the copy
; (#UD on a CPU without SMAP, hence the flag), and RFLAGS as it was after
; it (`popfq`: AC clear again). Interrupts are off meanwhile, so no
; interrupt handler runs with AC set. A page fault or general-protection
; fault whose RIP lies between user_copy_access and user_copy_access_end
; does not end the kernel: the exception handler resumes at
; user_copy_fault, which returns -EFAULT.

extern USER_ACCESS_SMAP
global user_copy
global user_copy_access
global user_copy_access_end
global user_copy_fault

section .text
bits 64

; i64 user_copy(dst: *mut u8 [rdi], src: *const u8 [rsi], len: usize [rdx])
; Returns 0, or -14 (-EFAULT) if an access faulted.
user_copy:
    pushfq
    cli
    cmp byte [rel USER_ACCESS_SMAP], 0
    je .copy
    stac
.copy:
    mov rcx, rdx
user_copy_access:
    rep movsb
user_copy_access_end:
    xor eax, eax
    jmp user_copy_done
user_copy_fault:
    mov rax, -14
user_copy_done:
    popfq                       ; IF and AC as before the copy
    ret
