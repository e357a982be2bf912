//! Exceptions in ring 3: a page fault in a demand-zero region gets its
//! page; anything else ends the process with one line saying what and
//! where, and the kernel goes on.

use alloc::string::String;
use core::fmt::Write;

use super::loader::{USER_STACK_BOTTOM, USER_STACK_TOP};
use super::table::{ExitStatus, Process, current, exit_current};
use super::user_access::USER_END;
use crate::interrupts::InterruptContext;
use crate::interrupts::exceptions::{PageFaultCode, name};
use crate::memory::PAGE_SIZE;

/// The registered handler for exceptions from ring 3.
pub fn on_user_fault(ctx: &mut InterruptContext, cr2: u64) {
    let vector = ctx.vector as u8;
    let process = current();
    if vector == 14
        && let Some(process) = &process
    {
        let code = PageFaultCode(ctx.error_code);
        if !code.present() && process.demand_page(cr2, code.write(), code.instruction_fetch()) {
            return;
        }
    }
    let line = report(process.as_deref(), ctx, cr2);
    crate::console::write_coloured(Some(crate::console::ERROR_COLOUR), format_args!("{line}\n"));
    log::debug!("{line}");
    drop(process);
    exit_current(ExitStatus::Fault(vector))
}

/// The one line a fault in ring 3 gets.
fn report(process: Option<&Process>, ctx: &InterruptContext, cr2: u64) -> String {
    let vector = ctx.vector as u8;
    let (mnemonic, fault) = name(vector);
    let mut line = String::new();
    match process {
        Some(p) => {
            let _ = write!(line, "process {} ({})", p.pid(), p.name());
        }
        None => line.push_str("a user thread"),
    }
    let _ = write!(line, ": {fault} ({mnemonic}) at RIP {:#x}", ctx.rip);
    if vector == 14 {
        let _ = write!(
            line,
            ", address {cr2:#x} ({}; {})",
            describe(process, cr2),
            PageFaultCode(ctx.error_code)
        );
    } else if vector == 13 && ctx.error_code != 0 {
        let _ = write!(line, ", error code {:#x}", ctx.error_code);
    }
    line
}

/// What lies at `addr` in the process's space.
pub fn describe(process: Option<&Process>, addr: u64) -> &'static str {
    if addr < PAGE_SIZE {
        return "page 0: a null pointer";
    }
    if addr >= USER_END {
        return "kernel space";
    }
    if (USER_STACK_BOTTOM - PAGE_SIZE..USER_STACK_BOTTOM).contains(&addr) {
        return "the stack's guard page: a stack overflow";
    }
    if (USER_STACK_BOTTOM..USER_STACK_TOP).contains(&addr) {
        return "the stack";
    }
    let flags = process.and_then(|p| {
        p.space().page_flags(crate::memory::page::Page::containing(
            x86_64::VirtAddr::new(addr),
        ))
    });
    use crate::memory::paging::EntryFlags;
    match flags {
        None => "nothing mapped",
        Some(f) if !f.contains(EntryFlags::NO_EXECUTE) => "code (read-only, executable)",
        Some(f) if f.contains(EntryFlags::WRITABLE) => "data (writable, not executable)",
        Some(_) => "read-only data (not executable)",
    }
}
