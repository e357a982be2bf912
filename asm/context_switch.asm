; Thread context switch and the first code a new thread runs (see
; src/sched/switch.rs). Only the callee-saved registers of the System V ABI
; and the stack pointer are saved: the caller of sched_switch has already
; saved everything else, as it would around any call. The kernel is built
; for a target without SSE (x86_64-unknown-none is soft-float), so there is
; no FPU or vector state to save.
;
; A switched-out thread's stack holds, from its saved RSP upward:
; r15, r14, r13, r12, rbx, rbp, return address. A new thread's stack is
; made to look the same (ThreadFrame in src/sched/switch.rs), with the
; return address pointing at sched_thread_entry.

extern sched_finish_switch
extern sched_thread_main
global sched_switch
global sched_thread_entry
global sched_percpu_self

section .text
bits 64

; sched_switch(save_rsp: *mut u64 [rdi], next_rsp: u64 [rsi])
; Called with interrupts off. Returns when some later switch comes back
; to this thread.
sched_switch:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; A new thread's first instruction: sched_switch's `ret` lands here with
; interrupts off, r12 = the thread (a pointer to its Thread). RSP is as at
; a function's entry (8 below 16-byte alignment): the zero pushed restores
; alignment for the calls and ends backtraces.
sched_thread_entry:
    xor ebp, ebp
    push rbp
    call sched_finish_switch
    sti
    mov rdi, r12
    call sched_thread_main      ; never returns
    ud2

; The per-CPU block's address: its first word points at itself, and the
; GS base points at the block (src/sched/percpu.rs).
sched_percpu_self:
    mov rax, [gs:0]
    ret
