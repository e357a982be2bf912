; The floor for boot-time figures: the least a Multiboot2 kernel can do.
; GRUB loads it exactly as it loads Pyrite; it writes one byte to COM1 and
; ends QEMU through the isa-debug-exit device. `make bench` packs it with
; the same grub-mkrescue and boots it with the same QEMU flags.

section .text
bits 32
align 8
header_start:
    dd 0xE85250D6                       ; Multiboot2 magic
    dd 0                                ; i386
    dd header_end - header_start
    dd -(0xE85250D6 + 0 + (header_end - header_start))
    align 8
    dw 0, 0                             ; end tag
    dd 8
header_end:

global start
start:
    mov dx, 0x3F8
    mov al, '!'
    out dx, al
    mov dx, 0xF4
    mov al, 0x10
    out dx, al
.halt:
    hlt
    jmp .halt
