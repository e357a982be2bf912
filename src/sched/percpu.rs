//! The per-CPU block: one per CPU, in the per-CPU region
//! ([`regions::PER_CPU`]), reached through the GS base (MSR IA32_GS_BASE),
//! whose first word points at the block itself. It holds what belongs to
//! one CPU: its id, the thread running on it, its run queue, its idle
//! thread and its sleepers. Nothing of this is a plain global, so a second
//! CPU needs a second block and nothing else undone.
//!
//! The kernel runs with IA32_GS_BASE pointing at the block. While user
//! code runs, the block's address waits in IA32_KERNEL_GS_BASE: `swapgs`
//! on every entry from ring 3 and every return to it trades the two.
//!
//! The system call entry (asm/syscall.asm) reads two words at fixed
//! offsets: the scratch slot for the user's stack pointer, and the kernel
//! stack top of the running thread, which the switch sets.
//!
//! The scheduling state sits behind a spinlock taken only with interrupts
//! off: on one CPU it is never contended, and another CPU waking a thread
//! here will lock it for a few instructions.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use core::time::Duration;

use spin::Mutex;
use x86_64::VirtAddr;
use x86_64::registers::model_specific::GsBase;

use super::run_queue::RunQueue;
use super::sleep_queue::SleepQueue;
use super::thread::{self, Thread};
use super::{SpawnError, ThreadId, spawn};
use crate::arch::without_interrupts;
use crate::interrupts::timer::Deadline;
use crate::memory::paging::EntryFlags;
use crate::memory::{PAGE_SIZE, Page, regions};

/// Whether [`init`] has run: the GS base is valid from then on.
static STARTED: AtomicBool = AtomicBool::new(false);

/// One CPU's block. `repr(C)` with `self_ptr` first: `gs:[0]` reads it.
#[repr(C)]
pub(super) struct PerCpu {
    self_ptr: *const PerCpu,
    /// The user's stack pointer, kept here by the system call entry for
    /// the few instructions until it is on the kernel stack.
    user_rsp: AtomicU64,
    /// The running thread's kernel stack top: where a system call's frame
    /// goes.
    pub kernel_stack_top: AtomicU64,
    /// The CPU's number (0 is the boot CPU).
    pub cpu: u32,
    /// Set when a switch is due at the next interrupt return.
    pub need_resched: AtomicBool,
    /// The running thread, readable without a lock (for fault reports).
    pub current: AtomicPtr<Thread>,
    /// When the last timer interrupt came (nanoseconds since boot).
    pub last_tick: AtomicU64,
    /// The scheduling state; lock with interrupts off only.
    pub sched: Mutex<CpuSched>,
    /// This CPU's timer deadline for the scheduler: the earliest sleeper,
    /// or the end of a slice another thread waits for.
    pub timer: spin::Once<Deadline>,
}

/// What the scheduler keeps per CPU.
pub(super) struct CpuSched {
    /// The running thread.
    pub current: Arc<Thread>,
    /// The thread that runs when no other is ready (not queued).
    pub idle: Option<Arc<Thread>>,
    /// The thread switched away from, and whether to queue it again, until
    /// the next thread has finished switching.
    pub previous: Option<(Arc<Thread>, bool)>,
    /// Ready threads.
    pub run_queue: RunQueue<Arc<Thread>>,
    /// Threads asleep until a deadline (time since boot).
    pub sleepers: SleepQueue<Duration, Arc<Thread>>,
    /// TSC when the current thread's slice began.
    pub slice_start: u64,
}

// The block must fit the one page each CPU gets.
const _: () = assert!(core::mem::size_of::<PerCpu>() <= PAGE_SIZE as usize);
// The offsets asm/syscall.asm uses (PERCPU_USER_RSP, PERCPU_KERNEL_STACK).
const _: () = assert!(core::mem::offset_of!(PerCpu, user_rsp) == 8);
const _: () = assert!(core::mem::offset_of!(PerCpu, kernel_stack_top) == 16);

unsafe extern "C" {
    /// Reads `gs:[0]` (asm/context_switch.asm).
    fn sched_percpu_self() -> *const u8;
}

