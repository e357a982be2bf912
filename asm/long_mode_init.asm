; First 64-bit code: clear the data segment registers and call the Rust
; entry point with the Multiboot2 boot information address.

global long_mode_start
extern kernel_main

section .text
bits 64
long_mode_start:
    xor eax, eax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax

    ; The upper halves of the registers are undefined after the switch from
    ; 32-bit mode: zero-extend the boot information address (edi).
    mov edi, edi
    ; rsp is boot_stack_top, 16-byte aligned, so the stack is aligned as the
    ; System V ABI requires after the call pushes the return address.
    call kernel_main

    ; kernel_main never returns; halt if it ever does.
.halt:
    cli
    hlt
    jmp .halt
