//! Host tests of reading the boot information, on structures built with
//! the multiboot2 crate's builder.

use multiboot2::{
    BootInformation, Builder, CommandLineTag, EFISdt64Tag, ElfSectionsTag, MaybeDynSized,
    MemoryArea, MemoryAreaType, MemoryMapTag,
};
use x86_64::PhysAddr;

use super::*;
use crate::layout::{BOOT_IDENTITY_MAP_END, KERNEL_OFFSET};
use crate::memory::{MemoryKind, PhysRange};
use std::boxed::Box;
use std::vec::Vec;

const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;

/// The bytes of ELF64 section headers with the given (address, size, flags).
fn section_headers(sections: &[(u64, u64, u64)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Section 0 is always the null section.
    for &(addr, size, flags) in [(0, 0, 0)].iter().chain(sections) {
        bytes.extend_from_slice(&0u32.to_ne_bytes()); // sh_name
        bytes.extend_from_slice(&1u32.to_ne_bytes()); // sh_type: PROGBITS
        bytes.extend_from_slice(&flags.to_ne_bytes()); // sh_flags
        bytes.extend_from_slice(&addr.to_ne_bytes()); // sh_addr
        bytes.extend_from_slice(&0u64.to_ne_bytes()); // sh_offset
        bytes.extend_from_slice(&size.to_ne_bytes()); // sh_size
        bytes.extend_from_slice(&[0; 8]); // sh_link, sh_info
        bytes.extend_from_slice(&4096u64.to_ne_bytes()); // sh_addralign
        bytes.extend_from_slice(&0u64.to_ne_bytes()); // sh_entsize
    }
    assert_eq!(bytes.len(), 64 * (sections.len() + 1));
    bytes
}

fn kernel_sections() -> Box<ElfSectionsTag> {
    let headers = section_headers(&[
        (KERNEL_OFFSET + 0x10_0000, 0x8000, SHF_ALLOC | SHF_EXECINSTR),
        (KERNEL_OFFSET + 0x10_8000, 0x2000, SHF_ALLOC),
        (KERNEL_OFFSET + 0x10_a000, 0x3000, SHF_ALLOC | SHF_WRITE),
        (0, 0x5000, 0), // debug info: not loaded
    ]);
    ElfSectionsTag::new(5, 64, 0, &headers)
}

fn qemu_like_map() -> Box<MemoryMapTag> {
    MemoryMapTag::new(&[
        MemoryArea::new(0, 0x9_fc00, MemoryAreaType::Available),
        MemoryArea::new(0x9_fc00, 0x400, MemoryAreaType::Reserved),
        MemoryArea::new(0xf_0000, 0x1_0000, MemoryAreaType::Reserved),
        MemoryArea::new(0x10_0000, 0x7ee_0000, MemoryAreaType::Available),
        MemoryArea::new(0x7fe_0000, 0x2_0000, MemoryAreaType::Reserved),
        MemoryArea::new(0x1_0000_0000, 0x4000_0000, MemoryAreaType::Available),
        MemoryArea::new(0xfffc_0000, 0, MemoryAreaType::Reserved),
    ])
}

/// Builds a boot information structure and runs `check` on what
/// `BootInfo::from_info` makes of it.
fn with_boot_info<R>(
    builder: Builder,
    check: impl FnOnce(Result<BootInfo<'_>, BootInfoError>) -> R,
) -> R {
    let structure = builder.build();
    // SAFETY: the builder makes a complete, 8-byte aligned structure with an
    // end tag, which lives until the end of this function.
    let info = unsafe { BootInformation::load(structure.as_bytes().as_ptr().cast()) }
        .expect("builder output loads");
    check(BootInfo::from_info(&info))
}

#[test]
fn reads_a_complete_structure() {
    let builder = Builder::new()
        .bootloader(multiboot2::BootLoaderNameTag::new("GRUB 2.06"))
        .cmdline(CommandLineTag::new("log=debug"))
        .mmap(qemu_like_map())
        .elf_sections(kernel_sections());
    with_boot_info(builder, |boot| {
        let boot = boot.expect("valid");
        assert_eq!(boot.boot_loader_name, Some("GRUB 2.06"));
        assert_eq!(boot.command_line.as_bytes(), b"log=debug");
        assert_eq!(boot.firmware, Firmware::Bios);
        assert_eq!(boot.elf_section_count, 5);
        // The zero-length entry is left out.
        assert_eq!(boot.memory_regions().len(), 6);
        assert_eq!(boot.memory_regions()[3].kind, MemoryKind::Usable);
        assert_eq!(
            boot.memory_regions()[5].range.start,
            PhysAddr::new(0x1_0000_0000)
        );
        assert_eq!(boot.usable_bytes(), 0x9_fc00 + 0x7ee_0000 + 0x4000_0000);
        // Loaded sections only: the debug section at address 0 is ignored;
        // the linked (high) addresses become physical ones.
        assert_eq!(
            boot.kernel,
            PhysRange::new(PhysAddr::new(0x10_0000), PhysAddr::new(0x10_d000))
        );
        assert_eq!(
            boot.kernel_sections()[1].range,
            PhysRange::new(PhysAddr::new(0x10_8000), PhysAddr::new(0x10_a000))
        );
        assert!(!boot.info.is_empty());
        let sections = boot.kernel_sections();
        assert_eq!(sections.len(), 3);
        assert!(sections[0].executable && !sections[0].writable);
        assert!(!sections[1].executable && !sections[1].writable);
        assert!(!sections[2].executable && sections[2].writable);
        assert_eq!(boot.modules().count(), 0);
    });
}

#[test]
fn a_section_linked_below_the_kernel_image_is_a_clear_error() {
    let headers = section_headers(&[(0x10_0000, 0x8000, SHF_ALLOC | SHF_EXECINSTR)]);
    let builder = Builder::new()
        .mmap(qemu_like_map())
        .elf_sections(ElfSectionsTag::new(2, 64, 0, &headers));
    with_boot_info(builder, |boot| {
        let err = boot.unwrap_err();
        assert_eq!(err, BootInfoError::SectionNotInKernelImage(0x10_0000));
        assert!(std::format!("{err}").contains("below the kernel image"));
    });
}

#[test]
fn missing_memory_map_is_a_clear_error() {
    let builder = Builder::new().elf_sections(kernel_sections());
    with_boot_info(builder, |boot| {
        let err = boot.expect_err("no memory map");
        assert_eq!(err, BootInfoError::MissingMemoryMap);
        assert!(std::format!("{err}").contains("no memory map"));
    });
}

#[test]
fn missing_elf_sections_is_a_clear_error() {
    let builder = Builder::new().mmap(qemu_like_map());
    with_boot_info(builder, |boot| {
        assert_eq!(boot.unwrap_err(), BootInfoError::MissingElfSections);
    });
}

#[test]
fn elf32_sections_are_rejected_not_a_library_panic() {
    let builder = Builder::new()
        .mmap(qemu_like_map())
        .elf_sections(ElfSectionsTag::new(1, 40, 0, &[0; 40]));
    with_boot_info(builder, |boot| {
        assert_eq!(
            boot.unwrap_err(),
            BootInfoError::BadElfSections { entry_size: 40 }
        );
    });
}

#[test]
fn efi_system_table_means_uefi() {
    let builder = Builder::new()
        .mmap(qemu_like_map())
        .elf_sections(kernel_sections())
        .efi64(EFISdt64Tag::new(0x7f00_0000));
    with_boot_info(builder, |boot| {
        let boot = boot.unwrap();
        assert_eq!(boot.firmware, Firmware::Uefi);
        assert_eq!(boot.command_line.as_bytes(), b"");
        assert_eq!(boot.boot_loader_name, None);
    });
}

#[test]
fn an_overlong_memory_map_is_kept_in_part_and_counted() {
    let areas: Vec<_> = (0..MAX_MEMORY_REGIONS as u64 + 10)
        .map(|i| MemoryArea::new(i * 0x2000, 0x1000, MemoryAreaType::Available))
        .collect();
    let builder = Builder::new()
        .mmap(MemoryMapTag::new(&areas))
        .elf_sections(kernel_sections());
    with_boot_info(builder, |boot| {
        let boot = boot.unwrap();
        assert_eq!(boot.memory_regions().len(), MAX_MEMORY_REGIONS);
        assert_eq!(boot.memory_regions_dropped(), 10);
        assert_eq!(boot.usable_bytes(), MAX_MEMORY_REGIONS as u64 * 0x1000);
    });
}

#[test]
fn bad_addresses_are_refused_before_any_read() {
    // SAFETY: from_multiboot rejects these before dereferencing anything.
    unsafe {
        assert_eq!(
            BootInfo::from_multiboot(0).unwrap_err(),
            BootInfoError::BadAddress(0)
        );
        assert_eq!(
            BootInfo::from_multiboot(0x1004).unwrap_err(),
            BootInfoError::BadAddress(0x1004)
        );
        assert!(matches!(
            BootInfo::from_multiboot(BOOT_IDENTITY_MAP_END).unwrap_err(),
            BootInfoError::NotMapped(_)
        ));
    }
}

#[test]
fn memory_kinds_follow_the_specification() {
    assert_eq!(
        MemoryKind::from(MemoryAreaType::Available),
        MemoryKind::Usable
    );
    assert_eq!(
        MemoryKind::from(MemoryAreaType::AcpiAvailable),
        MemoryKind::AcpiReclaimable
    );
    assert_eq!(
        MemoryKind::from(MemoryAreaType::ReservedHibernate),
        MemoryKind::AcpiNvs
    );
    assert_eq!(
        MemoryKind::from(MemoryAreaType::Custom(20)),
        MemoryKind::FirmwareCode
    );
    assert_eq!(
        MemoryKind::from(MemoryAreaType::Custom(21)),
        MemoryKind::Other(21)
    );
}

#[test]
fn grub_memory_code_is_named_and_never_usable() {
    let kind = MemoryKind::from(MemoryAreaType::Custom(20));
    assert_eq!(std::format!("{kind}"), "firmware code (kept)");
    assert_ne!(kind, MemoryKind::Usable);
    assert_eq!(
        super::firmware::efi_kind(multiboot2::EFIMemoryAreaType::RUNTIME_SERVICES_CODE),
        MemoryKind::FirmwareCode
    );
}

#[test]
fn ranges() {
    let r = PhysRange::new(PhysAddr::new(0x1000), PhysAddr::new(0x3000));
    assert_eq!(r.len(), 0x2000);
    assert!(r.contains(PhysAddr::new(0x1000)) && r.contains(PhysAddr::new(0x2fff)));
    assert!(!r.contains(PhysAddr::new(0x3000)) && !r.contains(PhysAddr::new(0xfff)));
    assert_eq!(std::format!("{r}"), "0x1000-0x3000");
}

#[test]
fn efi_memory_map_stands_in_for_a_missing_basic_map() {
    use multiboot2::{EFIMemoryAreaType, EFIMemoryAttribute, EFIMemoryDesc, EFIMemoryMapTag};
    let desc = |ty, start: u64, pages| EFIMemoryDesc {
        ty,
        padding: 0,
        phys_start: start,
        virt_start: 0,
        page_count: pages,
        att: EFIMemoryAttribute::empty(),
    };
    let map = EFIMemoryMapTag::new_from_descs(&[
        desc(EFIMemoryAreaType::CONVENTIONAL, 0x1000, 0x9e),
        desc(EFIMemoryAreaType::BOOT_SERVICES_DATA, 0x10_0000, 0x100),
        desc(EFIMemoryAreaType::ACPI_RECLAIM, 0x20_0000, 0x10),
        desc(EFIMemoryAreaType::RUNTIME_SERVICES_CODE, 0x21_0000, 0x10),
        desc(EFIMemoryAreaType::UNUSABLE, 0x22_0000, 1),
    ]);
    let builder = Builder::new().efi_mmap(map).elf_sections(kernel_sections());
    with_boot_info(builder, |boot| {
        let boot = boot.expect("an EFI map is enough");
        assert!(boot.memory_map_from_efi);
        let kinds: Vec<_> = boot.memory_regions().iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                MemoryKind::Usable,
                MemoryKind::Usable,
                MemoryKind::AcpiReclaimable,
                MemoryKind::FirmwareCode,
                MemoryKind::Defective
            ]
        );
        assert_eq!(boot.usable_bytes(), (0x9e + 0x100) * 4096);
    });
}

