//! The IDT: every vector points to its stub in asm/interrupt_stubs.asm; the
//! exceptions that must survive a broken stack run on IST stacks.

use spin::Once;
use x86_64::VirtAddr;
use x86_64::structures::idt::{EntryOptions, InterruptDescriptorTable};

use super::gdt;
use crate::layout::INTERRUPT_VECTORS;

unsafe extern "C" {
    /// Addresses of the entry stubs, one per vector.
    static interrupt_stub_table: [u64; INTERRUPT_VECTORS];
}

static IDT: Once<InterruptDescriptorTable> = Once::new();
static EARLY_IDT: Once<InterruptDescriptorTable> = Once::new();

/// Points `vector`'s entry at `handler`. Returns `None` for the reserved
/// vectors (15, 22-27, 31), which the CPU never raises and the `x86_64`
/// crate does not expose.
///
/// # Safety
/// `handler` must be an interrupt entry stub that ends in `iretq` with the
/// stack as the CPU left it.
unsafe fn set_entry(
    idt: &mut InterruptDescriptorTable,
    vector: u8,
    handler: VirtAddr,
) -> Option<&mut EntryOptions> {
    // SAFETY: the caller promised `handler` is a valid stub for any vector;
    // the stubs handle the error code themselves, so the entry's Rust
    // handler type does not matter.
    unsafe {
        Some(match vector {
            8 => idt.double_fault.set_handler_addr(handler),
            10 => idt.invalid_tss.set_handler_addr(handler),
            11 => idt.segment_not_present.set_handler_addr(handler),
            12 => idt.stack_segment_fault.set_handler_addr(handler),
            13 => idt.general_protection_fault.set_handler_addr(handler),
            14 => idt.page_fault.set_handler_addr(handler),
            17 => idt.alignment_check.set_handler_addr(handler),
            18 => idt.machine_check.set_handler_addr(handler),
            21 => idt.cp_protection_exception.set_handler_addr(handler),
            29 => idt.vmm_communication_exception.set_handler_addr(handler),
            30 => idt.security_exception.set_handler_addr(handler),
            15 | 22..=27 | 31 => return None,
            _ => idt[vector].set_handler_addr(handler),
        })
    }
}

/// Builds and loads an IDT with every stub but no IST stacks, for the time
/// before the TSS exists. The boot GDT's code segment is current.
pub fn init_early() {
    EARLY_IDT.call_once(|| build(false)).load();
}

/// Builds and loads the IDT. Call after [`gdt::init`] (the entries take the
/// current code segment).
pub fn init() {
    IDT.call_once(|| build(true)).load();
}

/// An IDT pointing every vector at its stub; the exceptions that must
/// survive a broken stack (NMI, double fault, page fault, machine check) on
/// their IST stacks if `ist`.
fn build(ist: bool) -> InterruptDescriptorTable {
    {
        let mut idt = InterruptDescriptorTable::new();
        // SAFETY: reading the table of stub addresses defined in the assembly.
        let stubs = unsafe { &interrupt_stub_table };
        for (vector, &stub) in stubs.iter().enumerate() {
            let vector = vector as u8;
            // SAFETY: every stub saves and restores the full state and ends
            // in iretq; the IST slots below are set up by gdt::init.
            unsafe {
                let Some(entry) = set_entry(&mut idt, vector, VirtAddr::new(stub)) else {
                    continue;
                };
                if !ist {
                    continue;
                }
                match vector {
                    2 => entry.set_stack_index(gdt::NMI_IST),
                    8 => entry.set_stack_index(gdt::DOUBLE_FAULT_IST),
                    14 => entry.set_stack_index(gdt::PAGE_FAULT_IST),
                    18 => entry.set_stack_index(gdt::MACHINE_CHECK_IST),
                    _ => entry,
                };
            }
        }
        idt
    }
}
