//! Thread stacks: made by the kernel's stack allocator (each above an
//! unmapped guard page), given back when a thread is reaped. A freed stack
//! keeps its virtual range in a pool and only its frames go back to the
//! frame allocator; the next thread maps fresh frames into a pooled range.
//! The range's page tables are made once and serve again, so a kernel that
//! makes and reaps threads returns to the same frame count.

use alloc::vec::Vec;

use spin::Mutex;

use crate::arch::without_interrupts;
use crate::memory::stack::{Stack, StackError};

/// Pages of a thread's kernel stack: 32 KiB. Interrupt handlers run on the
/// interrupted thread's stack, and test kernels are built unoptimised.
pub const THREAD_STACK_PAGES: u64 = 8;

/// Ranges of reaped stacks, unmapped, for reuse. Locked with interrupts off.
static POOL: Mutex<Vec<Stack>> = Mutex::new(Vec::new());

use super::SpawnError;

/// A mapped stack for a new thread: a pooled range mapped again, or a new
/// one. On failure nothing is kept: no frame, and a pooled range goes back
/// to the pool.
pub(super) fn take() -> Result<Stack, SpawnError> {
    let pooled = without_interrupts(|| POOL.lock().pop());
    let result = crate::memory::with(|mem| match pooled {
        Some(stack) => mem
            .stacks
            .remap(&mut mem.tables, &mut mem.frames, &stack)
            .map(|()| stack),
        None => mem
            .stacks
            .alloc_stack(&mut mem.tables, &mut mem.frames, THREAD_STACK_PAGES),
    })
    .ok_or(SpawnError::NotStarted)?;
    match result {
        Ok(stack) => Ok(stack),
        Err(err) => {
            if let Some(stack) = pooled {
                give_back_range(stack);
            }
            Err(SpawnError::Stack(err))
        }
    }
}

/// Unmaps a reaped thread's stack and pools its range.
pub(super) fn release(stack: Stack) {
    crate::memory::with(|mem| {
        // SAFETY: the thread that ran on this stack has exited and is off
        // its CPU (the reaper checked), and nothing else points into it.
        unsafe { mem.stacks.unmap(&mut mem.tables, &mut mem.frames, &stack) }
    });
    give_back_range(stack);
}

/// Puts an unmapped range in the pool. The push may allocate, with the
/// pool locked: the heap never takes the pool's lock, so that is safe.
fn give_back_range(stack: Stack) {
    without_interrupts(|| POOL.lock().push(stack));
}

/// Ranges waiting in the pool.
pub fn pooled() -> usize {
    without_interrupts(|| POOL.lock().len())
}

/// The error for a stack the allocator could not make.
impl From<StackError> for SpawnError {
    fn from(err: StackError) -> Self {
        Self::Stack(err)
    }
}
