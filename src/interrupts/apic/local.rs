//! The boot CPU's local APIC: in x2APIC mode (registers as MSRs from
//! 0x800) where CPUID says the CPU has it, else xAPIC (registers in a 4 KiB
//! MMIO page, mapped through the memory code). It owns the spurious and
//! error vectors, the end of interrupt, and the local timer's registers;
//! what the timer is used for is the timer module's business.

use core::sync::atomic::{AtomicU64, Ordering};

use log::warn;
use spin::Once;
use x86_64::registers::model_specific::Msr;
use x86_64::{PhysAddr, VirtAddr};

use crate::memory::{self, DeviceMapError, PhysRange};

/// Delivered when the APIC drops an interrupt it already signalled; no EOI.
pub const SPURIOUS_VECTOR: u8 = 0xFF;
/// The APIC's error interrupt.
pub const ERROR_VECTOR: u8 = 0xFE;
/// The local timer's interrupt.
pub const TIMER_VECTOR: u8 = 0xF0;

const IA32_APIC_BASE: u32 = 0x1B;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;
const IA32_TSC_DEADLINE: u32 = 0x6E0;
const X2APIC_MSR_BASE: u32 = 0x800;

/// Register offsets in the xAPIC page (Intel SDM vol. 3A, table 11-1); the
/// x2APIC MSR is 0x800 + offset / 16.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
enum Reg {
    Id = 0x20,
    TaskPriority = 0x80,
    Eoi = 0xB0,
    SpuriousVector = 0xF0,
    ErrorStatus = 0x280,
    LvtTimer = 0x320,
    LvtLint0 = 0x350,
    LvtLint1 = 0x360,
    LvtError = 0x370,
    TimerInitialCount = 0x380,
    TimerCurrentCount = 0x390,
    TimerDivide = 0x3E0,
}

const SVR_ENABLE: u32 = 1 << 8;
/// LVT delivery mode NMI (bits 10:8 = 100); NMIs are edge triggered.
const LVT_NMI: u32 = 0b100 << 8;
const LVT_ACTIVE_LOW: u32 = 1 << 13;
const LVT_MASKED: u32 = 1 << 16;
/// LVT timer mode, bits 18:17: 00 one-shot, 10 TSC-deadline.
const LVT_TSC_DEADLINE: u32 = 0b10 << 17;
/// Divide configuration 0b0011: the bus clock divided by 16.
const DIVIDE_BY_16: u32 = 0b0011;

/// What the CPU offers, from CPUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// A local APIC at all (CPUID.1:EDX bit 9).
    pub apic: bool,
    /// x2APIC mode (CPUID.1:ECX bit 21).
    pub x2apic: bool,
    /// The TSC-deadline timer mode (CPUID.1:ECX bit 24).
    pub tsc_deadline: bool,
    /// A TSC that runs at a constant rate in every power state
    /// (CPUID.80000007H:EDX bit 8).
    pub invariant_tsc: bool,
}

impl Features {
    /// Reads the CPU's features.
    pub fn read() -> Self {
        let leaf1 = core::arch::x86_64::__cpuid(1);
        let max_extended = core::arch::x86_64::__cpuid(0x8000_0000).eax;
        let invariant_tsc = max_extended >= 0x8000_0007
            && core::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0;
        Self {
            apic: leaf1.edx & (1 << 9) != 0,
            x2apic: leaf1.ecx & (1 << 21) != 0,
            tsc_deadline: leaf1.ecx & (1 << 24) != 0,
            invariant_tsc,
        }
    }
}

/// How the registers are reached.
#[derive(Debug, Clone, Copy)]
enum Access {
    X2Apic,
    XApic(VirtAddr),
}

/// The enabled local APIC.
pub struct LocalApic {
    access: Access,
    features: Features,
}

static LAPIC: Once<LocalApic> = Once::new();
static ERRORS: AtomicU64 = AtomicU64::new(0);
static SPURIOUS: AtomicU64 = AtomicU64::new(0);

