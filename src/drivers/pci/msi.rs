//! Message-signalled interrupts: a function's capability list, and one
//! vector programmed through MSI-X (preferred) or MSI.
//!
//! A message is a dword the device writes to the local APIC's address
//! window: the address names the destination APIC (Intel SDM vol. 3A,
//! 11.11.1), the data the vector, fixed delivery, edge triggered (11.11.2).
//! Layouts are from the PCI Local Bus specification 3.0: the MSI capability
//! (6.8.1) and the MSI-X capability and table (6.8.2). The message
//! composition and layouts are pure functions, tested on the host; only
//! [`enable`] touches a device. Vectors beyond the first stay masked.

use core::fmt;

use pci_types::{ConfigRegionAccess, PciAddress};

use super::{Bar, PciFunction};
use crate::memory::{self, DeviceMapError, PhysRange};

/// Capability id of MSI.
pub const CAP_MSI: u8 = 0x05;
/// Capability id of MSI-X.
pub const CAP_MSIX: u8 = 0x11;

/// Status register bit: the function has a capability list.
const STATUS_CAPABILITIES: u32 = 1 << 20;
/// Offset of the first capability's pointer.
const CAPABILITIES_POINTER: u16 = 0x34;
/// More capabilities than fit in 256 bytes means a loop in the list.
const MAX_CAPABILITIES: usize = 48;
/// Command register bit: INTx is disabled.
const COMMAND_INTX_DISABLE: u32 = 1 << 10;

/// The local APIC's message window (SDM 11.11.1: 0xFEE in bits 31:20).
const MESSAGE_WINDOW: u32 = 0xFEE0_0000;

// MSI-X message control (upper half of the capability's first dword).
const MSIX_ENABLE: u32 = 1 << 15;
const MSIX_FUNCTION_MASK: u32 = 1 << 14;
/// One MSI-X table entry: address low, address high, data, vector control.
const MSIX_ENTRY_LEN: u64 = 16;
const MSIX_VECTOR_MASKED: u32 = 1 << 0;

// MSI message control.
const MSI_ENABLE: u32 = 1 << 0;
/// Multiple message enable, bits 6:4: 0 asks for one vector.
const MSI_MULTIPLE_ENABLE: u32 = 0b111 << 4;
const MSI_64BIT: u32 = 1 << 7;
const MSI_PER_VECTOR_MASK: u32 = 1 << 8;

/// The address and data a device writes to raise a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    /// The message address (always below 4 GiB: the APIC window).
    pub address: u32,
    /// The message data.
    pub data: u32,
}

/// The message that raises `vector` on the CPU whose APIC id is `apic_id`:
/// physical destination, no redirection hint, fixed delivery, edge
/// triggered. `None` for an id that does not fit the 8 destination bits
/// (reaching one needs interrupt remapping).
pub fn message(apic_id: u32, vector: u8) -> Option<Message> {
    let id = u8::try_from(apic_id).ok()?;
    Some(Message {
        address: MESSAGE_WINDOW | u32::from(id) << 12,
        // Delivery mode 000 (fixed) in bits 10:8, trigger mode 0 (edge) in
        // bit 15: all zero but the vector.
        data: u32::from(vector),
    })
}

/// Offsets of an MSI capability's fields, which move with its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiLayout {
    /// The upper address dword, for a 64-bit capability.
    pub upper_address: Option<u16>,
    /// The data word.
    pub data: u16,
    /// The mask bits, if the function masks per vector.
    pub mask: Option<u16>,
}

/// The layout of the MSI capability at `cap` whose message control is
/// `control`.
pub fn msi_layout(cap: u16, control: u32) -> MsiLayout {
    let wide = control & MSI_64BIT != 0;
    let data = if wide { cap + 0x0C } else { cap + 0x08 };
    MsiLayout {
        upper_address: wide.then_some(cap + 0x08),
        data,
        mask: (control & MSI_PER_VECTOR_MASK != 0).then_some(data + 4),
    }
}

/// Where an MSI-X table lies: `(BAR index, offset in it, entries)`, from
/// the capability's message control and table dword.
pub fn msix_table(control: u32, table: u32) -> (usize, u64, u16) {
    let entries = (control & 0x7FF) as u16 + 1;
    ((table & 0x7) as usize, u64::from(table & !0x7), entries)
}

/// The capabilities of the function at `address`: `(id, offset)` pairs,
/// at most 48 (as many as fit in 256 bytes: a looping list ends there).
pub fn capabilities(
    access: &impl ConfigRegionAccess,
    address: PciAddress,
) -> impl Iterator<Item = (u8, u16)> + '_ {
    let read = move |offset: u16| {
        // SAFETY: reading the header and capability list has no side effect.
        unsafe { access.read(address, offset) }
    };
    // An absent function reads all ones, status bit included.
    let present = read(0x00) != u32::MAX;
    let mut next = if present && read(0x04) & STATUS_CAPABILITIES != 0 {
        (read(CAPABILITIES_POINTER) & 0xFC) as u16
    } else {
        0
    };
    (0..MAX_CAPABILITIES).map_while(move |_| {
        // A capability lies past the 64-byte header.
        if next < 0x40 {
            return None;
        }
        let at = next;
        let word = read(at);
        next = ((word >> 8) & 0xFC) as u16;
        Some((word as u8, at))
    })
}

