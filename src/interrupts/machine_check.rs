//! Machine checks (#MC, vector 18): turning them on and saying what the
//! hardware logged. Without CR4.MCE a machine check shuts the CPU down (the
//! machine resets without a word); with it, the #MC handler runs on its own
//! IST stack and this module reads the machine-check banks for the report.
//!
//! Set-up follows Intel SDM vol. 3, 16.8 (machine-check initialisation):
//! enable every error in IA32_MCG_CTL (when present) and in each bank's
//! MCi_CTL from bank 1 up, clear each MCi_STATUS, then set CR4.MCE. Bank 0's
//! control register is left to the firmware: on P6 and Core processors it is
//! the BIOS's to set, and writing it is model specific (SDM 16.8).

use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use x86_64::registers::control::{Cr4, Cr4Flags};
use x86_64::registers::model_specific::Msr;

const IA32_MCG_CAP: u32 = 0x179;
const IA32_MCG_STATUS: u32 = 0x17A;
const IA32_MCG_CTL: u32 = 0x17B;
/// MCi_CTL is at 0x400 + 4i; STATUS, ADDR and MISC follow it.
const IA32_MC0_CTL: u32 = 0x400;

/// CPUID.1:EDX bits: the #MC exception and the machine-check architecture.
const CPUID_MCE: u32 = 1 << 7;
const CPUID_MCA: u32 = 1 << 14;
/// IA32_MCG_CAP: bank count in bits 0-7, IA32_MCG_CTL present in bit 8.
const MCG_CTL_P: u64 = 1 << 8;

/// How many banks [`enable`] found; the #MC report reads only these (a read
/// of a bank that does not exist would fault inside the handler).
static BANKS: AtomicU8 = AtomicU8::new(0);

/// What [`enable`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineCheckSupport {
    /// The CPU has no #MC exception (CPUID.1:EDX.MCE clear): nothing to do.
    None,
    /// #MC is on, but there are no banks to read (no MCA).
    ExceptionOnly,
    /// #MC is on and the banks are initialised.
    Banks {
        /// How many banks the CPU has.
        count: u8,
        /// Errors already logged when the kernel started (a machine check
        /// from before this boot, or a corrected error): reported, then
        /// cleared.
        logged: u8,
    },
}

impl fmt::Display for MachineCheckSupport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("not supported by this CPU; a machine check resets it"),
            Self::ExceptionOnly => f.write_str("on (no error banks)"),
            Self::Banks { count, logged } => {
                write!(f, "on, {count} error banks")?;
                if *logged > 0 {
                    write!(f, ", {logged} held an error from before (see above)")?;
                }
                Ok(())
            }
        }
    }
}

fn read_msr(index: u32) -> u64 {
    // SAFETY: callers read only architectural MCA registers that CPUID and
    // IA32_MCG_CAP say exist; reading them has no side effect.
    unsafe { Msr::new(index).read() }
}

/// Initialises the machine-check banks and sets CR4.MCE, where the CPU has
/// them. Call once, after the IDT (with the #MC entry and its IST stack) is
/// loaded: from then on a machine check is reported, not a silent reset.
pub fn enable() -> MachineCheckSupport {
    let features = core::arch::x86_64::__cpuid(1).edx;
    if features & CPUID_MCE == 0 {
        return MachineCheckSupport::None;
    }
    let mut support = MachineCheckSupport::ExceptionOnly;
    if features & CPUID_MCA != 0 {
        let cap = read_msr(IA32_MCG_CAP);
        let count = (cap & 0xff) as u8;
        let mut logged = 0;
        if cap & MCG_CTL_P != 0 {
            // SAFETY: IA32_MCG_CTL exists when MCG_CAP says so; all ones
            // enables the reporting of every error, as the SDM asks.
            unsafe { Msr::new(IA32_MCG_CTL).write(u64::MAX) };
        }
        for bank in 0..count {
            let status = BankStatus(read_msr(bank_msr(bank, 1)));
            if status.valid() {
                log::warn!("machine-check bank {bank} held an error at boot: {status}");
                logged += 1;
            }
            // SAFETY: bank `bank` exists (below MCG_CAP's count). Writing all
            // ones to MCi_CTL enables its error reporting; writing 0 to
            // MCi_STATUS clears the log, both as SDM 16.8 prescribes.
            unsafe {
                if bank > 0 {
                    Msr::new(bank_msr(bank, 0)).write(u64::MAX);
                }
                Msr::new(bank_msr(bank, 1)).write(0);
            }
        }
        BANKS.store(count, Ordering::Relaxed);
        support = MachineCheckSupport::Banks { count, logged };
    }
    // SAFETY: the IDT has a #MC entry on its own stack, so a machine check
    // from now on runs the handler instead of shutting the CPU down.
    unsafe { Cr4::update(|flags| flags.insert(Cr4Flags::MACHINE_CHECK_EXCEPTION)) };
    support
}

