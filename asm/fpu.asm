; Saving and restoring a user thread's x87/SSE registers (src/sched/fpu.rs).
; The kernel is soft-float and never touches them, so only a switch between
; user threads needs to: the outgoing thread's go to its area, the
; incoming one's come from its own.

global fpu_save
global fpu_restore

section .text
bits 64

; fpu_save(area: *mut [u8; 512] [rdi]), 16-byte aligned.
fpu_save:
    fxsave64 [rdi]
    ret

; fpu_restore(area: *const [u8; 512] [rdi]), 16-byte aligned.
fpu_restore:
    fxrstor64 [rdi]
    ret
