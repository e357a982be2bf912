; The 32-bit trampoline's boot errors on the firmware's linear framebuffer.
; UEFI has no VGA text mode, so without this an error reaches the serial line
; only and the screen stays black. The Multiboot2 boot information says where
; the boot loader left a framebuffer (specification section 3.6.12); the text
; comes already drawn, one bit per pixel, from build.rs (boot_errors.inc), in
; the kernel's console font.
;
; Runs in protected mode with paging off, so the framebuffer's physical
; address is used as it is when it lies below 4 GiB. Every read stays inside
; the boot information's total_size and every write inside the framebuffer's
; width x height; anything unexpected means no drawing, never a guess.
; Its own variables are reached by their physical addresses (PHYS).

%include "constants.inc"

global draw_error_on_framebuffer

; Boot information (Multiboot2 specification, section 3.6): a u32 total size,
; a reserved u32, then tags of u32 type and u32 size, each 8-byte aligned,
; closed by an end tag (type 0).
MBI_TOTAL_SIZE    equ 0
MBI_FIRST_TAG     equ 8
TAG_TYPE          equ 0
TAG_SIZE          equ 4
TAG_HEADER_SIZE   equ 8
TAG_END           equ 0
TAG_FRAMEBUFFER   equ 8

; The framebuffer tag (3.6.12). For direct RGB (type 1) the colour info is
; red position, red mask size, green position, green mask size, blue position
; and blue mask size, one byte each.
FB_ADDR           equ 8         ; u64
FB_PITCH          equ 16        ; bytes per row
FB_WIDTH          equ 20        ; pixels
FB_HEIGHT         equ 24        ; pixels
FB_BPP            equ 28        ; u8, bits per pixel
FB_TYPE           equ 29        ; u8
FB_COLOUR_INFO    equ 32
FB_TAG_MIN_SIZE   equ FB_COLOUR_INFO + 6
FB_TYPE_RGB       equ 1

; The red of the VGA palette (170, 0, 0), which the text screen shows as the
; background of an error line; the text is white.
RED_LEVEL         equ 170
FULL_LEVEL        equ 0xFF

; A bitmap from boot_errors.inc: dd width, height, then the rows.
BITMAP_WIDTH      equ 0
BITMAP_HEIGHT     equ 4
BITMAP_ROWS       equ 8

struc screen
    .base:            resd 1    ; framebuffer address
    .pitch:           resd 1
    .bytes_per_pixel: resd 1    ; 3 or 4
    .columns:         resd 1    ; the bitmap's width, clipped to the screen
    .rows:            resd 1    ; the bitmap's height, clipped to the screen
    .white:           resd 1    ; pixel values
    .red:             resd 1
endstruc

section .text
bits 32

; Draws the bitmap at esi at the top left of the framebuffer that the boot
; information at edi describes, white on red. edi = 0 means the boot
; information is not to be trusted (bad magic): nothing is drawn, as when
; there is no usable framebuffer. Preserves every register.
draw_error_on_framebuffer:
    pushad
    test edi, edi
    jz .done
    call find_framebuffer_tag
    test ebx, ebx
    jz .done
    call read_geometry
    jc .done
    call read_colours
    jc .done
    call blit
.done:
    popad
    ret

; Walks the tags of the boot information at edi. Returns the framebuffer
; tag's address in ebx, or 0 if there is none or the tags are malformed.
; Clobbers eax, ecx and edx.
find_framebuffer_tag:
    cmp dword [edi + MBI_TOTAL_SIZE], MBI_FIRST_TAG + TAG_HEADER_SIZE
    jb .none                    ; not even room for the end tag
    mov edx, edi
    add edx, [edi + MBI_TOTAL_SIZE]
    jc .none                    ; edx = the end, below 4 GiB
    lea eax, [edi + MBI_FIRST_TAG]
.next:
    mov ecx, edx
    sub ecx, eax                ; bytes left from this tag on
    cmp ecx, TAG_HEADER_SIZE
    jb .none
    cmp dword [eax + TAG_TYPE], TAG_END
    je .none
    mov ebx, [eax + TAG_SIZE]
    cmp ebx, TAG_HEADER_SIZE
    jb .none
    cmp ebx, ecx
    ja .none                    ; the tag would run past the end
    cmp dword [eax + TAG_TYPE], TAG_FRAMEBUFFER
    je .found
    add ebx, 7                  ; cannot wrap: ebx <= ecx <= 4 GiB - 1 - eax
    and ebx, ~7
    cmp ebx, ecx
    jae .none                   ; no room for another tag
    add eax, ebx
    jmp .next
.found:
    cmp ebx, FB_TAG_MIN_SIZE
    jb .none
    mov ebx, eax
    ret
.none:
    xor ebx, ebx
    ret

; Checks the framebuffer tag at ebx (RGB, 24 or 32 bits per pixel, wholly
; below 4 GiB, rows that fit the pitch) and fills error_screen's geometry for
; the bitmap at esi. Sets CF if the framebuffer cannot be used.
; Clobbers eax and edx.
read_geometry:
    cmp dword [ebx + FB_ADDR + 4], 0
    jne .unusable               ; above 4 GiB: out of reach with paging off
    cmp byte [ebx + FB_TYPE], FB_TYPE_RGB
    jne .unusable
    movzx eax, byte [ebx + FB_BPP]
    cmp eax, 32
    je .depth_known
    cmp eax, 24
    jne .unusable
