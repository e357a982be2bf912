; The Multiboot2 header (specification section 3.1). GRUB looks for it in the
; first 32 KiB of the file, 8-byte aligned; linker.ld places it first.

%include "constants.inc"

MULTIBOOT2_ARCH_I386 equ 0
MULTIBOOT2_TAG_OPTIONAL equ 1

section .multiboot_header progbits alloc noexec nowrite align=8
header_start:
    dd MULTIBOOT2_HEADER_MAGIC
    dd MULTIBOOT2_ARCH_I386
    dd header_end - header_start
    ; The four fields must sum to zero (mod 2^32).
    dd -(MULTIBOOT2_HEADER_MAGIC + MULTIBOOT2_ARCH_I386 + (header_end - header_start))

    ; Framebuffer tag (3.1.10): a linear framebuffer is welcome but optional,
    ; any size. On BIOS, grub.cfg keeps VGA text mode (gfxpayload=text);
    ; on UEFI, where there is no text mode, GRUB sets up a graphics mode.
    align 8
    dw 5                        ; type: framebuffer
    dw MULTIBOOT2_TAG_OPTIONAL
    dd 20                       ; size
    dd 0                        ; width: no preference
    dd 0                        ; height: no preference
    dd 32                       ; depth: 32 bits per pixel preferred

    ; End tag: type 0, flags 0, size 8.
    align 8
    dw 0
    dw 0
    dd 8
header_end:
