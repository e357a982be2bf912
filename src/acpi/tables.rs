//! Finding tables: the `acpi` crate walks the RSDT/XSDT and checks each
//! table's header and checksum; this module hands the table found to the
//! parsers as bytes, and when the crate finds none, looks again itself to
//! say why (absent, or present with a bad checksum).
//!
//! Generic over the handler, so host tests run it over tables built in
//! ordinary memory.

use alloc::vec::Vec;
use core::fmt;

use acpi::sdt::Signature;
use acpi::{AcpiError, AcpiHandler, AcpiTable, AcpiTables, PhysicalMapping};
use log::warn;

use super::bytes::{checksum_ok, le_u32, le_u64};

/// The SDT header's size.
pub const HEADER_LEN: usize = 36;
/// The offset of a header's length field.
const LENGTH_AT: usize = 4;

/// Where the root table is, from the RSDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Root {
    /// 0: an RSDT of 32-bit pointers; 2 and up: an XSDT of 64-bit ones.
    pub revision: u8,
    /// Its physical address.
    pub address: u64,
}

/// Why a table could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// The root table (RSDT/XSDT) is unusable.
    Root(Signature, Problem),
    /// No table with this signature is listed.
    Missing(Signature),
    /// The table is listed but unusable.
    Bad(Signature, Problem),
}

/// What is wrong with a table that is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Its bytes do not sum to zero (at this physical address).
    Checksum(u64),
    /// Its header is not valid (signature, OEM id or table id).
    Header,
    /// Too short for what it must hold.
    TooShort,
    /// Registers it describes lie in this address space, not memory.
    AddressSpace(u8),
    /// Some other fault the `acpi` crate found.
    Other,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problem = |f: &mut fmt::Formatter<'_>, p: &Problem| match p {
            Problem::Checksum(at) => write!(f, "checksum error (table at {at:#x})"),
            Problem::Header => f.write_str("invalid header"),
            Problem::TooShort => f.write_str("too short"),
            Problem::AddressSpace(n) => {
                write!(f, "its registers lie in address space {n}, not memory")
            }
            Problem::Other => f.write_str("malformed"),
        };
        match self {
            Self::Root(sig, p) => {
                write!(f, "root table {sig}: ")?;
                problem(f, p)
            }
            Self::Missing(sig) => write!(f, "no {sig} table"),
            Self::Bad(sig, p) => {
                write!(f, "{sig} table: ")?;
                problem(f, p)
            }
        }
    }
}

impl Root {
    fn signature(self) -> Signature {
        if self.revision == 0 {
            Signature::RSDT
        } else {
            Signature::XSDT
        }
    }
}

/// Opens the root table. Its length is checked here first: the crate
/// accepts a root table shorter than its own header if the checksum holds,
/// and then subtracts the header's size from that length when it walks the
/// entries.
pub fn open<H: AcpiHandler>(handler: H, root: Root) -> Result<AcpiTables<H>, TableError> {
    let head = map_bytes(&handler, root.address, HEADER_LEN);
    let bytes = head.bytes();
    // A refused mapping reads as zeros: the crate then names the header.
    let ours = bytes.len() == HEADER_LEN && bytes[..4] == *root.signature().as_str().as_bytes();
    if ours && (le_u32(bytes, LENGTH_AT) as usize) < HEADER_LEN {
        return Err(TableError::Root(root.signature(), Problem::TooShort));
    }
    drop(head);
    // SAFETY: the address came from the RSDP; the handler decides whether
    // the memory may be mapped (the kernel's refuses usable RAM).
    unsafe { AcpiTables::from_rsdt(handler.clone(), root.revision, root.address as usize) }.map_err(
        |err| {
            let problem = match err {
                AcpiError::SdtInvalidChecksum(_) => Problem::Checksum(root.address),
                _ => Problem::Header,
            };
            TableError::Root(root.signature(), problem)
        },
    )
}

/// A mapped table, read as bytes.
pub struct TableBytes<H: AcpiHandler, T> {
    mapping: PhysicalMapping<H, T>,
}

