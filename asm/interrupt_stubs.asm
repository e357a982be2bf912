; Interrupt entry stubs, one per vector, all of one shape (stable Rust has no
; extern "x86-interrupt"). Each stub makes the stack look the same: it pushes
; a zero error code where the CPU pushes none, then the vector number, and
; jumps to interrupt_common, which saves every general-purpose register,
; calls the Rust dispatcher with a pointer to the saved state
; (InterruptContext in src/interrupts/context.rs), restores and returns.
;
; The kernel always runs with the GS base at its per-CPU block. An
; interrupt from ring 3 (the saved CS has RPL 3) finds the user's GS base
; there: `swapgs` on the way in trades it for the kernel's (kept in
; KERNEL_GS_BASE while user code runs), and again on the way out.

%include "constants.inc"
%include "frame.inc"

extern interrupt_dispatch
global interrupt_stub_table

section .text
bits 64

; Vectors for which the CPU pushes an error code (Intel SDM vol. 3, 6.13).
%define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

%assign vector 0
%rep INTERRUPT_VECTORS
interrupt_stub_ %+ vector:
%if HAS_ERROR_CODE(vector) == 0
    push 0
%endif
    push vector
    jmp interrupt_common
%assign vector vector + 1
%endrep

; On entry the stack holds, from the top: vector, error code, and the CPU's
; frame (RIP, CS, RFLAGS, RSP, SS). The CPU aligned RSP to 16 bytes before
; pushing its five words; with the two words above and the fifteen registers
; below, RSP is 16-byte aligned again at the call.
interrupt_common:
    test qword [rsp + 24], 3    ; the saved CS: from ring 3?
    jz .from_kernel
    swapgs
.from_kernel:
    SAVE_REGISTERS
    mov rdi, rsp
    cld
    call interrupt_dispatch
    RESTORE_REGISTERS
    add rsp, 16                 ; vector and error code
    test qword [rsp + 8], 3     ; back to ring 3?
    jz .to_kernel
    swapgs
.to_kernel:
    iretq

section .rodata
align 8
interrupt_stub_table:
%assign vector 0
%rep INTERRUPT_VECTORS
    dq interrupt_stub_ %+ vector
%assign vector vector + 1
%endrep