/// MSR `register` (0 CTL, 1 STATUS, 2 ADDR, 3 MISC) of bank `bank`.
fn bank_msr(bank: u8, register: u32) -> u32 {
    IA32_MC0_CTL + 4 * u32::from(bank) + register
}

/// IA32_MCG_STATUS, decoded (SDM 16.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalStatus(pub u64);

impl fmt::Display for GlobalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MCG_STATUS {:#x}", self.0)?;
        let restartable = self.0 & 1 != 0;
        f.write_str(if restartable {
            ": restartable (RIPV)"
        } else {
            ": not restartable (RIPV clear)"
        })?;
        if self.0 & 2 != 0 {
            f.write_str(", error at RIP (EIPV)")?;
        }
        if self.0 & 4 != 0 {
            f.write_str(", in progress (MCIP)")?;
        }
        Ok(())
    }
}

/// A bank's IA32_MCi_STATUS, decoded (SDM 16.3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankStatus(pub u64);

impl BankStatus {
    /// The register holds an error (VAL).
    pub fn valid(self) -> bool {
        self.0 >> 63 != 0
    }
    /// MCi_ADDR holds the address involved (ADDRV).
    pub fn address_valid(self) -> bool {
        self.0 & (1 << 58) != 0
    }
}

impl fmt::Display for BankStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "status {:#018x}, error code {:#06x}",
            self.0,
            self.0 & 0xffff
        )?;
        for (bit, what) in [
            (62, "overflow (an earlier error was lost)"),
            (61, "uncorrected"),
            (57, "processor context corrupt"),
        ] {
            if self.0 & (1 << bit) != 0 {
                write!(f, ", {what}")?;
            }
        }
        if self.0 & (1 << 61) == 0 {
            f.write_str(", corrected")?;
        }
        Ok(())
    }
}

/// Writes what the machine-check registers say, for the #MC report.
pub fn report(mut write: impl FnMut(fmt::Arguments<'_>)) {
    let banks = BANKS.load(Ordering::Relaxed);
    if banks == 0 {
        write(format_args!("  no machine-check banks to read\n"));
        return;
    }
    write(format_args!(
        "  {}\n",
        GlobalStatus(read_msr(IA32_MCG_STATUS))
    ));
    let mut any = false;
    for bank in 0..banks {
        let status = BankStatus(read_msr(bank_msr(bank, 1)));
        if !status.valid() {
            continue;
        }
        any = true;
        write(format_args!("  bank {bank}: {status}\n"));
        if status.address_valid() {
            write(format_args!(
                "  bank {bank}: address {:#x}\n",
                read_msr(bank_msr(bank, 2))
            ));
        }
    }
    if !any {
        write(format_args!("  no bank holds an error\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn a_fatal_status_says_so() {
        let status = BankStatus(0xbe00_0000_0080_0400);
        assert!(status.valid() && status.address_valid());
        assert_eq!(
            format!("{status}"),
            "status 0xbe00000000800400, error code 0x0400, uncorrected, processor context corrupt"
        );
    }

    #[test]
    fn a_corrected_status_says_so() {
        let status = BankStatus(0xc000_0000_0000_0017);
        assert!(status.valid() && !status.address_valid());
        assert_eq!(
            format!("{status}"),
            "status 0xc000000000000017, error code 0x0017, overflow (an earlier error was lost), corrected"
        );
        assert!(!BankStatus(0x1234).valid());
    }

    #[test]
    fn global_status_bits() {
        assert_eq!(
            format!("{}", GlobalStatus(5)),
            "MCG_STATUS 0x5: restartable (RIPV), in progress (MCIP)"
        );
        assert_eq!(
            format!("{}", GlobalStatus(6)),
            "MCG_STATUS 0x6: not restartable (RIPV clear), error at RIP (EIPV), in progress (MCIP)"
        );
    }

    #[test]
    fn bank_registers_are_four_apart() {
        assert_eq!(bank_msr(0, 1), 0x401);
        assert_eq!(bank_msr(3, 0), 0x40c);
        assert_eq!(bank_msr(3, 2), 0x40e);
    }
}
