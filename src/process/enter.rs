//! Entering ring 3 for the first time: a frame as the system call entry
//! leaves one (asm/syscall.asm), with the program's entry point, stack and
//! the user selectors, handed to its way back (`user_return`).

use crate::interrupts::InterruptContext;
use crate::interrupts::gdt;

unsafe extern "C" {
    /// Moves RSP to `frame` and returns to ring 3 through it
    /// (asm/syscall.asm).
    fn enter_user_mode(frame: *const InterruptContext) -> !;
}

/// RFLAGS in user mode at the start: interrupts on (bit 9), and bit 1,
/// which is always set.
const USER_RFLAGS: u64 = 0x202;

/// Jumps to `entry` in ring 3 with RSP = `stack`, every other register
/// zero, in the running thread's address space. Never returns: the thread
/// leaves through a system call, a fault or a kill.
pub fn enter_user(entry: u64, stack: u64) -> ! {
    let selectors = gdt::selectors().expect("the GDT is loaded before programs run");
    let frame = InterruptContext {
        r15: 0,
        r14: 0,
        r13: 0,
        r12: 0,
        r11: 0,
        r10: 0,
        r9: 0,
        r8: 0,
        rbp: 0,
        rdi: 0,
        rsi: 0,
        rdx: 0,
        rcx: 0,
        rbx: 0,
        rax: 0,
        vector: 0,
        error_code: 0,
        rip: entry,
        cs: u64::from(selectors.user_code.0),
        rflags: USER_RFLAGS,
        rsp: stack,
        ss: u64::from(selectors.user_data.0),
    };
    x86_64::instructions::interrupts::disable();
    // SAFETY: the frame is a complete InterruptContext on this thread's
    // stack, with user selectors; the way back moves RSP to it and returns
    // to ring 3. Nothing on this stack is used again: the next entry from
    // ring 3 starts at the stack's top.
    unsafe { enter_user_mode(&raw const frame) }
}
