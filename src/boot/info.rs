//! [`BootInfo`]: the parts of the Multiboot2 boot information the kernel
//! uses, checked and copied into plain types.

use core::fmt;

use multiboot2::{
    BootInformation, BootInformationHeader, EFIMemoryAreaType, ElfSectionExt, ElfSectionFlags,
    FramebufferType, MemoryAreaType,
};
use x86_64::PhysAddr;

use crate::layout::BOOT_IDENTITY_MAP_END;
use crate::memory::{KernelSection, MemoryKind, MemoryRegion, PhysRange};

/// The parsed structure, kept so that the strings [`BootInfo`] borrows from
/// it live for the kernel's whole run.
static MULTIBOOT_INFO: spin::Once<BootInformation<'static>> = spin::Once::new();

/// How many memory-map entries are kept; more are counted and reported.
pub const MAX_MEMORY_REGIONS: usize = 128;
/// How many loaded kernel sections are kept (the kernel has about six).
pub const MAX_KERNEL_SECTIONS: usize = 32;
/// How many boot modules are kept.
pub const MAX_MODULES: usize = 8;

/// Size of an ELF64 section header, the entry size a 64-bit kernel's
/// ELF-sections tag must have.
const ELF64_SECTION_HEADER_SIZE: u32 = 64;

impl From<MemoryAreaType> for MemoryKind {
    fn from(typ: MemoryAreaType) -> Self {
        match typ {
            MemoryAreaType::Available => Self::Usable,
            MemoryAreaType::Reserved => Self::Reserved,
            MemoryAreaType::AcpiAvailable => Self::AcpiReclaimable,
            MemoryAreaType::ReservedHibernate => Self::AcpiNvs,
            MemoryAreaType::Defective => Self::Defective,
            MemoryAreaType::Custom(code) => Self::Other(code),
        }
    }
}

/// A linear framebuffer GRUB set up (Multiboot2 spec 3.6.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramebufferInfo {
    /// Physical address of the first pixel.
    pub address: PhysAddr,
    /// Bytes per line.
    pub pitch: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bits per pixel.
    pub bpp: u8,
    /// How pixels are encoded.
    pub kind: FramebufferKind,
}

impl FramebufferInfo {
    /// The framebuffer's bytes in physical memory.
    pub fn range(&self) -> PhysRange {
        let len = u64::from(self.pitch) * u64::from(self.height);
        PhysRange::new(self.address, self.address + len)
    }
}

/// A colour channel's place in an RGB pixel: `size` bits from bit `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColourField {
    /// Lowest bit.
    pub position: u8,
    /// Width in bits.
    pub size: u8,
}

/// What a framebuffer's pixels are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramebufferKind {
    /// Direct colour with these channels.
    Rgb {
        /// Red.
        red: ColourField,
        /// Green.
        green: ColourField,
        /// Blue.
        blue: ColourField,
    },
    /// EGA text mode (the VGA text buffer).
    Text,
    /// Palette-indexed colour (not drawn on by Pyrite).
    Indexed,
}

/// What the boot information says about ACPI's root pointer. Multiboot2
/// hands over a copy of the RSDP (spec 3.6.16, 3.6.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcpiRoot {
    /// ACPI revision: 0 for 1.0, 2 and up for the extended RSDP.
    pub revision: u8,
    /// The OEM id.
    pub oem_id: [u8; 6],
    /// Physical address of the RSDT (from an ACPI 1.0 RSDP).
    pub rsdt: Option<u64>,
    /// Physical address of the XSDT (revision 2 and up).
    pub xsdt: Option<u64>,
    /// Where the copy lies in the boot information.
    pub copy_at: u64,
}

/// Which firmware started the boot loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// A legacy PC BIOS (or a UEFI compatibility module).
    Bios,
    /// UEFI: the boot information carries an EFI system table tag.
    Uefi,
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bios => "BIOS",
            Self::Uefi => "UEFI",
        })
    }
}

/// Why the boot information cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootInfoError {
    /// The address is null or not 8-byte aligned.
    BadAddress(u64),
    /// The structure reaches beyond the memory the boot page tables map.
    NotMapped(PhysRange),
    /// The multiboot2 crate rejected the structure.
    Malformed(multiboot2::LoadError),
    /// There is no memory-map tag (type 6): the kernel cannot know its RAM.
    MissingMemoryMap,
    /// There is no ELF-sections tag (type 9): the kernel cannot find itself.
    MissingElfSections,
    /// The ELF-sections tag does not describe 64-bit section headers.
    BadElfSections {
        /// The entry size the tag gives.
        entry_size: u32,
    },
    /// More loaded sections than [`MAX_KERNEL_SECTIONS`].
    TooManySections(usize),
}