impl LocalApic {
    fn read(&self, reg: Reg) -> u32 {
        match self.access {
            // SAFETY: an architectural x2APIC register, enabled in init.
            Access::X2Apic => unsafe { Msr::new(X2APIC_MSR_BASE + reg as u32 / 16).read() as u32 },
            // SAFETY: the page at `base` maps the APIC's registers (init);
            // every offset in `Reg` lies inside it and is 16-byte aligned.
            Access::XApic(base) => unsafe {
                (base + u64::from(reg as u32))
                    .as_ptr::<u32>()
                    .read_volatile()
            },
        }
    }

    fn write(&self, reg: Reg, value: u32) {
        match self.access {
            // SAFETY: as in `read`; the values written are the ones the
            // SDM defines for each register.
            Access::X2Apic => unsafe {
                Msr::new(X2APIC_MSR_BASE + reg as u32 / 16).write(u64::from(value))
            },
            // SAFETY: as in `read`.
            Access::XApic(base) => unsafe {
                (base + u64::from(reg as u32))
                    .as_mut_ptr::<u32>()
                    .write_volatile(value)
            },
        }
    }

    /// This CPU's APIC id (xAPIC: bits 31:24 of the id register; x2APIC:
    /// the whole 32-bit register), the destination of messages to it.
    pub fn id(&self) -> u32 {
        let raw = self.read(Reg::Id);
        if self.is_x2apic() { raw } else { raw >> 24 }
    }

    /// Whether the registers are MSRs (x2APIC).
    pub fn is_x2apic(&self) -> bool {
        matches!(self.access, Access::X2Apic)
    }

    /// The CPU's features, as read at init.
    pub fn features(&self) -> Features {
        self.features
    }

    /// Reads and clears the error status (a write arms the read).
    fn take_error_status(&self) -> u32 {
        self.write(Reg::ErrorStatus, 0);
        self.read(Reg::ErrorStatus)
    }

    /// Delivers LINT pin `lint` (0 or 1) as an NMI.
    pub fn set_lint_nmi(&self, lint: u8, active_low: bool) {
        let reg = if lint == 0 {
            Reg::LvtLint0
        } else {
            Reg::LvtLint1
        };
        let polarity = if active_low { LVT_ACTIVE_LOW } else { 0 };
        self.write(reg, LVT_NMI | polarity);
    }

    /// Sets the timer to TSC-deadline mode on `vector`, disarmed.
    pub fn timer_tsc_deadline(&self, vector: u8) {
        self.write(Reg::LvtTimer, u32::from(vector) | LVT_TSC_DEADLINE);
        // The SDM asks for a fence between the LVT write (MMIO in xAPIC
        // mode) and the first write of IA32_TSC_DEADLINE.
        core::sync::atomic::fence(Ordering::SeqCst);
        self.arm_tsc_deadline(0);
    }

    /// Fires the timer when the TSC reaches `tsc`; 0 disarms it.
    pub fn arm_tsc_deadline(&self, tsc: u64) {
        // SAFETY: the MSR exists (CPUID said so before the mode was chosen)
        // and writing it only arms or disarms this CPU's timer.
        unsafe { Msr::new(IA32_TSC_DEADLINE).write(tsc) };
    }

    /// Sets the timer to one-shot mode on `vector` (masked if `masked`),
    /// counting the bus clock divided by 16, stopped.
    pub fn timer_one_shot(&self, vector: u8, masked: bool) {
        self.write(Reg::TimerDivide, DIVIDE_BY_16);
        let mask = if masked { LVT_MASKED } else { 0 };
        self.write(Reg::LvtTimer, u32::from(vector) | mask);
        self.write(Reg::TimerInitialCount, 0);
    }

    /// Starts a one-shot count of `count` (0 stops the timer).
    pub fn start_count(&self, count: u32) {
        self.write(Reg::TimerInitialCount, count);
    }

