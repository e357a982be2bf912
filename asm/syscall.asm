; The way into the kernel from ring 3 by `syscall`, and the way back to
; ring 3 (src/syscall/entry.rs sets the MSRs; DESIGN.md section 8).
;
; `syscall` leaves the user's RIP in rcx and RFLAGS in r11, loads the kernel
; CS and SS from STAR, clears the RFLAGS bits in SFMASK (IF among them: no
; interrupt can come before the stack is the kernel's) and jumps here, with
; RSP still the user's. The entry trades the GS base for the kernel's
; (swapgs), parks the user RSP in the per-CPU block, loads the running
; thread's kernel stack top from it, and builds on that stack the same frame
; an interrupt stub builds (InterruptContext in src/interrupts/context.rs:
; the CPU's five words, error code, vector, fifteen registers), with the
; system call number as the vector. Rust reads the arguments from it and
; writes the result in its rax.
;
; The way back restores the registers and returns with `sysretq`, unless
; the return address is not canonical: `sysretq` would then fault in ring 0
; on the user's stack (Intel), so `iretq` returns instead. The first entry
; into a program uses the same way back, with a frame made for it.

; Offsets in the per-CPU block (asserted in src/sched/percpu.rs).
PERCPU_USER_RSP     equ 8
PERCPU_KERNEL_STACK equ 16
; The user selectors with RPL 3 (asserted in src/syscall/entry.rs).
USER_DATA_SELECTOR  equ 0x1b
USER_CODE_SELECTOR  equ 0x23
; Where the saved RIP lies in the frame: after 15 registers, vector, error.
FRAME_RIP           equ 17 * 8

%include "frame.inc"

extern syscall_dispatch
global syscall_entry
global user_return
global enter_user_mode

section .text
bits 64

syscall_entry:
    swapgs
    mov [gs:PERCPU_USER_RSP], rsp
    mov rsp, [gs:PERCPU_KERNEL_STACK]
    push USER_DATA_SELECTOR             ; SS
    push qword [gs:PERCPU_USER_RSP]     ; RSP
    push r11                            ; RFLAGS
    push USER_CODE_SELECTOR             ; CS
    push rcx                            ; RIP
    push 0                              ; error code
    push rax                            ; vector: the system call number
    SAVE_REGISTERS
    mov rdi, rsp
    call syscall_dispatch
    ; fall through

; user_return: RSP points at a frame (InterruptContext) to return to ring
; 3 with. Jumped to, never called.
user_return:
    cli
    ; Canonical RIP: bits 63-47 all equal (sign extension of bit 47).
    mov rcx, [rsp + FRAME_RIP]
    shl rcx, 16
    sar rcx, 16
    cmp rcx, [rsp + FRAME_RIP]
    ; The comparison's flags survive the pops, `lea` and `swapgs`.
    RESTORE_REGISTERS
    lea rsp, [rsp + 16]                 ; vector and error code
    swapgs
    jne .by_iret
    mov rcx, [rsp]                      ; RIP
    mov r11, [rsp + 16]                 ; RFLAGS
    mov rsp, [rsp + 24]                 ; the user's RSP
    o64 sysret
.by_iret:
    iretq

; enter_user_mode(frame: *const InterruptContext [rdi]): the first entry
; into a program. The frame lies on the thread's kernel stack.
enter_user_mode:
    mov rsp, rdi
    jmp user_return
