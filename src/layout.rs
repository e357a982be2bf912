//! Constants the Rust kernel shares with the boot assembly. The assembly
//! takes them from `asm/constants.inc`; a host test checks that both agree.

/// The Multiboot2 header magic (specification 3.1.1).
pub const MULTIBOOT2_HEADER_MAGIC: u32 = 0xE852_50D6;
/// What a Multiboot2 boot loader leaves in eax (specification 3.3).
pub const MULTIBOOT2_BOOTLOADER_MAGIC: u32 = 0x36D7_6289;
/// The P4 slot that maps the page tables themselves. Not 511: the recursive
/// addresses through the top slot overflow the address space.
pub const RECURSIVE_P4_SLOT: usize = 510;
/// Where the kernel image is linked: virtual = physical + this (P4 slot
/// 511, P3 slot 510, the top 2 GiB that the `kernel` code model reaches).
/// linker.ld defines it too.
pub const KERNEL_OFFSET: u64 = 0xFFFF_FFFF_8000_0000;
/// The P4 slot where the boot page tables map the first
/// [`BOOT_IDENTITY_MAP_GIB`] GiB again, so that Rust reads the boot
/// information in the higher half (`memory::regions::BOOT_DATA`).
pub const PHYSICAL_WINDOW_P4_SLOT: usize = 256;
/// How many GiB the boot page tables identity-map (and map in the physical
/// window).
pub const BOOT_IDENTITY_MAP_GIB: u64 = 4;
/// The end of the boot identity map: boot structures must lie below it.
pub const BOOT_IDENTITY_MAP_END: u64 = BOOT_IDENTITY_MAP_GIB << 30;
/// Size of the boot stack in bytes.
pub const BOOT_STACK_SIZE: usize = 0x10000;
/// Interrupt vectors that have an entry stub (all of them).
pub const INTERRUPT_VECTORS: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `NAME equ VALUE` in asm/constants.inc.
    fn asm_constant(name: &str) -> u64 {
        let source = include_str!("../asm/constants.inc");
        let line = source
            .lines()
            .map(|line| line.split(';').next().unwrap_or("").trim())
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} is not defined in asm/constants.inc"));
        let value = line.split_whitespace().nth(2).expect("NAME equ VALUE");
        match value
            .strip_prefix("0x")
            .or_else(|| value.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16).expect("hex value"),
            None => value.parse().expect("decimal value"),
        }
    }

    #[test]
    fn assembly_and_rust_agree() {
        assert_eq!(
            asm_constant("MULTIBOOT2_HEADER_MAGIC"),
            u64::from(MULTIBOOT2_HEADER_MAGIC)
        );
        assert_eq!(
            asm_constant("MULTIBOOT2_BOOTLOADER_MAGIC"),
            u64::from(MULTIBOOT2_BOOTLOADER_MAGIC)
        );
        assert_eq!(asm_constant("RECURSIVE_P4_SLOT"), RECURSIVE_P4_SLOT as u64);
        assert_eq!(asm_constant("BOOT_IDENTITY_MAP_GIB"), BOOT_IDENTITY_MAP_GIB);
        assert_eq!(asm_constant("KERNEL_OFFSET"), KERNEL_OFFSET);
        assert_eq!(
            asm_constant("PHYSICAL_WINDOW_P4_SLOT"),
            PHYSICAL_WINDOW_P4_SLOT as u64
        );
        assert_eq!(asm_constant("BOOT_STACK_SIZE"), BOOT_STACK_SIZE as u64);
        assert_eq!(asm_constant("INTERRUPT_VECTORS"), INTERRUPT_VECTORS as u64);
    }

    #[test]
    fn linker_script_agrees() {
        let script = include_str!("../linker.ld");
        let line = script
            .lines()
            .find(|line| line.trim_start().starts_with("KERNEL_OFFSET ="))
            .expect("linker.ld defines KERNEL_OFFSET");
        let value = line
            .split('=')
            .nth(1)
            .and_then(|v| v.trim().trim_end_matches(';').strip_prefix("0x"))
            .expect("KERNEL_OFFSET = 0x...;");
        assert_eq!(u64::from_str_radix(value, 16).unwrap(), KERNEL_OFFSET);
        // The kernel's P4 slot is 511 and its P3 slot 510, as asm/boot.asm
        // maps it.
        assert_eq!((KERNEL_OFFSET >> 39) & 511, 511);
        assert_eq!((KERNEL_OFFSET >> 30) & 511, 510);
    }

    #[test]
    fn header_magic_matches_the_specification() {
        // Written out independently of the constants above.
        assert_eq!(
            MULTIBOOT2_HEADER_MAGIC.to_be_bytes(),
            [0xE8, 0x52, 0x50, 0xD6]
        );
        assert_eq!(multiboot2::MAGIC, MULTIBOOT2_BOOTLOADER_MAGIC);
    }
}