impl fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadAddress(addr) => write!(
                f,
                "boot information address {addr:#x} is null or not 8-byte aligned"
            ),
            Self::NotMapped(range) => write!(
                f,
                "boot information at {range} lies beyond the first {} GiB that boot maps",
                BOOT_IDENTITY_MAP_END >> 30
            ),
            Self::Malformed(err) => write!(f, "boot information is malformed: {err}"),
            Self::MissingMemoryMap => f.write_str(
                "the boot loader gave no memory map (Multiboot2 tag 6); cannot manage memory",
            ),
            Self::MissingElfSections => f.write_str(
                "the boot loader gave no ELF sections (Multiboot2 tag 9); cannot locate the kernel",
            ),
            Self::TooManySections(count) => write!(
                f,
                "the kernel has {count} loaded sections, more than the {MAX_KERNEL_SECTIONS} supported"
            ),
            Self::BadElfSections { entry_size } => write!(
                f,
                "ELF sections tag has {entry_size}-byte entries, expected {ELF64_SECTION_HEADER_SIZE}"
            ),
        }
    }
}

/// The boot information, as the kernel uses it.
#[derive(Debug, Clone)]
pub struct BootInfo<'a> {
    /// The boot loader's name, if it gave one.
    pub boot_loader_name: Option<&'a str>,
    /// The kernel command line (empty if none was given).
    pub command_line: &'a str,
    /// Which firmware booted the machine.
    pub firmware: Firmware,
    /// How many ELF sections the kernel image has.
    pub elf_section_count: usize,
    /// The physical range of the kernel's loaded (allocated) sections.
    pub kernel: PhysRange,
    /// The physical range of the boot information structure itself.
    pub info: PhysRange,
    /// The framebuffer, if GRUB set one up.
    pub framebuffer: Option<FramebufferInfo>,
    /// ACPI's root pointer, if GRUB passed it.
    pub acpi: Option<AcpiRoot>,
    /// The memory map came from the EFI memory map (no basic map was given).
    pub memory_map_from_efi: bool,
    regions: [MemoryRegion; MAX_MEMORY_REGIONS],
    region_count: usize,
    regions_dropped: usize,
    sections: [KernelSection; MAX_KERNEL_SECTIONS],
    section_count: usize,
    modules: [PhysRange; MAX_MODULES],
    module_count: usize,
}

impl BootInfo<'static> {
    /// Reads the boot information GRUB left at physical address `addr`.
    ///
    /// # Safety
    /// `addr` must be the address a Multiboot2 boot loader passed in ebx, and
    /// the structure must stay identity-mapped and unmodified for the rest of
    /// the kernel's life.
    pub unsafe fn from_multiboot(addr: u64) -> Result<Self, BootInfoError> {
        if addr == 0 || !addr.is_multiple_of(8) {
            return Err(BootInfoError::BadAddress(addr));
        }
        // The fixed header (total size, reserved) must be readable first.
        let header_end = addr.saturating_add(8);
        if header_end > BOOT_IDENTITY_MAP_END {
            return Err(BootInfoError::NotMapped(PhysRange::new(
                PhysAddr::new(addr),
                PhysAddr::new(header_end),
            )));
        }
        let ptr = addr as *const BootInformationHeader;
        // SAFETY: the header is mapped (checked above) and 8-byte aligned;
        // the caller promised it is a Multiboot2 structure.
        let total_size = u64::from(unsafe { (*ptr).total_size() });
        let end = addr.saturating_add(total_size);
        if end > BOOT_IDENTITY_MAP_END {
            return Err(BootInfoError::NotMapped(PhysRange::new(
                PhysAddr::new(addr),
                PhysAddr::new(end),
            )));
        }
        // SAFETY: the whole structure is mapped (checked above) and, as the
        // caller promised, valid and unchanging for 'static.
        let info = unsafe { BootInformation::load(ptr) }.map_err(BootInfoError::Malformed)?;
        Self::from_info(MULTIBOOT_INFO.call_once(|| info))
    }
}