impl<H: AcpiHandler, T> TableBytes<H, T> {
    /// The whole table, header included.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the handler mapped region_length bytes at virtual_start
        // for as long as the mapping lives, which `&self` outlives.
        unsafe {
            core::slice::from_raw_parts(
                self.mapping.virtual_start().as_ptr().cast::<u8>(),
                self.mapping.region_length(),
            )
        }
    }

    /// Its physical address.
    pub fn address(&self) -> u64 {
        self.mapping.physical_start() as u64
    }
}

/// Finds the table of type `T` and maps it whole.
pub fn find<H: AcpiHandler, T: AcpiTable>(
    tables: &AcpiTables<H>,
    handler: &H,
    root: Root,
) -> Result<TableBytes<H, T>, TableError> {
    match tables.find_table::<T>() {
        Ok(mapping) => Ok(TableBytes { mapping }),
        Err(_) => Err(diagnose(handler, root, T::SIGNATURE)),
    }
}

/// Maps `len` bytes at `address` (an AML stream, a table the crate has
/// already checked).
pub fn map_bytes<H: AcpiHandler>(handler: &H, address: u64, len: usize) -> TableBytes<H, u8> {
    // SAFETY: any byte is a valid u8; the handler decides whether the
    // memory may be mapped.
    let mapping = unsafe { handler.map_physical_region::<u8>(address as usize, len.max(1)) };
    TableBytes { mapping }
}

/// The physical addresses the root table lists.
pub fn listed<H: AcpiHandler>(handler: &H, root: Root) -> Vec<u64> {
    let head = map_bytes(handler, root.address, HEADER_LEN);
    if head.bytes().len() < HEADER_LEN {
        return Vec::new();
    }
    let length = le_u32(head.bytes(), LENGTH_AT) as usize;
    let signature: [u8; 4] = head.bytes()[..4].try_into().unwrap_or_default();
    drop(head);
    let table = map_bytes(handler, root.address, length);
    let whole = table.bytes().len() == length && table.bytes().starts_with(&signature);
    if length < HEADER_LEN || !whole {
        // Zeros from a refused mapping would read as a list of null
        // addresses, each probed in vain.
        warn!(
            "the root table at {:#x} could not be mapped whole ({length} bytes): no tables listed",
            root.address
        );
        return Vec::new();
    }
    let entries = &table.bytes()[HEADER_LEN..];
    if root.revision == 0 {
        let entries = entries.chunks_exact(4);
        entries.map(|e| u64::from(le_u32(e, 0))).collect()
    } else {
        entries.chunks_exact(8).map(|e| le_u64(e, 0)).collect()
    }
}

/// Maps the table at `address` whole if its signature is `signature`
/// (`Ok(None)` if it is another), checking its length and checksum.
pub fn read_at<H: AcpiHandler>(
    handler: &H,
    address: u64,
    signature: Signature,
) -> Result<Option<TableBytes<H, u8>>, Problem> {
    let head = map_bytes(handler, address, HEADER_LEN);
    let bytes = head.bytes();
    if bytes.len() < HEADER_LEN || bytes[..4] != *signature.as_str().as_bytes() {
        return Ok(None);
    }
    let length = le_u32(bytes, LENGTH_AT) as usize;
    drop(head);
    if length < HEADER_LEN {
        return Err(Problem::TooShort);
    }
    let table = map_bytes(handler, address, length);
    if table.bytes().len() != length {
        // The handler refused the memory (and said why).
        return Err(Problem::Header);
    }
    if !checksum_ok(table.bytes()) {
        return Err(Problem::Checksum(address));
    }
    Ok(Some(table))
}

/// Why the crate found no valid `signature` table: checks the first
/// table the root lists with that signature.
fn diagnose<H: AcpiHandler>(handler: &H, root: Root, signature: Signature) -> TableError {
    for address in listed(handler, root) {
        match read_at(handler, address, signature) {
            Ok(None) => continue,
            // Sound by length and checksum: the crate disliked its header.
            Ok(Some(_)) => return TableError::Bad(signature, Problem::Header),
            Err(problem) => return TableError::Bad(signature, problem),
        }
    }
    TableError::Missing(signature)
}
