//! Choosing the next thread and switching to it.
//!
//! [`schedule`] runs with interrupts off: it picks the next ready thread
//! (or the idle thread), records the outgoing one as `previous`, and calls
//! `sched_switch` (asm/context_switch.asm), which saves the callee-saved
//! registers and RSP and loads the next thread's. Whatever thread runs
//! next, its first act is [`sched_finish_switch`]: it queues the previous
//! thread again if it was preempted or yielded, and marks it off its CPU,
//! only now that its registers are saved. Queueing it before the switch
//! would let another CPU resume it from a stack pointer not yet saved.
//!
//! The address space changes (CR3) only when the next thread's differs
//! from the one loaded: kernel threads share the kernel's table. For a
//! thread with an address space, its kernel stack top goes into the TSS
//! (`rsp0`, where interrupts from ring 3 land) and the per-CPU block
//! (where system calls land), its FS base into its MSR, and its x87/SSE
//! registers are restored (the outgoing user thread's saved): [`super::fpu`].

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use spin::Once;
use x86_64::VirtAddr;
use x86_64::registers::control::Cr3;
use x86_64::registers::model_specific::FsBase;

use super::percpu::{PerCpu, this_cpu};
use super::thread::{Thread, ThreadState, WakeReason};
use crate::arch::{read_tsc, without_interrupts};
use crate::memory::Frame;

unsafe extern "C" {
    /// Saves the callee-saved registers and RSP on the current stack, stores
    /// RSP at `save`, loads `next_rsp` and restores that thread's registers.
    fn sched_switch(save: *mut u64, next_rsp: u64);
}

/// The kernel's own P4: the table of threads without an address space.
static KERNEL_P4: Once<Frame> = Once::new();

/// Records the table loaded now as the kernel's (at scheduler start).
pub(super) fn remember_kernel_table() {
    KERNEL_P4.call_once(|| Frame::containing(Cr3::read().0.start_address()));
}

/// What a switch needs of the next thread (see [`pick_next`]).
type Next = (*mut u64, u64, Option<Frame>, Option<(VirtAddr, u64)>);

/// Spins this many times at most for a thread still leaving another CPU.
const ON_CPU_SPINS: u32 = 1 << 20;

/// Switches to the next ready thread, if there is one or the current
/// thread cannot go on (blocked, parked, exited). Returns when the current
/// thread runs again. Interrupts must be off.
pub(super) fn schedule() {
    let cpu = this_cpu().expect("schedule() before the scheduler started");
    let Some((save, next_rsp, p4, user)) = pick_next(cpu) else {
        return;
    };
    if let Some((top, fs_base)) = user {
        crate::interrupts::gdt::set_kernel_stack(top);
        cpu.kernel_stack_top.store(top.as_u64(), Ordering::Relaxed);
        FsBase::write(VirtAddr::new_truncate(fs_base));
    }
    let want = p4.or_else(|| KERNEL_P4.get().copied());
    if let Some(want) = want
        && Frame::containing(Cr3::read().0.start_address()) != want
    {
        // SAFETY: `want` is the kernel's table or the next thread's
        // address space (kept alive by the thread, which is now current);
        // both map the whole kernel half, so the code and stacks stay.
        crate::memory::with(|mem| unsafe { mem.tables.activate(want) });
    }
    // SAFETY: `save` points into the previous thread, which `previous`
    // keeps alive until the switch is finished; `next_rsp` is the next
    // thread's saved stack pointer (from a switch away or its first frame).
    unsafe { sched_switch(save, next_rsp) };
    sched_finish_switch();
}

/// Chooses the next thread and makes it current: the save slot of the
/// outgoing thread, the next one's RSP, address space, and (for a thread
/// with an address space) its kernel stack top and FS base. `None` if the
/// current thread goes on.
fn pick_next(cpu: &PerCpu) -> Option<Next> {
    let now = read_tsc();
    let mut sched = cpu.sched.lock();
    let prev = sched.current.clone();
    let still_running = prev.state() == ThreadState::Running;
    let next = match sched.run_queue.pop() {
        Some(next) => next,
        None if still_running => {
            sched.slice_start = now;
            super::timer::program(cpu, &sched);
            return None;
        }
        None => sched.idle.clone().expect("the idle thread exists"),
    };
    if Arc::ptr_eq(&next, &prev) {
        // Woken on another CPU before it could leave: it goes on.
        prev.set_state(ThreadState::Running);
        sched.slice_start = now;
        super::timer::program(cpu, &sched);
        return None;
    }
    let requeue = still_running && !prev.idle;
    if still_running {
        prev.set_state(ThreadState::Ready);
    }
    prev.account(now);
    wait_until_off_cpu(&next);
    next.on_cpu.store(true, Ordering::Release);
    next.set_state(ThreadState::Running);
    next.run_start.store(now, Ordering::Release);
    sched.slice_start = now;
    cpu.current
        .store(Arc::as_ptr(&next).cast_mut(), Ordering::Release);
    let save = prev.saved_rsp.get();
    // SAFETY: `next` is not running (it was queued or is idle), so its
    // saved RSP is not being written.
    let next_rsp = unsafe { *next.saved_rsp.get() };
    let p4 = next.space.as_ref().map(|space| space.p4_frame());
    // Only threads that enter user mode need it; the boot thread has no
    // stack of its own.
    let user = p4.and_then(|_| next.stack.lock().map(|stack| stack.top()));
    let user = user.map(|top| (top, next.fs_base.load(Ordering::Relaxed)));
    // SAFETY: interrupts are off and SSE is on wherever user threads exist
    // (their areas are made with them); `prev` is leaving this CPU and
    // `next` is not running anywhere, so nothing else touches the areas.
    // The kernel does not use the registers in between (soft-float).
    unsafe {
        if let Some(area) = &prev.fpu {
            (*area.get()).save();
        }
        if let Some(area) = &next.fpu {
            (*area.get()).restore();
        }
    }
    sched.previous = Some((prev, requeue));
    sched.current = next;
    Some((save, next_rsp, p4, user))
}