/// What an EFI memory type means once boot services have exited (GRUB exits
/// them before it jumps to the kernel).
fn efi_kind(typ: EFIMemoryAreaType) -> MemoryKind {
    match typ {
        EFIMemoryAreaType::CONVENTIONAL
        | EFIMemoryAreaType::LOADER_CODE
        | EFIMemoryAreaType::LOADER_DATA
        | EFIMemoryAreaType::BOOT_SERVICES_CODE
        | EFIMemoryAreaType::BOOT_SERVICES_DATA => MemoryKind::Usable,
        EFIMemoryAreaType::ACPI_RECLAIM => MemoryKind::AcpiReclaimable,
        EFIMemoryAreaType::ACPI_NON_VOLATILE => MemoryKind::AcpiNvs,
        EFIMemoryAreaType::UNUSABLE => MemoryKind::Defective,
        _ => MemoryKind::Reserved,
    }
}

fn framebuffer(info: &BootInformation<'_>) -> Option<FramebufferInfo> {
    let tag = info.framebuffer_tag()?.ok()?;
    let field = |f: multiboot2::FramebufferField| ColourField {
        position: f.position,
        size: f.size,
    };
    let kind = match tag.buffer_type().ok()? {
        FramebufferType::RGB { red, green, blue } => FramebufferKind::Rgb {
            red: field(red),
            green: field(green),
            blue: field(blue),
        },
        FramebufferType::Text => FramebufferKind::Text,
        FramebufferType::Indexed { .. } => FramebufferKind::Indexed,
    };
    Some(FramebufferInfo {
        address: PhysAddr::try_new(tag.address()).ok()?,
        pitch: tag.pitch(),
        width: tag.width(),
        height: tag.height(),
        bpp: tag.bpp(),
        kind,
    })
}

/// An OEM id as six bytes ("??????" if it is not text).
fn oem_id(id: Result<&str, core::str::Utf8Error>) -> [u8; 6] {
    let mut out = *b"??????";
    if let Ok(id) = id {
        for (slot, byte) in out.iter_mut().zip(id.bytes()) {
            *slot = byte;
        }
    }
    out
}

fn acpi_root(info: &BootInformation<'_>) -> Option<AcpiRoot> {
    if let Some(v2) = info.rsdp_v2_tag() {
        return Some(AcpiRoot {
            revision: v2.revision(),
            oem_id: oem_id(v2.oem_id()),
            rsdt: None,
            xsdt: Some(v2.xsdt_address() as u64),
            copy_at: v2 as *const multiboot2::RsdpV2Tag as *const u8 as u64,
        });
    }
    info.rsdp_v1_tag().map(|v1| AcpiRoot {
        revision: v1.revision(),
        oem_id: oem_id(v1.oem_id()),
        rsdt: Some(v1.rsdt_address() as u64),
        xsdt: None,
        copy_at: v1 as *const multiboot2::RsdpV1Tag as *const u8 as u64,
    })
}

impl<'a> BootInfo<'a> {
    /// Extracts what the kernel needs from parsed boot information.
    pub fn from_info(info: &'a BootInformation<'a>) -> Result<Self, BootInfoError> {
        let elf = info
            .elf_sections_tag()
            .ok_or(BootInfoError::MissingElfSections)?;
        if elf.entry_size() != ELF64_SECTION_HEADER_SIZE {
            return Err(BootInfoError::BadElfSections {
                entry_size: elf.entry_size(),
            });
        }

        let mut regions = [MemoryRegion {
            range: PhysRange::new(PhysAddr::zero(), PhysAddr::zero()),
            kind: MemoryKind::Reserved,
        }; MAX_MEMORY_REGIONS];
        let mut region_count = 0;
        let mut regions_dropped = 0;
        let mut add = |start: u64, size: u64, kind: MemoryKind| {
            if size == 0 {
                return;
            }
            match regions.get_mut(region_count) {
                Some(slot) => {
                    *slot = MemoryRegion {
                        range: PhysRange::new(
                            PhysAddr::new_truncate(start),
                            PhysAddr::new_truncate(start.saturating_add(size)),
                        ),
                        kind,
                    };
                    region_count += 1;
                }
                None => regions_dropped += 1,
            }
        };
        let memory_map_from_efi = match (info.memory_map_tag(), info.efi_memory_map_tag()) {
            (Some(mmap), _) => {
                for area in mmap.memory_areas() {
                    add(area.start_address(), area.size(), area.typ().into());
                }
                false
            }
            (None, Some(efi)) => {
                for desc in efi.memory_areas() {
                    add(desc.phys_start, desc.page_count * 4096, efi_kind(desc.ty));
                }
                true
            }
            (None, None) => return Err(BootInfoError::MissingMemoryMap),
        };

        let empty = PhysRange::new(PhysAddr::zero(), PhysAddr::zero());
        let mut sections = [KernelSection {
            range: empty,
            writable: false,
            executable: false,
        }; MAX_KERNEL_SECTIONS];
        let mut section_count = 0;
        let mut elf_section_count = 0;
        for section in elf.sections() {
            elf_section_count += 1;
            let flags = section.flags();
            if !flags.contains(ElfSectionFlags::ALLOCATED) || section.sh_size == 0 {
                continue;
            }
            let slot = sections
                .get_mut(section_count)
                .ok_or(BootInfoError::TooManySections(section_count + 1))?;
            *slot = KernelSection {
                range: PhysRange::new(
                    PhysAddr::new_truncate(section.sh_addr),
                    PhysAddr::new_truncate(section.sh_addr.saturating_add(section.sh_size)),
                ),
                writable: flags.contains(ElfSectionFlags::WRITABLE),
                executable: flags.contains(ElfSectionFlags::EXECUTABLE),
            };
            section_count += 1;
        }
        let loaded = &sections[..section_count];
        let kernel = match (
            loaded.iter().map(|s| s.range.start).min(),
            loaded.iter().map(|s| s.range.end).max(),
        ) {
            (Some(start), Some(end)) => PhysRange::new(start, end),
            _ => empty,
        };

        let mut modules = [empty; MAX_MODULES];
        let mut module_count = 0;
        for (slot, module) in modules.iter_mut().zip(info.module_tags()) {
            *slot = PhysRange::new(
                PhysAddr::new(u64::from(module.start_address())),
                PhysAddr::new(u64::from(module.end_address())),
            );
            module_count += 1;
        }

        let firmware = if info.efi_sdt64_tag().is_some() || info.efi_sdt32_tag().is_some() {
            Firmware::Uefi
        } else {
            Firmware::Bios
        };

        Ok(Self {
            framebuffer: framebuffer(info),
            acpi: acpi_root(info),
            memory_map_from_efi,
            boot_loader_name: info.boot_loader_name_tag().and_then(|tag| tag.name().ok()),
            command_line: info
                .command_line_tag()
                .and_then(|tag| tag.cmdline().ok())
                .unwrap_or(""),
            firmware,
            elf_section_count,
            kernel,
            info: PhysRange::new(
                PhysAddr::new_truncate(info.start_address() as u64),
                PhysAddr::new_truncate(info.end_address() as u64),
            ),
            regions,
            region_count,
            regions_dropped,
            sections,
            section_count,
            modules,
            module_count,
        })
    }

    /// The memory map, in the boot loader's order, empty entries left out.
    pub fn memory_regions(&self) -> &[MemoryRegion] {
        &self.regions[..self.region_count]
    }

    /// The kernel's loaded sections, in ELF order.
    pub fn kernel_sections(&self) -> &[KernelSection] {
        &self.sections[..self.section_count]
    }

    /// The physical ranges of the boot modules GRUB loaded.
    pub fn modules(&self) -> &[PhysRange] {
        &self.modules[..self.module_count]
    }

    /// How many entries did not fit in [`MAX_MEMORY_REGIONS`].
    pub fn memory_regions_dropped(&self) -> usize {
        self.regions_dropped
    }

    /// Total bytes of usable RAM in the memory map.
    pub fn usable_bytes(&self) -> u64 {
        self.memory_regions()
            .iter()
            .filter(|region| region.kind == MemoryKind::Usable)
            .map(|region| region.range.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use multiboot2::{
        Builder, CommandLineTag, EFISdt64Tag, ElfSectionsTag, MaybeDynSized, MemoryArea,
        MemoryMapTag,
    };
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
            (0x10_0000, 0x8000, SHF_ALLOC | SHF_EXECINSTR),
            (0x10_8000, 0x2000, SHF_ALLOC),
            (0x10_a000, 0x3000, SHF_ALLOC | SHF_WRITE),
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
            assert_eq!(boot.command_line, "log=debug");
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
            // Loaded sections only: the debug section at address 0 is ignored.
            assert_eq!(
                boot.kernel,
                PhysRange::new(PhysAddr::new(0x10_0000), PhysAddr::new(0x10_d000))
            );
            assert!(!boot.info.is_empty());
            let sections = boot.kernel_sections();
            assert_eq!(sections.len(), 3);
            assert!(sections[0].executable && !sections[0].writable);
            assert!(!sections[1].executable && !sections[1].writable);
            assert!(!sections[2].executable && sections[2].writable);
            assert!(boot.modules().is_empty());
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
            assert_eq!(boot.command_line, "");
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
            MemoryKind::Other(20)
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
}