/// Whether the scheduler runs (threads can be made and switched).
pub fn is_running() -> bool {
    STARTED.load(Ordering::Acquire)
}

/// This CPU's block, once the scheduler runs.
pub(super) fn this_cpu() -> Option<&'static PerCpu> {
    if !is_running() {
        return None;
    }
    // SAFETY: after init the GS base points at this CPU's block, whose
    // first word points at itself; the block is never unmapped or moved.
    Some(unsafe { &*sched_percpu_self().cast::<PerCpu>() })
}

/// The running thread, or `None` before the scheduler starts.
pub fn current() -> Option<Arc<Thread>> {
    let cpu = this_cpu()?;
    Some(without_interrupts(|| cpu.sched.lock().current.clone()))
}

/// The running thread's id, or `None` before the scheduler starts.
pub fn current_id() -> Option<ThreadId> {
    current_label().map(|(id, _)| id)
}

/// The running thread's id and name, read without taking a lock, for
/// fault and panic reports.
pub fn current_label() -> Option<(ThreadId, &'static str)> {
    let ptr = this_cpu()?.current.load(Ordering::Acquire);
    // SAFETY: `current` always points at the running thread, which is
    // alive (the thread table holds it until it is off its CPU).
    let thread = unsafe { ptr.as_ref() }?;
    Some((thread.id(), thread.name()))
}

/// Starts the scheduler on this (the boot) CPU: maps and fills the
/// per-CPU block, points the GS base at it, makes the code now running a
/// thread called `name` (it keeps its stack: the boot stack), makes the
/// idle thread, and hooks the timer and interrupt returns. Call once, from
/// the boot stack, after memory and interrupts are up.
pub fn init(name: &'static str) -> Result<(), SpawnError> {
    if is_running() {
        return Ok(());
    }
    let block = map_block(0)?;
    super::switch::remember_kernel_table();
    let main = spawn::adopt_current(name);
    let cpu = PerCpu {
        self_ptr: block,
        user_rsp: AtomicU64::new(0),
        kernel_stack_top: AtomicU64::new(0),
        cpu: 0,
        need_resched: AtomicBool::new(false),
        current: AtomicPtr::new(Arc::as_ptr(&main).cast_mut()),
        last_tick: AtomicU64::new(0),
        sched: Mutex::new(CpuSched {
            current: main.clone(),
            idle: None,
            previous: None,
            run_queue: RunQueue::new(),
            sleepers: SleepQueue::new(),
            slice_start: crate::arch::read_tsc(),
        }),
        timer: spin::Once::new(),
    };
    // SAFETY: `block` is a fresh, writable, page-aligned page of the
    // per-CPU region that nothing else uses, large enough (checked above).
    unsafe { block.cast_mut().write(cpu) };
    GsBase::write(VirtAddr::from_ptr(block));
    thread::register(main);
    STARTED.store(true, Ordering::Release);

    let idle = spawn::make_idle()?;
    let cpu = this_cpu().expect("started just above");
    without_interrupts(|| {
        let mut sched = cpu.sched.lock();
        sched.idle = Some(idle);
        // Room for every thread there is, so that the first wake (from an
        // interrupt) does not allocate.
        sched.run_queue.reserve_for(thread::count());
    });
    super::timer::hook(cpu);
    log::info!(
        "scheduler: CPU {} block at {:#x} (GS base), time slice {} ms, {name} and idle threads",
        cpu.cpu,
        block as u64,
        super::TIME_SLICE.as_millis()
    );
    Ok(())
}

/// Maps the block of CPU `cpu` (one page at the region's start + `cpu`
/// pages) and returns its address.
fn map_block(cpu: u64) -> Result<*const PerCpu, SpawnError> {
    let page = Page::containing(VirtAddr::new(regions::PER_CPU.start + cpu * PAGE_SIZE));
    let flags = EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE;
    crate::memory::with(|mem| {
        mem.tables
            .map(page, flags, &mut mem.frames)
            .map(|f| f.flush())
    })
    .ok_or(SpawnError::NotStarted)?
    .map_err(SpawnError::PerCpu)?;
    Ok(page.start_address().as_ptr())
}
