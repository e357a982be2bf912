//! What the boot information says about the firmware and the machine
//! beyond memory: which firmware, the framebuffer, ACPI's root pointer, and
//! how EFI memory types read once boot services are gone.

use core::fmt;

use multiboot2::{BootInformation, EFIMemoryAreaType, FramebufferType};
use x86_64::PhysAddr;

use crate::memory::{MemoryKind, PhysRange};

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
    /// The copy's checksum (and extended checksum, revision 2 and up)
    /// holds.
    pub checksum_valid: bool,
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

/// What an EFI memory type means once boot services have exited (GRUB exits
/// them before it jumps to the kernel).
pub(super) fn efi_kind(typ: EFIMemoryAreaType) -> MemoryKind {
    match typ {
        EFIMemoryAreaType::CONVENTIONAL
        | EFIMemoryAreaType::LOADER_CODE
        | EFIMemoryAreaType::LOADER_DATA
        | EFIMemoryAreaType::BOOT_SERVICES_CODE
        | EFIMemoryAreaType::BOOT_SERVICES_DATA => MemoryKind::Usable,
        EFIMemoryAreaType::ACPI_RECLAIM => MemoryKind::AcpiReclaimable,
        EFIMemoryAreaType::ACPI_NON_VOLATILE => MemoryKind::AcpiNvs,
        EFIMemoryAreaType::UNUSABLE => MemoryKind::Defective,
        EFIMemoryAreaType::RUNTIME_SERVICES_CODE => MemoryKind::FirmwareCode,
        _ => MemoryKind::Reserved,
    }
}

pub(super) fn framebuffer(info: &BootInformation<'_>) -> Option<FramebufferInfo> {
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

pub(super) fn acpi_root(info: &BootInformation<'_>) -> Option<AcpiRoot> {
    if let Some(v2) = info.rsdp_v2_tag() {
        return Some(AcpiRoot {
            revision: v2.revision(),
            oem_id: oem_id(v2.oem_id()),
            rsdt: None,
            xsdt: Some(v2.xsdt_address() as u64),
            copy_at: v2 as *const multiboot2::RsdpV2Tag as *const u8 as u64,
            checksum_valid: v2.checksum_is_valid(),
        });
    }
    info.rsdp_v1_tag().map(|v1| AcpiRoot {
        revision: v1.revision(),
        oem_id: oem_id(v1.oem_id()),
        rsdt: Some(v1.rsdt_address() as u64),
        xsdt: None,
        copy_at: v1 as *const multiboot2::RsdpV1Tag as *const u8 as u64,
        checksum_valid: v1.checksum_is_valid(),
    })
}
