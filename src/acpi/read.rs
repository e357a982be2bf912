//! Reads every table the kernel uses, through any handler: the kernel's
//! (physical memory) or a host test's (tables built in ordinary memory).

use acpi::AcpiHandler;
use acpi::fadt::Fadt;
use acpi::hpet::HpetTable;
use acpi::madt::Madt;
use acpi::mcfg::Mcfg;
use acpi::sdt::Signature;
use alloc::vec::Vec;

use super::fadt::{self, PowerFacts};
use super::hpet::{self, HpetFacts};
use super::madt::{self, MadtParse, MadtProblem};
use super::mcfg::{self, EcamRegion};
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
    /// The memory-mapped PCI configuration regions, if an MCFG lists them.
    pub mcfg: Result<Vec<EcamRegion>, TableError>,
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
            let s5 = read_s5(&handler, root, fadt.bytes());
            (power, s5)
        }
        Err(err) => (Err(PowerError::Table(err)), Err(S5Failure::Table(err))),
    };
    let hpet = tables::find::<H, HpetTable>(&tables, &handler, root)
        .and_then(|t| hpet::parse(t.bytes()).map_err(|p| TableError::Bad(Signature::HPET, p)));
    let mcfg = tables::find::<H, Mcfg>(&tables, &handler, root)
        .and_then(|t| mcfg::parse(t.bytes()).map_err(|p| TableError::Bad(Signature::MCFG, p)));
    Ok(Reading {
        interrupts,
        power,
        s5,
        hpet,
        mcfg,
    })
}

/// Looks for `_S5` in the DSDT, then in each SSDT the root lists (sound
/// ones only: a broken SSDT is skipped).
fn read_s5<H: AcpiHandler>(handler: &H, root: Root, fadt: &[u8]) -> Result<SleepTypes, S5Failure> {
    let missing = TableError::Missing(Signature::DSDT);
    let address = fadt::dsdt_address(fadt).ok_or(S5Failure::Table(missing))?;
    let dsdt = match tables::read_at(handler, address, Signature::DSDT) {
        Ok(Some(dsdt)) => dsdt,
        Ok(None) => {
            return Err(S5Failure::Table(TableError::Bad(
                Signature::DSDT,
                Problem::Header,
            )));
        }
        Err(problem) => return Err(S5Failure::Table(TableError::Bad(Signature::DSDT, problem))),
    };
    match sleep_object::find_s5(&dsdt.bytes()[HEADER_LEN..]) {
        Err(S5Error::NotFound) => {}
        other => return other.map_err(S5Failure::Aml),
    }
    drop(dsdt);
    for address in tables::listed(handler, root) {
        let Ok(Some(ssdt)) = tables::read_at(handler, address, Signature::SSDT) else {
            continue;
        };
        match sleep_object::find_s5(&ssdt.bytes()[HEADER_LEN..]) {
            Err(S5Error::NotFound) => {}
            other => return other.map_err(S5Failure::Aml),
        }
    }
    Err(S5Failure::Aml(S5Error::NotFound))
}
