//! The kernel's GDT (a 64-bit code segment and the TSS) and the TSS's
//! interrupt stack table: separate stacks, each above a guard page, for the
//! exceptions that must work even when the current stack is broken.

use spin::Once;
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

static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<(GlobalDescriptorTable, SegmentSelector, SegmentSelector)> = Once::new();
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
        tss
    });
    let (gdt, code, tss_selector) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let tss_selector = gdt.append(Descriptor::tss_segment(tss));
        (gdt, code, tss_selector)
    });
    gdt.load();
    // SAFETY: the selectors come from the GDT just loaded: a 64-bit kernel
    // code segment and a TSS that lives forever. A null SS is valid in long
    // mode at ring 0.
    unsafe {
        CS::set_reg(*code);
        SS::set_reg(SegmentSelector(0));
        load_tss(*tss_selector);
    }
}

/// The IST stack in `slot`, once [`init`] has run.
pub fn ist_stack(slot: u16) -> Option<Stack> {
    IST.get()
        .and_then(|stacks| stacks.get(usize::from(slot)).copied())
}
