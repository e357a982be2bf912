//! A kernel thread: its id, name, state, kernel stack, saved stack pointer,
//! CPU time and optional address space, and the table of every thread.
//!
//! A thread lives in an `Arc`: the thread table holds one reference until
//! the thread has exited and is off its CPU (then the reaper takes it out
//! and frees its stack), the per-CPU block holds one while it runs or is
//! queued, and join handles hold theirs. Interrupt handlers never drop the
//! last reference: the table's outlives every queue entry.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::cell::UnsafeCell;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use core::time::Duration;

use spin::Mutex;

use super::ThreadId;
use super::wait_queue::WaitQueue;
use crate::arch::without_interrupts;
use crate::memory::paging::AddressSpace;
use crate::memory::stack::Stack;

/// Where a thread is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ThreadState {
    /// In a run queue, waiting for its CPU.
    Ready = 0,
    /// On its CPU now.
    Running = 1,
    /// Waiting in a wait queue or asleep until a deadline.
    Blocked = 2,
    /// Parked until someone unparks it (a waker, typically).
    Parked = 3,
    /// Finished; its stack is freed once it is off its CPU.
    Exited = 4,
}

impl ThreadState {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::Ready,
            1 => Self::Running,
            2 => Self::Blocked,
            3 => Self::Parked,
            _ => Self::Exited,
        }
    }

    /// The word `ps` shows.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Running => "running",
            Self::Blocked => "blocked",
            Self::Parked => "parked",
            Self::Exited => "exited",
        }
    }
}

/// Why a blocked thread was made ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum WakeReason {
    /// A notification, an unpark, a release.
    Notified = 0,
    /// Its deadline passed.
    TimedOut = 1,
}

/// What a thread runs.
pub(super) enum Entry {
    /// A closure it takes and runs once.
    Once(Box<dyn FnOnce() + Send>),
    /// A killable thread's closure: it stays here while it runs, so that a
    /// thread killed mid-call leaves nothing of it on the stack to leak.
    Killable(Box<dyn Fn() + Send>),
}

/// How a thread ended.
pub(super) enum Ending {
    /// Still running.
    Running,
    /// Its closure returned this value (taken by the first join).
    Returned(Option<Box<dyn Any + Send>>),
    /// It was killed at a preemption point.
    Killed,
}

/// A kernel thread.
pub struct Thread {
    pub(super) id: ThreadId,
    pub(super) name: &'static str,
    pub(super) state: AtomicU8,
    pub(super) wake_reason: AtomicU8,
    /// Whether `kill` may end it (its closure owns nothing to drop).
    pub(super) killable: bool,
    pub(super) kill_requested: AtomicBool,
    /// The CPU's idle thread: never queued, never killed.
    pub(super) idle: bool,
    pub(super) joined: AtomicBool,
    pub(super) unpark_token: AtomicBool,
    /// Set while its registers may still be in use by a CPU: from the moment
    /// it is chosen until the next thread has finished switching away from
    /// it. Its stack is freed only when this is false.
    pub(super) on_cpu: AtomicBool,
    /// The stack pointer saved by the switch; touched only by the switch,
    /// with interrupts off, while the thread is not running.
    pub(super) saved_rsp: UnsafeCell<u64>,
    /// Its kernel stack (none for the thread that adopted the boot stack);
    /// taken by the reaper.
    pub(super) stack: Mutex<Option<Stack>>,
    pub(super) space: Option<Arc<AddressSpace>>,
    /// A user thread's FS base (thread-local storage), restored by the
    /// switch.
    pub(super) fs_base: AtomicU64,
    /// A user thread's x87/SSE registers while it is off its CPU; touched
    /// only by the switch, like `saved_rsp`.
    pub(super) fpu: Option<UnsafeCell<Box<super::fpu::FpuState>>>,
    /// TSC ticks spent on a CPU before the current run.
    pub(super) cpu_ticks: AtomicU64,
    /// TSC when its current run began.
    pub(super) run_start: AtomicU64,
    /// When the timer last woke it (nanoseconds since boot), and when the
    /// timer interrupt before that one came: its deadline lay between.
    pub(super) timer_wake: (AtomicU64, AtomicU64),
    /// What the thread runs: taken when it starts, or (killable) kept
    /// here until the reaper drops it.
    pub(super) entry: Mutex<Option<Entry>>,
    pub(super) ending: Mutex<Ending>,
    /// Joiners and exit futures.
    pub(super) exit_waiters: WaitQueue,
}

