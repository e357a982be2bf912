//! The state an interrupt stub saves on the stack (asm/interrupt_stubs.asm).

use core::fmt;

/// Registers and CPU frame at the time of the interrupt, in stack order. The
/// stub pushes rax first and r15 last, so r15 is at the lowest address.
#[derive(Debug, Clone)]
#[repr(C)]
#[allow(missing_docs)]
pub struct InterruptContext {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// The vector number, pushed by the stub.
    pub vector: u64,
    /// The CPU's error code, or 0 for vectors without one.
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl fmt::Display for InterruptContext {
    /// The registers, four to a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let regs = [
            ("RAX", self.rax),
            ("RBX", self.rbx),
            ("RCX", self.rcx),
            ("RDX", self.rdx),
            ("RSI", self.rsi),
            ("RDI", self.rdi),
            ("RBP", self.rbp),
            ("RSP", self.rsp),
            ("R8 ", self.r8),
            ("R9 ", self.r9),
            ("R10", self.r10),
            ("R11", self.r11),
            ("R12", self.r12),
            ("R13", self.r13),
            ("R14", self.r14),
            ("R15", self.r15),
            ("RIP", self.rip),
            ("RFL", self.rflags),
            ("CS ", self.cs),
            ("SS ", self.ss),
        ];
        for line in regs.chunks(4) {
            f.write_str(" ")?;
            for (name, value) in line {
                write!(f, " {name}={value:016x}")?;
            }
            f.write_str("\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_stub() {
        // 15 registers, vector, error code, then the CPU's 5-word frame.
        assert_eq!(core::mem::size_of::<InterruptContext>(), 22 * 8);
        assert_eq!(core::mem::offset_of!(InterruptContext, rax), 14 * 8);
        assert_eq!(core::mem::offset_of!(InterruptContext, vector), 15 * 8);
        assert_eq!(core::mem::offset_of!(InterruptContext, rip), 17 * 8);
        assert_eq!(core::mem::offset_of!(InterruptContext, ss), 21 * 8);
    }
}
