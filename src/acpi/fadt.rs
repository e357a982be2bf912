//! The FADT (ACPI 6.5 section 5.2.9) as bytes -> [`PowerFacts`]: the
//! registers that power the machine off and reset it.
//!
//! Read by offset here rather than through the `acpi` crate's `Fadt` type,
//! which trusts the table's revision to say which fields exist: a field is
//! present here only if the table's length reaches it.

use core::fmt;

use log::warn;

use super::bytes::{le_u16, le_u32, le_u64};

// Field offsets (ACPI 6.5 table 5.9).
const REVISION: usize = 8;
const SCI_INT: usize = 46;
const SMI_CMD: usize = 48;
const ACPI_ENABLE: usize = 52;
const PM1A_CNT_BLK: usize = 64;
const PM1B_CNT_BLK: usize = 68;
const CENTURY: usize = 108;
const IAPC_BOOT_ARCH: usize = 109;
const FLAGS: usize = 112;
const RESET_REG: usize = 116;
const RESET_VALUE: usize = 128;
const X_PM1A_CNT_BLK: usize = 172;
const X_PM1B_CNT_BLK: usize = 184;
/// A Generic Address Structure's size.
const GAS_LEN: usize = 12;

/// IAPC_BOOT_ARCH bit 1: the motherboard has an 8042 keyboard controller.
const BOOT_ARCH_8042: u16 = 1 << 1;
/// Flags bit 10 (RESET_REG_SUP): the reset register is supported.
const FLAG_RESET_REG_SUP: u32 = 1 << 10;
/// Flags bit 20 (HW_REDUCED_ACPI): no fixed hardware (no PM1 blocks, no
/// SMI command port).
const FLAG_HW_REDUCED: u32 = 1 << 20;

/// A register the FADT names: an I/O port or a memory address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// An I/O port.
    Io(u16),
    /// A physical memory address.
    Memory(u64),
}

impl fmt::Display for Register {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(port) => write!(f, "I/O {port:#x}"),
            Self::Memory(addr) => write!(f, "memory {addr:#x}"),
        }
    }
}

/// The reset register and the value that resets the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetRegister {
    /// Where to write.
    pub register: Register,
    /// What to write.
    pub value: u8,
    /// The FADT's flags say the register is supported (RESET_REG_SUP);
    /// some firmware fills it in without setting the flag.
    pub supported: bool,
}

/// What the FADT says about power control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PowerFacts {
    /// The SCI's interrupt (an ISA IRQ on PC machines).
    pub sci_interrupt: u16,
    /// The SMI command port and the value that hands the fixed hardware to
    /// the OS (ACPI mode), if the machine is not already in it.
    pub acpi_enable: Option<(u16, u8)>,
    /// The PM1a control block (SLP_TYP, SLP_EN, SCI_EN).
    pub pm1a_control: Option<Register>,
    /// The PM1b control block, on machines with two.
    pub pm1b_control: Option<Register>,
    /// The reset register, if the table is long enough to give one.
    pub reset: Option<ResetRegister>,
    /// The motherboard has an 8042 (a reset line to pulse).
    pub has_8042: bool,
    /// A hardware-reduced ACPI machine: no PM1 blocks.
    pub hardware_reduced: bool,
    /// The RTC's CMOS index of the century, if it has one.
    pub century: Option<u8>,
}

/// Why a FADT cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooShort(pub usize);

impl fmt::Display for TooShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the FADT is {} bytes, too short for its PM1 control blocks",
            self.0
        )
    }
}

/// Reads a FADT (header included). Fields past the table's end are
/// absent; a table that does not reach the ACPI 1.0 fields is an error.
pub fn parse(table: &[u8]) -> Result<PowerFacts, TooShort> {
    if table.len() <= CENTURY {
        return Err(TooShort(table.len()));
    }
    let has = |end: usize| table.len() >= end;
    let flags = if has(FLAGS + 4) {
        le_u32(table, FLAGS)
    } else {
        0
    };
    // Before revision 2 (ACPI 2.0) IAPC_BOOT_ARCH was reserved and 0: an
    // 8042 is then assumed, as on every PC of that era.
    let legacy_table = table[REVISION] < 2 || !has(IAPC_BOOT_ARCH + 2);
    let has_8042 = legacy_table || le_u16(table, IAPC_BOOT_ARCH) & BOOT_ARCH_8042 != 0;
    let smi = le_u32(table, SMI_CMD);
    let enable = table[ACPI_ENABLE];
    let reset = has(RESET_VALUE + 1)
        .then(|| reset_gas(table))
        .flatten()
        .map(|register| ResetRegister {
            register,
            value: table[RESET_VALUE],
            supported: flags & FLAG_RESET_REG_SUP != 0,
        });
    Ok(PowerFacts {
        sci_interrupt: le_u16(table, SCI_INT),
        acpi_enable: (smi != 0 && enable != 0 && smi <= u32::from(u16::MAX))
            .then_some((smi as u16, enable)),
        pm1a_control: control_block(table, X_PM1A_CNT_BLK, PM1A_CNT_BLK),
        pm1b_control: control_block(table, X_PM1B_CNT_BLK, PM1B_CNT_BLK),
        reset,
        has_8042,
        hardware_reduced: flags & FLAG_HW_REDUCED != 0,
        century: Some(table[CENTURY]).filter(|&c| c != 0),
    })
}

/// A PM1 control block: the 64-bit X_ field where the table has one and
/// it is filled in, else the 32-bit I/O port.
fn control_block(table: &[u8], extended: usize, legacy: usize) -> Option<Register> {
    if table.len() >= extended + GAS_LEN
        && let Some(register) = gas(table, extended)
    {
        return Some(register);
    }
    let port = le_u32(table, legacy);
    (port != 0 && port <= u32::from(u16::MAX)).then_some(Register::Io(port as u16))
}

/// The reset register's Generic Address Structure; one in a space this
/// kernel cannot write (PCI configuration space among them) is logged and
/// left out, so the reset goes on to the 8042.
fn reset_gas(table: &[u8]) -> Option<Register> {
    let register = gas(table, RESET_REG);
    let space = table[RESET_REG];
    if register.is_none() && le_u64(table, RESET_REG + 4) != 0 {
        let name = if space == 2 {
            "PCI configuration space"
        } else {
            "an unsupported space"
        };
        warn!("the FADT reset register is in address space {space} ({name}): not used");
    }
    register
}

/// A Generic Address Structure in system memory or I/O space with a
/// non-zero address (other spaces cannot be reached from here).
fn gas(table: &[u8], at: usize) -> Option<Register> {
    let address = le_u64(table, at + 4);
    match table[at] {
        _ if address == 0 => None,
        0 => Some(Register::Memory(address)),
        1 => u16::try_from(address).ok().map(Register::Io),
        _ => None,
    }
}

/// The DSDT's physical address: X_DSDT where the table reaches it and it
/// is filled in, else the 32-bit DSDT field.
pub fn dsdt_address(table: &[u8]) -> Option<u64> {
    const DSDT: usize = 40;
    const X_DSDT: usize = 140;
    if table.len() >= X_DSDT + 8 && le_u64(table, X_DSDT) != 0 {
        return Some(le_u64(table, X_DSDT));
    }
    (table.len() >= DSDT + 4)
        .then(|| u64::from(le_u32(table, DSDT)))
        .filter(|&a| a != 0)
}
