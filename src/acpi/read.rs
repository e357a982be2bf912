//! Reads every table the kernel uses, through any handler: the kernel's
//! (physical memory) or a host test's (tables built in ordinary memory).

use acpi::AcpiHandler;
use acpi::fadt::Fadt;
use acpi::hpet::HpetTable;
use acpi::madt::Madt;
use acpi::sdt::Signature;

use super::bytes::{checksum_ok, le_u32};
use super::fadt::{self, PowerFacts};
use super::hpet::{self, HpetFacts};
use super::madt::{self, MadtParse, MadtProblem};
use super::sleep_object::{self, S5Error, SleepTypes};
use super::tables::{self, HEADER_LEN, Problem, Root, TableError};

/// What the tables say, each part with its own failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The MADT's facts.
    pub interrupts: Result<MadtParse, MadtError>,
    /// The FADT's facts.
    pub power: Result<PowerFacts, PowerError>,
    /// The S5 sleep values from the DSDT or an SSDT.
    pub s5: Result<SleepTypes, S5Failure>,
    /// The HPET, if the tables describe one.
    pub hpet: Result<HpetFacts, TableError>,
}

/// Why the MADT gave no facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MadtError {
    /// The table could not be found or checked.
    Table(TableError),
    /// The table is malformed.
    Parse(MadtProblem),
}

/// Why the FADT gave no facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerError {
    /// The table could not be found or checked.
    Table(TableError),
    /// The table is too short.
    Parse(fadt::TooShort),
}

/// Why no S5 values were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S5Failure {
    /// The DSDT could not be read.
    Table(TableError),
    /// The AML holds no readable `_S5`.
    Aml(S5Error),
}

/// Reads the tables the root lists.
pub fn read<H: AcpiHandler>(handler: H, root: Root) -> Result<Reading, TableError> {
    let tables = tables::open(handler.clone(), root)?;
    let interrupts = tables::find::<H, Madt>(&tables, &handler, root)
        .map_err(MadtError::Table)
        .and_then(|t| madt::parse(t.bytes()).map_err(MadtError::Parse));
    let fadt = tables::find::<H, Fadt>(&tables, &handler, root);
    let (power, s5) = match fadt {
        Ok(fadt) => {
            let power = fadt::parse(fadt.bytes()).map_err(PowerError::Parse);
            let s5 = read_s5(&handler, &tables, fadt.bytes());
            (power, s5)
        }
        Err(err) => (Err(PowerError::Table(err)), Err(S5Failure::Table(err))),
    };
    let hpet = tables::find::<H, HpetTable>(&tables, &handler, root).and_then(|t| {
        hpet::parse(t.bytes()).ok_or(TableError::Bad(Signature::HPET, Problem::TooShort))
    });
    Ok(Reading {
        interrupts,
        power,
        s5,
        hpet,
    })
}

/// Looks for `_S5` in the DSDT, then in each SSDT.
fn read_s5<H: AcpiHandler>(
    handler: &H,
    tables: &acpi::AcpiTables<H>,
    fadt: &[u8],
) -> Result<SleepTypes, S5Failure> {
    let missing = TableError::Missing(Signature::DSDT);
    let address = fadt::dsdt_address(fadt).ok_or(S5Failure::Table(missing))?;
    let dsdt = read_dsdt(handler, address).map_err(S5Failure::Table)?;
    match sleep_object::find_s5(&dsdt.bytes()[HEADER_LEN..]) {
        Err(S5Error::NotFound) => {}
        other => return other.map_err(S5Failure::Aml),
    }
    drop(dsdt);
    for ssdt in tables.ssdts() {
        let aml = tables::map_bytes(handler, ssdt.address as u64, ssdt.length as usize);
        match sleep_object::find_s5(aml.bytes()) {
            Err(S5Error::NotFound) => {}
            other => return other.map_err(S5Failure::Aml),
        }
    }
    Err(S5Failure::Aml(S5Error::NotFound))
}

/// Maps the DSDT whole and checks its signature, length and checksum (the
/// FADT points at it; the root table does not list it).
fn read_dsdt<H: AcpiHandler>(
    handler: &H,
    address: u64,
) -> Result<tables::TableBytes<H, u8>, TableError> {
    let bad = |problem| TableError::Bad(Signature::DSDT, problem);
    let head = tables::map_bytes(handler, address, HEADER_LEN);
    if head.bytes().len() < HEADER_LEN || &head.bytes()[..4] != b"DSDT" {
        return Err(bad(Problem::Header));
    }
    let length = le_u32(head.bytes(), 4) as usize;
    drop(head);
    if length < HEADER_LEN {
        return Err(bad(Problem::TooShort));
    }
    let table = tables::map_bytes(handler, address, length);
    if table.bytes().len() != length {
        return Err(bad(Problem::Header));
    }
    if !checksum_ok(table.bytes()) {
        return Err(bad(Problem::Checksum(address)));
    }
    Ok(table)
}
