; 32-bit entry point. GRUB jumps here in protected mode with paging off,
; eax = Multiboot2 magic and ebx = physical address of the boot information.
;
; This file checks that it can go on (Multiboot2 loader, CPUID, long mode,
; no-execute pages), builds the first page tables, switches to long mode and
; jumps to long_mode_start. The kernel is linked at KERNEL_OFFSET above its
; physical address but runs here with paging off, so every absolute address
; in this file goes through PHYS(). On any failure it prints "ERR: <code> <reason>"
; on COM1, on the boot loader's linear framebuffer if there is one
; (asm/boot_error_screen.asm) and on the VGA text screen, then halts for good.
; The messages come from build.rs (boot_errors.inc).

%include "constants.inc"

global start
global boot_p4_table
global gdt64.pointer_high
global boot_stack_bottom
global boot_stack_top
extern long_mode_start
extern draw_error_on_framebuffer

; Page-table entry bits (Intel SDM vol. 3, 4.5).
PTE_PRESENT  equ 1 << 0
PTE_WRITABLE equ 1 << 1
PTE_HUGE     equ 1 << 7

; Where KERNEL_OFFSET lies in the tables: P4 slot 511, P3 slot 510.
KERNEL_P4_SLOT equ 511
KERNEL_P3_SLOT equ 510

; Control-register and MSR bits.
CR0_WP       equ 1 << 16
CR0_PG       equ 1 << 31
CR4_PAE      equ 1 << 5
EFER_MSR     equ 0xC0000080
EFER_LME     equ 1 << 8
EFER_NXE     equ 1 << 11

; CPUID bits.
EFLAGS_ID         equ 1 << 21
CPUID_EXT_MAX     equ 0x80000000
CPUID_EXT_FEATURE equ 0x80000001
CPUID_EXT_NX      equ 1 << 20
CPUID_EXT_LM      equ 1 << 29

; COM1, for the error path only: Rust owns the port after the switch.
COM1 equ 0x3F8
VGA_TEXT equ 0xB8000
ERR_COLOUR equ 0x4F             ; white on red
SERIAL_WAIT_POLLS equ 100000

section .text
bits 32
start:
    mov esp, PHYS(boot_stack_top)
    ; cpuid clobbers ebx: keep the boot information address in edi until
    ; long_mode_start hands it to Rust.
    mov edi, ebx

    cmp eax, MULTIBOOT2_BOOTLOADER_MAGIC
    jne .no_multiboot
    call check_cpuid
    call check_long_mode
    call set_up_page_tables
    call enable_paging

    lgdt [PHYS(gdt64.pointer)]
    jmp gdt64.code:PHYS(long_mode_start)

.no_multiboot:
    xor edi, edi                ; not Multiboot2: ebx is no boot information
    mov esi, PHYS(err_no_multiboot)
    jmp boot_error

; Returns if the CPU has the CPUID instruction: the ID flag in EFLAGS can be
; flipped only then.
check_cpuid:
    pushfd
    pop eax
    mov ecx, eax
    xor eax, EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx                    ; restore the original flags
    popfd
    cmp eax, ecx
    je .no_cpuid
    ret
.no_cpuid:
    mov esi, PHYS(err_no_cpuid)
    jmp boot_error

; Returns if the CPU supports long mode and no-execute pages.
check_long_mode:
    mov eax, CPUID_EXT_MAX
    cpuid
    cmp eax, CPUID_EXT_FEATURE
    jb .no_long_mode
    mov eax, CPUID_EXT_FEATURE
    cpuid
    test edx, CPUID_EXT_LM
    jz .no_long_mode
    test edx, CPUID_EXT_NX
    jz .no_nx
    ret
.no_long_mode:
    mov esi, PHYS(err_no_long_mode)
    jmp boot_error
.no_nx:
    mov esi, PHYS(err_no_nx)
    jmp boot_error

; Maps the first BOOT_IDENTITY_MAP_GIB GiB with 2 MiB pages twice, at
; address 0 (this code runs there) and in the physical window (where Rust
; reads the boot information); maps the first GiB again at KERNEL_OFFSET
; (where the kernel is linked), and installs the recursive entry. The tables
; live in .bss, which the boot loader has zeroed. The kernel's own table
; (src/memory/remap.rs) keeps none of the low mappings.
set_up_page_tables:
    ; P4[0] and P4[PHYSICAL_WINDOW_P4_SLOT] -> P3, P4[511] -> the high P3,
    ; P4[RECURSIVE_P4_SLOT] -> P4 itself.
    mov eax, PHYS(boot_p3_table)
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [PHYS(boot_p4_table)], eax
    mov [PHYS(boot_p4_table) + PHYSICAL_WINDOW_P4_SLOT * 8], eax
    mov eax, PHYS(boot_p3_high_table)
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [PHYS(boot_p4_table) + KERNEL_P4_SLOT * 8], eax
    mov eax, PHYS(boot_p4_table)
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [PHYS(boot_p4_table) + RECURSIVE_P4_SLOT * 8], eax

    ; The high P3's entry for KERNEL_OFFSET -> the first P2: the first GiB.
    mov eax, PHYS(boot_p2_tables)
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [PHYS(boot_p3_high_table) + KERNEL_P3_SLOT * 8], eax

    ; P3[i] -> the i-th P2 table.
    xor ecx, ecx
