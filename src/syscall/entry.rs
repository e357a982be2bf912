//! Setting up `syscall` and the Rust side of its entry.
//!
//! - EFER.SCE turns `syscall` on; LSTAR is where it jumps
//!   (`syscall_entry`, asm/syscall.asm).
//! - STAR holds the selectors: `syscall` loads kernel CS from STAR[47:32]
//!   and SS from the next descriptor; `sysretq` loads user SS from
//!   STAR[63:48] + 8 and CS from STAR[63:48] + 16 (the GDT's order).
//! - SFMASK clears IF (no interrupt before the stack is the kernel's), DF
//!   (the ABI wants it clear in the kernel), TF (no single-step trap in the
//!   kernel), AC (SMAP stays on) and NT (user code can set it with
//!   `popfq`, and an `iretq` in the kernel with NT set faults) on every
//!   entry.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::VirtAddr;
use x86_64::registers::model_specific::{Efer, EferFlags, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;

use super::errno::{ENOSYS, to_rax};
use super::table;
use crate::interrupts::{InterruptContext, gdt};

unsafe extern "C" {
    /// The `syscall` entry (asm/syscall.asm).
    fn syscall_entry();
}

/// The selectors asm/syscall.asm names (USER_DATA_SELECTOR,
/// USER_CODE_SELECTOR).
const USER_DATA_SELECTOR: u16 = 0x1b;
const USER_CODE_SELECTOR: u16 = 0x23;

/// Sets up `syscall`/`sysret`, SSE for user code, and SMEP/SMAP. Call
/// after the GDT is loaded.
pub fn init() {
    let selectors = gdt::selectors().expect("the GDT is loaded first");
    assert_eq!(selectors.user_data.0, USER_DATA_SELECTOR);
    assert_eq!(selectors.user_code.0, USER_CODE_SELECTOR);
    if let Err(err) = Star::write(
        selectors.user_code,
        selectors.user_data,
        selectors.kernel_code,
        selectors.kernel_data,
    ) {
        log::error!("system calls: STAR refused the GDT's selectors: {err}");
        return;
    }
    LStar::write(VirtAddr::new(syscall_entry as *const () as u64));
    SFMask::write(
        RFlags::INTERRUPT_FLAG
            | RFlags::DIRECTION_FLAG
            | RFlags::TRAP_FLAG
            | RFlags::ALIGNMENT_CHECK
            | RFlags::NESTED_TASK,
    );
    // SAFETY: LSTAR, STAR and SFMASK are set above; turning `syscall` on
    // changes nothing else.
    unsafe { Efer::update(|flags| flags.insert(EferFlags::SYSTEM_CALL_EXTENSIONS)) };
    crate::sched::fpu::enable();
    crate::interrupts::exceptions::set_user_fault_handler(crate::process::fault::on_user_fault);
    crate::interrupts::exceptions::set_copy_fixup(crate::process::user_access::fault_fixup);
    let (smep, smap) = crate::process::user_access::enable_protection();
    log::info!(
        "system calls: syscall/sysret on; SMEP {}, SMAP {}",
        if smep { "on" } else { "absent" },
        if smap { "on" } else { "absent" }
    );
}

/// Unknown numbers below this are logged once each; above, once in all.
const LOGGED_NUMBERS: u64 = 512;
static LOGGED: [AtomicU64; (LOGGED_NUMBERS / 64) as usize + 1] =
    [const { AtomicU64::new(0) }; (LOGGED_NUMBERS / 64) as usize + 1];

/// Whether unknown number `number` is seen for the first time.
fn first_time(number: u64) -> bool {
    let index = number.min(LOGGED_NUMBERS);
    let bit = 1 << (index % 64);
    LOGGED[(index / 64) as usize].fetch_or(bit, Ordering::Relaxed) & bit == 0
}

/// Called by asm/syscall.asm with the saved frame, interrupts off; the
/// result goes into the frame's rax.
#[unsafe(no_mangle)]
extern "C" fn syscall_dispatch(frame: &mut InterruptContext) {
    let number = frame.rax;
    let args = table::arguments(
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    );
    let call = table::info(number).zip(table::handler(number));
    let result = match call {
        Some((info, handler)) if info.waits => {
            x86_64::instructions::interrupts::enable();
            let result = handler(&args);
            x86_64::instructions::interrupts::disable();
            result
        }
        Some((_, handler)) => handler(&args),
        None => {
            if first_time(number) {
                log::debug!("system call {number} is not implemented (-ENOSYS)");
            }
            Err(ENOSYS)
        }
    };
    frame.rax = to_rax(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_numbers_are_logged_once_each() {
        assert!(first_time(300));
        assert!(!first_time(300), "once");
        assert!(first_time(301), "another number");
        assert!(first_time(u64::MAX), "the first number past the table");
        assert!(!first_time(5000), "numbers past the table share one slot");
    }
}
