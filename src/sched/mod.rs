//! Kernel threads and the scheduler: preemptive, round robin, one run
//! queue per CPU (one CPU for now).
//!
//! - [`thread`]: threads (id, name, state, kernel stack, CPU time, optional
//!   address space); [`spawn`], [`JoinHandle`], [`yield_now`], [`sleep`],
//!   [`current`], [`kill`].
//! - `switch`: choosing the next thread and the context switch
//!   (`asm/context_switch.asm` saves the callee-saved registers and RSP;
//!   the kernel is soft-float, so there is no FPU or SSE state to save).
//! - `percpu`: the per-CPU block, reached through the GS base: CPU id,
//!   current thread, run queue, idle thread, sleepers.
//! - [`wait_queue`], [`mutex`], [`semaphore`], [`sleep`](mod@sleep):
//!   blocking without spinning, with timed waits. Interrupt handlers may
//!   wake threads (notify, unpark, release) but never block.
//! - [`run_queue`], [`wait_list`], [`sleep_queue`]: the pure logic under
//!   them, generic and tested on the host.
//!
//! **Time slice: 10 ms.** The timer ticks at 100 Hz, so a slice is one
//! tick: the shortest the tick can measure, and short enough that a thread
//! that never yields delays the shell by at most one slice per other ready
//! thread (the keyboard must answer within 100 ms). A switch costs about
//! 0.3 µs and a spawn+join about 9 µs in QEMU (`make bench`): a switch per
//! slice is 0.003 % of the CPU, so a shorter slice would cost little, but
//! the 100 Hz tick cannot time one. Fairness comes from charging CPU time
//! by the TSC, not by ticks.
//!
//! **Preemption** happens at two places only: the timer handler asks for a
//! switch when the slice is used up ([`on_timer`]), and every hardware
//! interrupt, on its way out, switches if a switch is due and the code it
//! interrupted had interrupts on (the hook registered with
//! [`crate::interrupts::set_return_hook`]). Code that runs with interrupts
//! off is never preempted; spinlocks that interrupt handlers also take are
//! always held with interrupts off.
//!
//! The timer is reached through one pair: [`on_timer`] (called when this
//! CPU's deadline of the tickless timer comes) and `timer::program`, which
//! keeps that deadline at the earliest sleeper or at the end of a slice
//! another thread waits for, and disarms it when neither exists.

pub mod run_queue;
pub mod sleep_queue;
pub mod wait_list;

pub mod fpu;
pub mod mutex;
mod park;
mod percpu;
pub mod semaphore;
pub mod sleep;
mod spawn;
pub mod stacks;
mod switch;
pub mod thread;
mod timer;
pub mod wait_queue;

use core::fmt;
use core::time::Duration;

pub use park::{block_on, current_waker, park, thread_waker, unpark};
pub use percpu::{current, current_id, current_label, init, is_running};
pub use sleep::sleep;
pub use spawn::{Builder, JoinHandle, join_id, kill, spawn, unpark_id, wait_for_any_exit};
pub use switch::{set_user_fs_base, user_fs_base, yield_now};
pub use timer::on_timer;

/// Ends the running thread for good (a user thread leaving through a
/// system call or a fault): its joiners wake, the reaper frees it.
pub fn exit_current_thread() -> ! {
    spawn::exit_current(false)
}

/// A time slice: how long a thread runs before the next ready one gets the
/// CPU (see the module docs for why 10 ms).
pub const TIME_SLICE: Duration = Duration::from_millis(10);

/// A thread's number, unique for the kernel's run (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(pub u64);

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a thread could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// The scheduler has not started ([`init`]).
    NotStarted,
    /// No kernel stack: the stack region or the frames ran out.
    Stack(crate::memory::stack::StackError),
    /// The per-CPU block could not be mapped.
    PerCpu(crate::memory::paging::MapError),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotStarted => f.write_str("the scheduler has not started"),
            Self::Stack(err) => write!(f, "no stack for the thread: {err}"),
            Self::PerCpu(err) => write!(f, "cannot map the per-CPU block: {err}"),
        }
    }
}

/// Why an operation on a thread by id failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadError {
    /// No thread has this id (never had, or it ended and was reaped).
    NoSuchThread(ThreadId),
    /// Someone joined it already.
    AlreadyJoined(ThreadId),
    /// It has exited: it cannot be woken or killed.
    Exited(ThreadId),
    /// It was not made killable.
    NotKillable(ThreadId),
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchThread(id) => write!(f, "no thread {id}"),
            Self::AlreadyJoined(id) => write!(f, "thread {id} was joined already"),
            Self::Exited(id) => write!(f, "thread {id} has exited"),
            Self::NotKillable(id) => write!(
                f,
                "thread {id} is not killable (only threads started killable, like spin's)"
            ),
        }
    }
}

/// How a joined thread ended, when its value is not wanted or was killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinError {
    /// It was killed; there is no value.
    Killed(ThreadId),
    /// Someone joined it already and took the value.
    AlreadyJoined(ThreadId),
    /// A thread cannot wait for its own end.
    Itself(ThreadId),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Killed(id) => write!(f, "thread {id} was killed"),
            Self::AlreadyJoined(id) => write!(f, "thread {id} was joined already"),
            Self::Itself(id) => write!(f, "thread {id} cannot join itself"),
        }
    }
}

/// How a thread ended, as [`join_id`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Its closure returned.
    Returned,
    /// It was killed.
    Killed,
}

/// A wait that gave up at its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}