.depth_known:
    shr eax, 3
    mov [PHYS(error_screen) + screen.bytes_per_pixel], eax
    mul dword [ebx + FB_WIDTH]
    test edx, edx
    jnz .unusable
    cmp eax, [ebx + FB_PITCH]
    ja .unusable                ; a row of pixels must fit in the pitch
    mov eax, [ebx + FB_PITCH]
    mul dword [ebx + FB_HEIGHT]
    test edx, edx
    jnz .unusable
    add eax, [ebx + FB_ADDR]
    jc .unusable                ; the framebuffer must end below 4 GiB
    mov eax, [ebx + FB_ADDR]
    mov [PHYS(error_screen) + screen.base], eax
    mov eax, [ebx + FB_PITCH]
    mov [PHYS(error_screen) + screen.pitch], eax

    mov eax, [esi + BITMAP_WIDTH]
    cmp eax, [ebx + FB_WIDTH]
    jbe .width_fits
    mov eax, [ebx + FB_WIDTH]
.width_fits:
    mov [PHYS(error_screen) + screen.columns], eax
    mov eax, [esi + BITMAP_HEIGHT]
    cmp eax, [ebx + FB_HEIGHT]
    jbe .height_fits
    mov eax, [ebx + FB_HEIGHT]
.height_fits:
    mov [PHYS(error_screen) + screen.rows], eax
    clc
    ret
.unusable:
    stc
    ret

; Builds the white and red pixel values from the colour info of the
; framebuffer tag at ebx. Sets CF if a colour field is unusable.
; Clobbers eax, ecx, edx and edi.
read_colours:
    mov dword [PHYS(error_screen) + screen.white], 0
    mov ecx, 2                  ; blue, green, red
.channel:
    push ecx
    mov eax, FULL_LEVEL
    call channel_bits
    pop ecx
    jc .done
    or [PHYS(error_screen) + screen.white], eax    ; clears CF
    dec ecx
    jns .channel
    xor ecx, ecx
    mov eax, RED_LEVEL
    call channel_bits           ; checked above: cannot fail
    mov [PHYS(error_screen) + screen.red], eax
.done:
    ret

; The bits of an 8-bit level eax in colour channel ecx (0 red, 1 green,
; 2 blue) of the framebuffer tag at ebx: the level's top bits, as many as the
; mask size, at the field's position. Sets CF if the field is empty, wider
; than 8 bits or outside the pixel. Clobbers ecx, edx and edi.
channel_bits:
    movzx edx, byte [ebx + FB_COLOUR_INFO + ecx * 2 + 1]    ; mask size
    movzx edi, byte [ebx + FB_COLOUR_INFO + ecx * 2]        ; position
    lea ecx, [edx - 1]
    cmp ecx, 7
    ja .unusable                ; size 0, or over 8
    lea ecx, [edi + edx]
    cmp ecx, 32
    ja .unusable
    cmp cl, [ebx + FB_BPP]
    ja .unusable                ; the field ends past the pixel
    mov ecx, 8
    sub ecx, edx
    shr eax, cl
    mov ecx, edi
    shl eax, cl
    clc
    ret
.unusable:
    stc
    ret

; Copies the bitmap at esi to the top left of the framebuffer, clipped to
; error_screen.columns x error_screen.rows: set bits white, clear bits red.
; Clobbers eax, ebx, ecx, edx, esi and edi.
blit:
    mov edi, [PHYS(error_screen) + screen.base]
    mov ebx, [PHYS(error_screen) + screen.rows]
    mov edx, [esi + BITMAP_WIDTH]
    add edx, 7
    shr edx, 3                  ; bytes per bitmap row
    add esi, BITMAP_ROWS
.row:
    test ebx, ebx
    jz .done
    push edi
    xor ecx, ecx                ; column
.pixel:
    cmp ecx, [PHYS(error_screen) + screen.columns]
    jae .row_done
    mov eax, ecx
    shr eax, 3
    movzx eax, byte [esi + eax]
    push ecx
    and ecx, 7
    shl al, cl                  ; this column's bit to the top
    pop ecx
    test al, 0x80
    mov eax, [PHYS(error_screen) + screen.red]
    jz .put
    mov eax, [PHYS(error_screen) + screen.white]
.put:
    cmp dword [PHYS(error_screen) + screen.bytes_per_pixel], 4
    jne .three_bytes
    mov [edi], eax
    add edi, 4
    jmp .next_pixel
.three_bytes:
    mov [edi], ax
    shr eax, 16
    mov [edi + 2], al
    add edi, 3
.next_pixel:
    inc ecx
    jmp .pixel
.row_done:
    pop edi
    add edi, [PHYS(error_screen) + screen.pitch]
    add esi, edx
    dec ebx
    jmp .row
.done:
    ret

section .bss
alignb 4
error_screen:
    resb screen_size