/// Waits (briefly, bounded) for `next` to finish leaving another CPU.
fn wait_until_off_cpu(next: &Thread) {
    for _ in 0..ON_CPU_SPINS {
        if !next.on_cpu.load(Ordering::Acquire) {
            return;
        }
        core::hint::spin_loop();
    }
    panic!(
        "thread {} ({}) never left its CPU: the switch protocol is broken",
        next.id, next.name
    );
}

/// The first thing a thread does after a switch to it (also called by
/// asm/context_switch.asm for a new thread): queues the previous thread
/// again if it is still runnable, then marks it off its CPU.
#[unsafe(no_mangle)]
extern "C" fn sched_finish_switch() {
    let cpu = this_cpu().expect("a switch before the scheduler started");
    let mut sched = cpu.sched.lock();
    let Some((prev, requeue)) = sched.previous.take() else {
        return;
    };
    let raw = Arc::as_ptr(&prev);
    if requeue {
        sched.run_queue.push(prev);
    } else {
        // Not the last reference: the thread table keeps one until the
        // reaper sees `on_cpu` false, which happens only below.
        drop(prev);
    }
    // A new slice began: the timer follows it (and the queue it left).
    super::timer::program(cpu, &sched);
    drop(sched);
    // SAFETY: the table's reference keeps the thread alive until this
    // store lets the reaper take it.
    unsafe { (*raw).on_cpu.store(false, Ordering::Release) };
}

/// Makes `thread` ready if it is in state `from`, with `reason`; false if
/// it was not (woken already, or exited). Any context: interrupt handlers
/// wake threads through this. Asks for a switch if the CPU is idling.
pub(super) fn make_ready(thread: &Arc<Thread>, from: ThreadState, reason: WakeReason) -> bool {
    let Some(cpu) = this_cpu() else {
        return false;
    };
    without_interrupts(|| {
        if !thread.change_state(from, ThreadState::Ready) {
            return false;
        }
        thread.wake_reason.store(reason as u8, Ordering::Release);
        let mut sched = cpu.sched.lock();
        debug_assert!(
            sched.run_queue.len() < sched.run_queue.capacity(),
            "a wake would allocate (the run queue has no room reserved)"
        );
        sched.run_queue.push(thread.clone());
        if sched.current.idle {
            cpu.need_resched.store(true, Ordering::Release);
        }
        super::timer::program(cpu, &sched);
        true
    })
}

/// Gives the CPU to the next ready thread, if any; the current one goes
/// behind it. A killable thread asked to end ends here.
pub fn yield_now() {
    if this_cpu().is_none() {
        return;
    }
    without_interrupts(|| {
        end_if_killed();
        schedule();
    });
}

/// Ends the current thread if it is killable and was asked to end.
/// Interrupts must be off.
fn end_if_killed() {
    let Some(cpu) = this_cpu() else {
        return;
    };
    let ptr = cpu.current.load(Ordering::Acquire);
    // SAFETY: `current` points at the running thread, alive while it runs.
    let thread = unsafe { &*ptr };
    if thread.killable && thread.kill_requested.load(Ordering::Acquire) {
        super::spawn::exit_current(true);
    }
}

/// Called on the way out of every hardware interrupt whose interrupted
/// code had interrupts on (registered with
/// [`crate::interrupts::set_return_hook`]): the preemption point. Ends a
/// killed thread, and switches if the timer or a wake asked for it.
pub(super) fn on_interrupt_return() {
    let Some(cpu) = this_cpu() else {
        return;
    };
    end_if_killed();
    if cpu.need_resched.swap(false, Ordering::AcqRel) {
        schedule();
    }
}

/// Sets the running thread's FS base (a user thread's thread-local
/// storage), now and after every switch back to it.
pub fn set_user_fs_base(base: u64) {
    let Some(cpu) = this_cpu() else {
        return;
    };
    without_interrupts(|| {
        // SAFETY: `current` points at the running thread, alive while it runs.
        let me = unsafe { &*cpu.current.load(Ordering::Acquire) };
        me.fs_base.store(base, Ordering::Relaxed);
        FsBase::write(VirtAddr::new_truncate(base));
    });
}

/// The running thread's FS base.
pub fn user_fs_base() -> u64 {
    this_cpu().map_or(0, |cpu| {
        // SAFETY: as in `set_user_fs_base`.
        let me = unsafe { &*cpu.current.load(Ordering::Acquire) };
        me.fs_base.load(Ordering::Relaxed)
    })
}
