//! The kernel's GDT (kernel code and data, user data and code, the TSS)
//! and the TSS: the interrupt stack table (separate stacks, each above a
//! guard page, for the exceptions that must work even when the current
//! stack is broken) and `rsp0`, the stack an interrupt from ring 3 lands
//! on, which the scheduler points at the running thread's kernel stack.
//!
//! The order of the segments is the one `syscall`/`sysret` need (STAR,
//! Intel SDM vol. 2B, SYSCALL and SYSRET): `syscall` loads CS from
//! STAR[47:32] and SS from the next descriptor (kernel code, then kernel
//! data); `sysretq` loads SS from STAR[63:48] + 8 and CS from
//! STAR[63:48] + 16 (user data, then user code), so the user data segment
//! comes before the user code segment.

use core::cell::UnsafeCell;

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

use crate::memory::stack::Stack;

/// IST slot of the double-fault handler.
pub const DOUBLE_FAULT_IST: u16 = 0;
/// IST slot of the page-fault handler: a stack overflow page-faults on the
/// guard page, and the handler still has a stack to report it.
pub const PAGE_FAULT_IST: u16 = 1;
/// IST slot of the NMI handler (an NMI can arrive at any instruction).
pub const NMI_IST: u16 = 2;
/// IST slot of the machine-check handler.
pub const MACHINE_CHECK_IST: u16 = 3;
/// How many IST stacks the kernel uses.
pub const IST_STACKS: usize = 4;
/// Pages per IST stack.
pub const IST_STACK_PAGES: u64 = 4;

/// The segment selectors, as loaded (user ones with RPL 3).
#[derive(Debug, Clone, Copy)]
pub struct Selectors {
    /// Kernel code (ring 0).
    pub kernel_code: SegmentSelector,
    /// Kernel data (ring 0): SS after `syscall`.
    pub kernel_data: SegmentSelector,
    /// User data (ring 3): SS in user mode.
    pub user_data: SegmentSelector,
    /// User code (ring 3, 64-bit): CS in user mode.
    pub user_code: SegmentSelector,
    /// The TSS.
    pub tss: SegmentSelector,
}

/// The TSS, written after loading only through [`set_kernel_stack`].
struct Tss(UnsafeCell<TaskStateSegment>);

// SAFETY: the TSS is written at init (before the descriptor points at it)
// and afterwards only `rsp0`, by the CPU that owns it, with interrupts off
// (the scheduler's switch); the CPU reads it only on a privilege change.
unsafe impl Sync for Tss {}

static TSS: Once<Tss> = Once::new();
static GDT: Once<(GlobalDescriptorTable, Selectors)> = Once::new();
static IST: Once<[Stack; IST_STACKS]> = Once::new();

/// Loads the GDT and the TSS with `stacks` as the interrupt stack table.
pub fn init(stacks: [Stack; IST_STACKS]) {
    let stacks = IST.call_once(|| stacks);
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        // The TSS is packed: build the table apart and copy it in whole.
        let mut table = tss.interrupt_stack_table;
        for (slot, stack) in table.iter_mut().zip(stacks) {
            *slot = stack.top();
        }
        tss.interrupt_stack_table = table;
        Tss(UnsafeCell::new(tss))
    });
    let (gdt, selectors) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let kernel_code = gdt.append(Descriptor::kernel_code_segment());
        let kernel_data = gdt.append(Descriptor::kernel_data_segment());
        let user_data = gdt.append(Descriptor::user_data_segment());
        let user_code = gdt.append(Descriptor::user_code_segment());
        // SAFETY: the TSS lives forever in a static, and is only written
        // as `Tss` says.
        let tss = gdt.append(unsafe { Descriptor::tss_segment_unchecked(tss.0.get()) });
        let selectors = Selectors {
            kernel_code,
            kernel_data,
            user_data,
            user_code,
            tss,
        };
        (gdt, selectors)
    });
    gdt.load();
    // SAFETY: the selectors come from the GDT just loaded: a 64-bit kernel
    // code segment and a TSS that lives forever. A null SS is valid in long
    // mode at ring 0.
    unsafe {
        CS::set_reg(selectors.kernel_code);
        SS::set_reg(SegmentSelector(0));
        load_tss(selectors.tss);
    }
}

/// The selectors, once [`init`] has run.
pub fn selectors() -> Option<Selectors> {
    GDT.get().map(|(_, selectors)| *selectors)
}

/// Sets `rsp0`: where an interrupt or exception from ring 3 puts its
/// frame. Call with interrupts off, on the CPU whose TSS it is.
pub fn set_kernel_stack(top: VirtAddr) {
    let Some(tss) = TSS.get() else {
        return;
    };
    // SAFETY: `rsp0` is the first of three 8-byte slots at offset 4 of the
    // packed TSS (hence unaligned); see `Tss` for why nothing races.
    unsafe {
        let slot = (&raw mut (*tss.0.get()).privilege_stack_table).cast::<VirtAddr>();
        slot.write_unaligned(top);
    }
}

/// The IST stack in `slot`, once [`init`] has run.
pub fn ist_stack(slot: u16) -> Option<Stack> {
    IST.get()
        .and_then(|stacks| stacks.get(usize::from(slot)).copied())
}