#[test]
fn framebuffer_and_acpi_are_read() {
    use multiboot2::{FramebufferField, FramebufferTag, FramebufferType, RsdpV1Tag};
    let field = |position, size| FramebufferField { position, size };
    let builder = Builder::new()
        .mmap(qemu_like_map())
        .elf_sections(kernel_sections())
        .framebuffer(FramebufferTag::new(
            0x8000_0000,
            3200,
            800,
            600,
            32,
            FramebufferType::RGB {
                red: field(16, 8),
                green: field(8, 8),
                blue: field(0, 8),
            },
        ))
        .rsdpv1(RsdpV1Tag::new(*b"BOCHS ", 0, 0x7fe_1234));
    with_boot_info(builder, |boot| {
        let boot = boot.unwrap();
        let fb = boot.framebuffer.expect("framebuffer");
        assert_eq!(
            (fb.width, fb.height, fb.pitch, fb.bpp),
            (800, 600, 3200, 32)
        );
        assert_eq!(fb.range().len(), 3200 * 600);
        assert_eq!(
            fb.kind,
            FramebufferKind::Rgb {
                red: ColourField {
                    position: 16,
                    size: 8
                },
                green: ColourField {
                    position: 8,
                    size: 8
                },
                blue: ColourField {
                    position: 0,
                    size: 8
                },
            }
        );
        let acpi = boot.acpi.expect("RSDP");
        assert_eq!(
            (acpi.revision, &acpi.oem_id, acpi.rsdt, acpi.xsdt),
            (0, b"BOCHS ", Some(0x7fe_1234), None)
        );
    });
}