    /// The one-shot timer's current count.
    pub fn current_count(&self) -> u32 {
        self.read(Reg::TimerCurrentCount)
    }
}

/// Turns the boot CPU's local APIC on: x2APIC mode if the CPU has it, else
/// xAPIC at `address` (the MADT's), mapped here. Every local interrupt
/// source but the error interrupt starts masked: LINT0 (the 8259s' way in)
/// stays so, as the 8259s are off; the caller wires the LINT pins the MADT
/// names for NMI ([`LocalApic::set_lint_nmi`]).
pub fn init(address: u64) -> Result<&'static LocalApic, DeviceMapError> {
    let features = Features::read();
    let access = if features.x2apic {
        Access::X2Apic
    } else {
        let start = PhysAddr::new(address);
        // SAFETY: the MADT names this page as the local APIC's registers:
        // device memory, never RAM the allocator hands out.
        Access::XApic(unsafe { memory::map_registers(PhysRange::new(start, start + 0x400u64)) }?)
    };
    let mut base = Msr::new(IA32_APIC_BASE);
    // SAFETY: setting the enable bits of IA32_APIC_BASE turns the APIC on
    // in the mode chosen above; the base address bits are kept. x2APIC is
    // entered from xAPIC (enable first), as the SDM requires.
    unsafe {
        let value = base.read() | APIC_BASE_ENABLE;
        base.write(value);
        if features.x2apic {
            base.write(value | APIC_BASE_X2APIC);
        }
    }
    let lapic = LAPIC.call_once(|| LocalApic { access, features });
    lapic.write(Reg::TaskPriority, 0);
    lapic.write(Reg::LvtLint0, LVT_MASKED);
    lapic.write(Reg::LvtLint1, LVT_MASKED);
    lapic.write(Reg::LvtTimer, LVT_MASKED | u32::from(TIMER_VECTOR));
    lapic.write(Reg::LvtError, u32::from(ERROR_VECTOR));
    lapic.take_error_status();
    lapic.write(Reg::SpuriousVector, SVR_ENABLE | u32::from(SPURIOUS_VECTOR));
    Ok(lapic)
}

/// The local APIC, once [`init`] turned it on.
pub fn get() -> Option<&'static LocalApic> {
    LAPIC.get()
}

/// Signals the end of the interrupt in service.
pub fn end_of_interrupt() {
    if let Some(lapic) = LAPIC.get() {
        lapic.write(Reg::Eoi, 0);
    }
}

/// The error interrupt: reads the error status, counts, and warns on the
/// 1st, 2nd, 4th, 8th... error (a storm cannot flood the log).
pub fn on_error() {
    let Some(lapic) = LAPIC.get() else { return };
    let status = lapic.take_error_status();
    let count = ERRORS.fetch_add(1, Ordering::Relaxed) + 1;
    if count.is_power_of_two() {
        warn!(
            "local APIC error #{count}: ESR {status:#x} ({})",
            describe_esr(status)
        );
    }
}

/// The SDM's names for the error status bits.
fn describe_esr(status: u32) -> &'static str {
    const NAMES: [&str; 8] = [
        "send checksum",
        "receive checksum",
        "send accept",
        "receive accept",
        "redirectable IPI",
        "send illegal vector",
        "received illegal vector",
        "illegal register address",
    ];
    (0..8)
        .find(|bit| status & (1 << bit) != 0)
        .map_or("no bit set", |bit| NAMES[bit])
}

/// Counts an interrupt on the spurious vector (it needs no EOI).
pub fn count_spurious() {
    SPURIOUS.fetch_add(1, Ordering::Relaxed);
}

/// APIC errors reported since boot.
pub fn error_count() -> u64 {
    ERRORS.load(Ordering::Relaxed)
}

/// Spurious-vector interrupts since boot.
pub fn spurious_count() -> u64 {
    SPURIOUS.load(Ordering::Relaxed)
}