.map_p3:
    mov eax, ecx
    shl eax, 12
    add eax, PHYS(boot_p2_tables)
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [PHYS(boot_p3_table) + ecx * 8], eax
    inc ecx
    cmp ecx, BOOT_IDENTITY_MAP_GIB
    jne .map_p3

    ; Every P2 entry maps one 2 MiB page; the tables are consecutive, so
    ; entry j maps physical address j * 2 MiB. All addresses fit in 32 bits,
    ; and the entries' upper halves stay zero.
    xor ecx, ecx
.map_p2:
    mov eax, ecx
    shl eax, 21
    or eax, PTE_PRESENT | PTE_WRITABLE | PTE_HUGE
    mov [PHYS(boot_p2_tables) + ecx * 8], eax
    inc ecx
    cmp ecx, BOOT_IDENTITY_MAP_GIB * 512
    jne .map_p2
    ret

; PAE, long mode, no-execute, paging and write protection for the kernel.
enable_paging:
    mov eax, PHYS(boot_p4_table)
    mov cr3, eax

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax

    mov ecx, EFER_MSR
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr

    mov eax, cr0
    or eax, CR0_PG | CR0_WP
    mov cr0, eax
    ret

; Reports the boot error whose record (boot_errors.inc: text, bitmap) is at
; esi: on COM1 first, as the surest way out; then on the framebuffer that the
; boot information at edi describes (edi = 0: none to trust); then on the
; first VGA text line. Halts with interrupts off; never returns.
boot_error:
    mov ebp, esi
    call serial_init
    mov esi, [ebp]
.next_serial_char:
    lodsb
    test al, al
    jz .serial_done
    call serial_put
    jmp .next_serial_char
.serial_done:
    mov al, 13
    call serial_put
    mov al, 10
    call serial_put

    mov esi, [ebp + 4]
    call draw_error_on_framebuffer

    ; Blank the first text line, then write the message into it.
    mov edi, VGA_TEXT
    mov ecx, 80
    mov ax, (ERR_COLOUR << 8) | ' '
    rep stosw
    mov edi, VGA_TEXT
    mov esi, [ebp]
.next_text_char:
    lodsb
    test al, al
    jz .halt
    mov ah, ERR_COLOUR
    mov [edi], ax
    add edi, 2
    jmp .next_text_char
.halt:
    cli
    hlt
    jmp .halt

; COM1: 115200 baud (divisor 1), 8N1, FIFO on. Clobbers al and dx.
serial_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                  ; no interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                  ; DLAB on
    mov dx, COM1
    mov al, 1
    out dx, al                  ; divisor low byte
    mov dx, COM1 + 1
    xor al, al
    out dx, al                  ; divisor high byte
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                  ; 8 bits, no parity, one stop bit, DLAB off
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al                  ; FIFO on and cleared
    ret

; Sends al on COM1 once the transmitter holding register is empty, or after
; SERIAL_WAIT_POLLS polls of the line status if it never empties (a port
; read takes about a microsecond; a character at 115200 baud takes 87): a stuck
; UART must not keep the error from the screen. Clobbers bl and dx.
serial_put:
    push ecx
    mov bl, al
    mov dx, COM1 + 5
    mov ecx, SERIAL_WAIT_POLLS
.wait:
    in al, dx
    test al, 0x20
    jnz .send
    loop .wait
.send:
    mov dx, COM1
    mov al, bl
    out dx, al
    pop ecx
    ret

section .rodata
; The error records: err_no_multiboot, err_no_cpuid, err_no_long_mode, err_no_nx.
%include "boot_errors.inc"

; The boot GDT: a null descriptor and one 64-bit code segment. The Rust kernel
; replaces it with its own GDT and TSS. The 32-bit code loads it by its
; physical address (.pointer); long_mode_start reloads it by its linked
; address (.pointer_high) before the low mappings go.
align 8
gdt64:
    dq 0
.code: equ $ - gdt64
    ; executable, code/data, present, 64-bit
    dq (1 << 43) | (1 << 44) | (1 << 47) | (1 << 53)
.pointer:
    dw $ - gdt64 - 1
    dq PHYS(gdt64)
.pointer_high:
    dw .pointer - gdt64 - 1
    dq gdt64

section .bss
alignb 4096
boot_p3_table:
    resb 4096
boot_p3_high_table:
    resb 4096
boot_p2_tables:
    resb 4096 * BOOT_IDENTITY_MAP_GIB
; The P4 table sits right below the boot stack: once the kernel has switched
; to its own tables, this frame is unmapped and becomes the stack's guard page.
boot_p4_table:
    resb 4096
boot_stack_bottom:
    resb BOOT_STACK_SIZE
boot_stack_top:
