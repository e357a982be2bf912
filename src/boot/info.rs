//! [`BootInfo`]: the parts of the Multiboot2 boot information the kernel
//! uses, checked and copied into plain types.

use core::fmt;

use multiboot2::{
    BootInformation, BootInformationHeader, ElfSectionExt, ElfSectionFlags, MemoryAreaType, TagType,
};
use x86_64::PhysAddr;

use super::cmdline::CommandLine;
use super::firmware::{AcpiRoot, Firmware, FramebufferInfo, acpi_root, efi_kind, framebuffer};
use super::modules::Modules;
use crate::layout::{BOOT_IDENTITY_MAP_END, KERNEL_OFFSET};
use crate::memory::regions::boot_data_address;
use crate::memory::{KernelSection, MemoryKind, MemoryRegion, PhysRange};

/// The parsed structure, kept so that the strings [`BootInfo`] borrows from
/// it live for the kernel's whole run.
static MULTIBOOT_INFO: spin::Once<BootInformation<'static>> = spin::Once::new();

/// How many memory-map entries are kept; more are counted and reported.
pub const MAX_MEMORY_REGIONS: usize = 128;
/// How many loaded kernel sections are kept (the kernel has about six).
pub const MAX_KERNEL_SECTIONS: usize = 32;

/// Size of an ELF64 section header, the entry size a 64-bit kernel's
/// ELF-sections tag must have.
const ELF64_SECTION_HEADER_SIZE: u32 = 64;

/// The memory-map type GRUB gives the firmware's runtime code on UEFI
/// (`GRUB_MEMORY_CODE` in GRUB's `include/grub/memory.h`): GRUB passes its
/// own memory types through to the Multiboot2 map unchanged, and its EFI
/// memory-map reader files `EfiRuntimeServicesCode` under this one.
pub const GRUB_MEMORY_CODE: u32 = 20;

impl From<MemoryAreaType> for MemoryKind {
    fn from(typ: MemoryAreaType) -> Self {
        match typ {
            MemoryAreaType::Available => Self::Usable,
            MemoryAreaType::Reserved => Self::Reserved,
            MemoryAreaType::AcpiAvailable => Self::AcpiReclaimable,
            MemoryAreaType::ReservedHibernate => Self::AcpiNvs,
            MemoryAreaType::Defective => Self::Defective,
            MemoryAreaType::Custom(GRUB_MEMORY_CODE) => Self::FirmwareCode,
            MemoryAreaType::Custom(code) => Self::Other(code),
        }
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
    /// A loaded section is not linked in the kernel image region (at or
    /// above `KERNEL_OFFSET`): the kernel was linked for another layout.
    SectionNotInKernelImage(u64),
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
            Self::SectionNotInKernelImage(addr) => write!(
                f,
                "a kernel section is linked at {addr:#x}, below the kernel image at {KERNEL_OFFSET:#x}"
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
    /// The kernel command line (empty if none was given), as bytes: a line
    /// that is not UTF-8 still has options worth reading.
    pub command_line: CommandLine<'a>,
    /// Which firmware booted the machine.
    pub firmware: Firmware,
    /// How many ELF sections the kernel image has.
    pub elf_section_count: usize,
    /// The physical range of the kernel's loaded (allocated) sections.
    pub kernel: PhysRange,
    /// The physical range of the boot information structure itself (as
    /// the kernel reads it, from the boot data region).
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
    modules: Modules<'a>,
}

impl BootInfo<'static> {
    /// Reads the boot information GRUB left at physical address `addr`,
    /// through the boot data region (`memory::regions::BOOT_DATA`), where
    /// the boot page tables map the first `BOOT_IDENTITY_MAP_GIB` GiB and
    /// the kernel's own table keeps the structure mapped read-only. Reading
    /// it there, not at its physical address, lets the parsed structure and
    /// every string borrowed from it stay valid after the low mappings go,
    /// with no copy.
    ///
    /// # Safety
    /// `addr` must be the address a Multiboot2 boot loader passed in ebx, and
    /// the structure must stay mapped in the boot data region and unmodified
    /// for the rest of the kernel's life.
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
        let ptr = boot_data_address(PhysAddr::new(addr)).as_ptr::<BootInformationHeader>();
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
        let mut boot = Self::from_info(MULTIBOOT_INFO.call_once(|| info))?;
        boot.info = PhysRange::new(PhysAddr::new(addr), PhysAddr::new(end));
        Ok(boot)
    }
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
            // Sections are linked at their physical address + KERNEL_OFFSET.
            let start = section
                .sh_addr
                .checked_sub(KERNEL_OFFSET)
                .ok_or(BootInfoError::SectionNotInKernelImage(section.sh_addr))?;
            *slot = KernelSection {
                range: PhysRange::new(
                    PhysAddr::new_truncate(start),
                    PhysAddr::new_truncate(start.saturating_add(section.sh_size)),
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
                .tags()
                .find(|tag| tag.header().typ.get() == TagType::Cmdline.val())
                .map(|tag| CommandLine::from_nul_terminated(tag.payload()))
                .unwrap_or_default(),
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
            modules: Modules {
                tags: Some(info.tags()),
            },
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

    /// Every boot module GRUB loaded, read from the boot information each
    /// time (there is no limit on how many).
    pub fn modules(&self) -> Modules<'a> {
        self.modules.clone()
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
