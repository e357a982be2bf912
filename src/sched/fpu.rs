//! The x87/SSE registers of user threads. The kernel is built soft-float
//! and never uses them, so they hold the running user thread's values
//! until a switch: the switch saves them for a thread with an address
//! space that leaves its CPU and restores them for one that arrives
//! (`fxsave64`/`fxrstor64`, asm/fpu.asm). A new user thread starts with
//! the state Linux gives a program: everything zero, x87 control word
//! 0x37F, MXCSR 0x1F80 (all exceptions masked).

use alloc::boxed::Box;

unsafe extern "C" {
    fn fpu_save(area: *mut FpuState);
    fn fpu_restore(area: *const FpuState);
}

/// The `fxsave64` area: 512 bytes, 16-byte aligned.
#[repr(C, align(16))]
pub struct FpuState([u8; 512]);

impl FpuState {
    /// A program's starting state.
    pub fn initial() -> Box<Self> {
        let mut state = Box::new(Self([0; 512]));
        state.0[0..2].copy_from_slice(&0x037Fu16.to_le_bytes());
        state.0[24..28].copy_from_slice(&0x1F80u32.to_le_bytes());
        state
    }

    /// Saves the CPU's registers here.
    ///
    /// # Safety
    /// SSE must be on (CR4.OSFXSR); interrupts off.
    pub unsafe fn save(&mut self) {
        // SAFETY: a 512-byte, 16-byte aligned area we own.
        unsafe { fpu_save(self) }
    }

    /// Loads the CPU's registers from here.
    ///
    /// # Safety
    /// As [`save`](Self::save); the area must hold a valid state (made by
    /// [`initial`](Self::initial) or a save).
    pub unsafe fn restore(&self) {
        // SAFETY: a 512-byte, 16-byte aligned area with a valid state.
        unsafe { fpu_restore(self) }
    }
}

/// Turns SSE on for user code: CR0.EM off (no x87 emulation trap), CR0.MP
/// and CR0.TS as `fxsave` wants, CR4.OSFXSR and CR4.OSXMMEXCPT on.
pub fn enable() {
    use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
    // SAFETY: the kernel never uses these registers (soft-float); turning
    // them on only lets user code use them, saved by the switch.
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| {
            f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE);
        });
    }
}