/// The offset of the first capability `id` of the function at `address`.
pub fn find(access: &impl ConfigRegionAccess, address: PciAddress, id: u8) -> Option<u16> {
    capabilities(access, address).find_map(|(cap, at)| (cap == id).then_some(at))
}

/// How a function's interrupt was set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsiKind {
    /// Entry 0 of the MSI-X table.
    MsiX,
    /// The MSI capability.
    Msi,
}

impl fmt::Display for MsiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MsiX => "MSI-X",
            Self::Msi => "MSI",
        })
    }
}

/// Why no message-signalled interrupt was set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsiError {
    /// The function has neither capability.
    NoCapability,
    /// The APIC id does not fit a message's destination field.
    ApicIdTooWide(u32),
    /// The MSI-X table's BAR is not a memory BAR holding the table.
    TableBar(usize),
    /// Mapping the MSI-X table failed.
    Memory(DeviceMapError),
}

impl fmt::Display for MsiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCapability => f.write_str("no MSI or MSI-X capability"),
            Self::ApicIdTooWide(id) => write!(f, "APIC id {id} needs interrupt remapping"),
            Self::TableBar(bar) => write!(f, "the MSI-X table's BAR{bar} does not hold it"),
            Self::Memory(err) => write!(f, "the MSI-X table: {err}"),
        }
    }
}

/// Makes the function at `function` raise `vector` on the CPU with APIC id
/// `apic_id`, through MSI-X entry 0 if it has MSI-X, else through MSI; INTx
/// is turned off. Returns which was used.
pub fn enable(
    access: &impl ConfigRegionAccess,
    function: &PciFunction,
    apic_id: u32,
    vector: u8,
) -> Result<MsiKind, MsiError> {
    let message = message(apic_id, vector).ok_or(MsiError::ApicIdTooWide(apic_id))?;
    let address = function.address;
    let kind = if let Some(cap) = find(access, address, CAP_MSIX) {
        enable_msix(access, function, cap, message)?;
        MsiKind::MsiX
    } else if let Some(cap) = find(access, address, CAP_MSI) {
        enable_msi(access, address, cap, message);
        MsiKind::Msi
    } else {
        return Err(MsiError::NoCapability);
    };
    // SAFETY: the command register; only INTx disable is added.
    unsafe {
        let command = access.read(address, 0x04) & 0xFFFF;
        access.write(address, 0x04, command | COMMAND_INTX_DISABLE);
    }
    Ok(kind)
}

fn enable_msix(
    access: &impl ConfigRegionAccess,
    function: &PciFunction,
    cap: u16,
    message: Message,
) -> Result<(), MsiError> {
    let address = function.address;
    // SAFETY: reading the capability has no side effect.
    let (header, table) = unsafe { (access.read(address, cap), access.read(address, cap + 4)) };
    let control = header >> 16;
    let (bar, offset, _) = msix_table(control, table);
    let base = match function.bars.get(bar).copied().flatten() {
        Some(Bar::Memory { base, size, .. }) if offset + MSIX_ENTRY_LEN <= size => base + offset,
        _ => return Err(MsiError::TableBar(bar)),
    };
    // SAFETY: the entry lies inside the function's memory BAR (checked
    // above): device registers, not RAM.
    let entry = unsafe { memory::map_registers(PhysRange::new(base, base + MSIX_ENTRY_LEN)) }
        .map_err(MsiError::Memory)?;
    let write_control = |value: u32| {
        // SAFETY: message control, the upper half of the first dword; the
        // lower half (id, next pointer) is read-only.
        unsafe { access.write(address, cap, (header & 0xFFFF) | value << 16) }
    };
    // Enabled with the whole function masked while entry 0 is written, so
    // no half-written message is ever sent (PCI 3.0, 6.8.2.9).
    write_control((control | MSIX_ENABLE | MSIX_FUNCTION_MASK) & 0xFFFF);
    let dword = entry.as_mut_ptr::<u32>();
    // SAFETY: the four dwords of entry 0, just mapped uncached.
    unsafe {
        dword.write_volatile(message.address);
        dword.add(1).write_volatile(0);
        dword.add(2).write_volatile(message.data);
        let vector_control = dword.add(3).read_volatile();
        dword
            .add(3)
            .write_volatile(vector_control & !MSIX_VECTOR_MASKED);
    }
    write_control((control | MSIX_ENABLE) & !MSIX_FUNCTION_MASK & 0xFFFF);
    Ok(())
}

fn enable_msi(access: &impl ConfigRegionAccess, address: PciAddress, cap: u16, message: Message) {
    // SAFETY: reading the capability has no side effect.
    let header = unsafe { access.read(address, cap) };
    let control = header >> 16;
    let layout = msi_layout(cap, control);
    // SAFETY: the capability's own fields, at the offsets its width gives;
    // MSI stays off until they are written, and asks for one vector.
    unsafe {
        access.write(address, cap + 4, message.address);
        if let Some(upper) = layout.upper_address {
            access.write(address, upper, 0);
        }
        // The data is a word; the dword's upper half is reserved (or the
        // extended data) and written as zero.
        access.write(address, layout.data, message.data);
        if let Some(mask) = layout.mask {
            let bits = access.read(address, mask);
            access.write(address, mask, bits & !1);
        }
        let control = (control & !MSI_MULTIPLE_ENABLE) | MSI_ENABLE;
        access.write(address, cap, (header & 0xFFFF) | control << 16);
    }
}

#[cfg(test)]
#[path = "msi_tests.rs"]
mod tests;
