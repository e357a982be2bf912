//! ACPI: the tables the firmware leaves in memory, read once at boot into
//! plain facts ([`facts::InterruptFacts`], [`fadt::PowerFacts`], the S5
//! sleep values, [`hpet::HpetFacts`]), and the power operations (off,
//! reset) those facts allow ([`power`]).
//!
//! Nothing outside this module reads an ACPI table. The `acpi` crate finds
//! the tables and checks their checksums; the parsers here read each one's
//! bytes with every length checked. A table that is missing or malformed
//! gives a warning naming the problem and what falls back (the 8259 PIC,
//! the 8042 reset), never a panic.

mod bytes;
pub mod describe;
pub mod facts;
pub mod fadt;
pub(crate) mod handler;
pub mod hpet;
pub mod madt;
pub mod mcfg;
pub mod power;
pub mod read;
pub mod register;
pub mod sleep_object;
pub mod tables;

#[cfg(test)]
mod tests;

use acpi::sdt::Signature;
use log::{info, warn};
use spin::Once;

use crate::boot::BootInfo;
use alloc::vec::Vec;
use facts::InterruptFacts;
use fadt::PowerFacts;
use hpet::HpetFacts;
use mcfg::EcamRegion;
use read::{MadtError, PowerError, Reading, S5Failure};
use sleep_object::SleepTypes;
use tables::Root;

static INTERRUPTS: Once<InterruptFacts> = Once::new();
static POWER: Once<PowerFacts> = Once::new();
static S5: Once<SleepTypes> = Once::new();
static HPET: Once<HpetFacts> = Once::new();
static MCFG: Once<Vec<EcamRegion>> = Once::new();

/// What falls back when the MADT gives nothing.
const NO_MADT: &str = "the interrupt code uses the 8259 PIC and the PIT";
/// What falls back when the FADT gives nothing.
const NO_FADT: &str = "shutdown cannot power off; reboot uses the 8042 and a triple fault";

/// The interrupt hardware the MADT describes, if the tables were read and
/// have a MADT.
pub fn interrupt_facts() -> Option<&'static InterruptFacts> {
    INTERRUPTS.get()
}

/// The power registers the FADT describes, if it was read.
pub fn power_facts() -> Option<&'static PowerFacts> {
    POWER.get()
}

/// The S5 (soft off) sleep values, if `\_S5` was found.
pub fn s5_sleep_types() -> Option<&'static SleepTypes> {
    S5.get()
}

/// The HPET, if the tables describe one.
pub fn hpet_facts() -> Option<&'static HpetFacts> {
    HPET.get()
}

/// The memory-mapped PCI configuration regions, if an MCFG lists any.
pub fn ecam_regions() -> &'static [EcamRegion] {
    MCFG.get().map_or(&[], Vec::as_slice)
}

/// Reads the tables the boot loader's RSDP leads to, once, and logs what
/// they say. Needs the memory code and the heap; runs before interrupts
/// are set up, which read [`interrupt_facts`].
pub fn init(boot: &'static BootInfo<'static>) {
    let Some(rsdp) = boot.acpi else {
        warn!(
            "the boot loader passed no RSDP, so no ACPI tables (no MADT, no FADT): {NO_MADT}; {NO_FADT}"
        );
        return;
    };
    if !rsdp.checksum_valid {
        warn!("the RSDP's checksum is wrong; its tables are not read: {NO_MADT}; {NO_FADT}");
        return;
    }
    let root = match (rsdp.xsdt, rsdp.rsdt) {
        (Some(address), _) if rsdp.revision >= 2 => Root {
            revision: rsdp.revision,
            address,
        },
        (_, Some(address)) => Root {
            revision: 0,
            address,
        },
        _ => {
            warn!("the RSDP names no root table: {NO_MADT}; {NO_FADT}");
            return;
        }
    };
    let handler = handler::KernelHandler {
        regions: boot.memory_regions(),
    };
    match read::read(handler, root) {
        Ok(reading) => keep(reading),
        Err(err) => warn!("{err}; no table is read: {NO_MADT}; {NO_FADT}"),
    }
}

/// Logs what was read and keeps it.
fn keep(reading: Reading) {
    match reading.interrupts {
        Ok(parse) => {
            for problem in &parse.problems {
                warn!("{problem}");
            }
            info!("{}", describe::interrupts(&parse.facts));
            INTERRUPTS.call_once(|| parse.facts);
        }
        Err(MadtError::Table(err)) => warn!("{err}: {NO_MADT}"),
        Err(MadtError::Parse(err)) => warn!("{err}: {NO_MADT}"),
    }
    match reading.power {
        Ok(power) => {
            info!("{}", describe::power(&power));
            POWER.call_once(|| power);
        }
        Err(PowerError::Table(err)) => warn!("{err}: {NO_FADT}"),
        Err(PowerError::Parse(err)) => warn!("{err}: {NO_FADT}"),
    }
    match reading.s5 {
        Ok(s5) => {
            info!("\\_S5 gives SLP_TYPa {} SLP_TYPb {}", s5.a, s5.b);
            S5.call_once(|| s5);
        }
        // A missing FADT was reported just above.
        Err(S5Failure::Table(tables::TableError::Missing(sig))) if sig == Signature::FADT => {}
        Err(S5Failure::Table(err)) => warn!("{err}: shutdown cannot power off"),
        Err(S5Failure::Aml(err)) => warn!("{err}: shutdown cannot power off"),
    }
    match reading.hpet {
        Ok(hpet) => {
            info!("{}", describe::hpet(&hpet));
            HPET.call_once(|| hpet);
        }
        Err(tables::TableError::Missing(_)) => info!("no HPET table"),
        Err(err) => warn!("{err}; the HPET is not used"),
    }
    match reading.mcfg {
        Ok(regions) => {
            info!("{}", describe::mcfg(&regions));
            MCFG.call_once(|| regions);
        }
        Err(tables::TableError::Missing(_)) => {
            info!("no MCFG table: PCI configuration through ports")
        }
        Err(err) => warn!("{err}; PCI configuration through ports"),
    }
}