#[test]
fn a_command_line_that_is_not_utf8_is_kept_as_bytes() {
    let builder = Builder::new()
        .cmdline(CommandLineTag::new("log=warn #bad#"))
        .mmap(qemu_like_map())
        .elf_sections(kernel_sections());
    let structure = builder.build();
    // Copy into 8-byte aligned memory and put bytes that are not UTF-8
    // where the builder (which takes only text) put the '#' marks.
    let bytes = structure.as_bytes();
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    // SAFETY: `words` has room for `bytes.len()` bytes; u8 has no alignment.
    let raw =
        unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), bytes.len()) };
    raw.copy_from_slice(bytes);
    for byte in raw.iter_mut().filter(|b| **b == b'#') {
        *byte = 0xff;
    }
    // SAFETY: a complete, aligned structure that lives until the end.
    let info = unsafe { BootInformation::load(words.as_ptr().cast()) }.expect("loads");
    let boot = BootInfo::from_info(&info).expect("valid");
    assert_eq!(boot.command_line.as_bytes(), b"log=warn \xffbad\xff");
    let options = crate::boot::cmdline::parse(boot.command_line.as_bytes());
    assert_eq!(options.log_level, log::LevelFilter::Warn);
}

#[test]
fn every_module_is_read_however_many() {
    let mut builder = Builder::new()
        .mmap(qemu_like_map())
        .elf_sections(kernel_sections());
    for n in 0..40u32 {
        let start = 0x20_0000 + n * 0x3000;
        let name = std::format!("/bin/prog{n}");
        builder = builder.add_module(multiboot2::ModuleTag::new(start, start + 0x1800, &name));
    }
    with_boot_info(builder, |boot| {
        let boot = boot.expect("valid");
        let modules: Vec<_> = boot.modules().collect();
        assert_eq!(modules.len(), 40);
        for (n, module) in modules.iter().enumerate() {
            let start = 0x20_0000 + n as u64 * 0x3000;
            assert_eq!(
                module.range,
                PhysRange::new(PhysAddr::new(start), PhysAddr::new(start + 0x1800))
            );
            assert_eq!(
                std::format!("{}", module.name),
                std::format!("/bin/prog{n}")
            );
        }
        // The iterator starts afresh each time.
        assert_eq!(boot.modules().count(), 40);
    });
}

#[test]
fn a_module_that_ends_before_it_starts_is_empty_not_a_panic() {
    let mut payload = std::vec::Vec::new();
    payload.extend_from_slice(&0x30_0000u32.to_le_bytes());
    payload.extend_from_slice(&0x20_0000u32.to_le_bytes());
    payload.extend_from_slice(b"broken\0");
    let module = super::modules::module_from_payload(&payload);
    assert!(module.range.is_empty());
    assert_eq!(module.range.start, PhysAddr::new(0x30_0000));
    assert_eq!(module.name.as_bytes(), b"broken");
    // A payload too short to hold the addresses reads as empty.
    assert!(
        super::modules::module_from_payload(&[1, 2])
            .range
            .is_empty()
    );
}