// SAFETY: `saved_rsp` and `fpu` are the only fields without their own
// synchronisation; each is written by the switch only on the CPU that runs
// the thread, with interrupts off, and read by the switch that resumes it
// only after `on_cpu` is false (release/acquire), so no two CPUs touch it
// at once.
unsafe impl Sync for Thread {}

impl Thread {
    /// Its id.
    pub fn id(&self) -> ThreadId {
        self.id
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its state now.
    pub fn state(&self) -> ThreadState {
        ThreadState::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(super) fn set_state(&self, state: ThreadState) {
        self.state.store(state as u8, Ordering::Release);
    }

    /// Moves it from `from` to `to`; false if it was not in `from`.
    pub(super) fn change_state(&self, from: ThreadState, to: ThreadState) -> bool {
        self.state
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Whether `kill` may end it.
    pub fn is_killable(&self) -> bool {
        self.killable
    }

    /// CPU time it has used, the current run included.
    pub fn cpu_time(&self) -> Duration {
        let mut ticks = self.cpu_ticks.load(Ordering::Acquire);
        if self.state() == ThreadState::Running {
            let start = self.run_start.load(Ordering::Acquire);
            ticks += crate::arch::read_tsc().saturating_sub(start);
        }
        crate::time::tsc_hz().map_or(Duration::ZERO, |hz| {
            crate::time::ticks_to_duration(ticks, hz)
        })
    }

    /// The timer interrupt that last woke it from a sleep or timed wait,
    /// and the one before (times since boot): the deadline it slept to lies
    /// after the first and no later than the second.
    pub fn last_timer_wake(&self) -> Option<(Duration, Duration)> {
        let woken = self.timer_wake.0.load(Ordering::Acquire);
        let before = self.timer_wake.1.load(Ordering::Acquire);
        (woken != 0).then(|| (Duration::from_nanos(before), Duration::from_nanos(woken)))
    }

    /// Adds the run that began at `run_start` and ends at `now`.
    pub(super) fn account(&self, now: u64) {
        let start = self.run_start.load(Ordering::Acquire);
        self.cpu_ticks
            .fetch_add(now.saturating_sub(start), Ordering::AcqRel);
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("state", &self.state())
            .finish()
    }
}

/// Every thread not yet reaped, by id. Locked only with interrupts off.
static THREADS: Mutex<BTreeMap<ThreadId, Arc<Thread>>> = Mutex::new(BTreeMap::new());

/// Adds a new thread to the table.
pub(super) fn register(thread: Arc<Thread>) {
    without_interrupts(|| THREADS.lock().insert(thread.id, thread));
}

/// The thread `id`, if it is in the table.
pub fn find(id: ThreadId) -> Option<Arc<Thread>> {
    without_interrupts(|| THREADS.lock().get(&id).cloned())
}

/// Threads in the table now.
pub fn count() -> usize {
    without_interrupts(|| THREADS.lock().len())
}

/// What `ps` shows of a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadInfo {
    /// Its id.
    pub id: ThreadId,
    /// Its name.
    pub name: &'static str,
    /// Its state.
    pub state: ThreadState,
    /// CPU time used.
    pub cpu_time: Duration,
    /// Whether `kill` may end it.
    pub killable: bool,
}

/// Every thread in the table, by id.
pub fn list() -> Vec<ThreadInfo> {
    let threads: Vec<Arc<Thread>> =
        without_interrupts(|| THREADS.lock().values().cloned().collect());
    threads
        .iter()
        .map(|t| ThreadInfo {
            id: t.id,
            name: t.name,
            state: t.state(),
            cpu_time: t.cpu_time(),
            killable: t.killable,
        })
        .collect()
}

/// Takes out of the table every thread that has exited and left its CPU,
/// and frees their stacks. Thread context only (it unmaps memory).
pub fn reap() -> usize {
    let dead: Vec<Arc<Thread>> = without_interrupts(|| {
        let mut table = THREADS.lock();
        let ids: Vec<ThreadId> = table
            .values()
            .filter(|t| t.state() == ThreadState::Exited && !t.on_cpu.load(Ordering::Acquire))
            .map(|t| t.id)
            .collect();
        ids.iter().filter_map(|id| table.remove(id)).collect()
    });
    for thread in &dead {
        if let Some(stack) = without_interrupts(|| thread.stack.lock().take()) {
            super::stacks::release(stack);
        }
        drop(without_interrupts(|| thread.entry.lock().take()));
    }
    dead.len()
}
