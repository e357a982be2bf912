; First 64-bit code. It runs at its physical address (the far jump from
; asm/boot.asm lands there), jumps up to its linked address in the higher
; half, reloads the GDT and the stack by their high addresses, and calls the
; Rust entry point with the Multiboot2 boot information's physical address.
; From then on nothing refers to the low identity map, which the kernel's
; own page table (src/memory/remap.rs) leaves out.

%include "constants.inc"

global long_mode_start
extern kernel_main
extern boot_stack_top
extern gdt64.pointer_high

section .text
bits 64
long_mode_start:
    xor eax, eax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax

    ; A 64-bit absolute jump: the only way from the physical to the linked
    ; address.
    mov rax, higher_half
    jmp rax

higher_half:
    lgdt [rel gdt64.pointer_high]
    mov rsp, boot_stack_top
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
