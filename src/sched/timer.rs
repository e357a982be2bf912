//! The scheduler's use of the timer, in one place. Each CPU claims one
//! deadline of the tickless timer ([`crate::interrupts::timer`]) and keeps
//! it armed for the next moment the scheduler must run ([`program`]): the
//! earliest sleeping thread, or the end of the running thread's slice
//! when another thread waits for the CPU. With one thread ready and no
//! sleeper, nothing stays armed, so a busy thread alone and an idle CPU take
//! no timer interrupts.

use core::sync::atomic::Ordering;
use core::time::Duration;

use super::percpu::{CpuSched, PerCpu, this_cpu};
use super::run_queue::slice_used_up;
use super::sleep;
use super::switch::make_ready;
use super::thread::{ThreadState, WakeReason};
use crate::arch::read_tsc;
use crate::interrupts::{self, timer};

/// Called from the timer interrupt when this CPU's scheduler deadline has
/// come: wakes the sleepers that are due, and asks for a switch if the
/// running thread has used up its slice (or the CPU idles) while another
/// thread is ready. Never blocks or allocates.
pub fn on_timer() {
    let Some(cpu) = this_cpu() else {
        return;
    };
    let now = sleep::now();
    let nanos = now.as_nanos() as u64;
    let before = cpu.last_tick.swap(nanos, Ordering::AcqRel);
    loop {
        // The lock is let go before the wake, which takes it again.
        let due = cpu.sched.lock().sleepers.pop_due(now);
        let Some(thread) = due else { break };
        thread.timer_wake.0.store(nanos, Ordering::Release);
        thread.timer_wake.1.store(before, Ordering::Release);
        make_ready(&thread, ThreadState::Blocked, WakeReason::TimedOut);
    }
    let sched = cpu.sched.lock();
    let slice = slice_ticks();
    let due = sched.current.idle || slice_used_up(sched.slice_start, read_tsc(), slice);
    if due && !sched.run_queue.is_empty() {
        cpu.need_resched.store(true, Ordering::Release);
    }
    program(cpu, &sched);
}

/// The time slice in TSC ticks (0, a switch every interrupt, if the TSC is
/// not calibrated).
fn slice_ticks() -> u64 {
    crate::time::tsc_hz().map_or(0, |hz| {
        hz / (Duration::from_secs(1).as_nanos() / super::TIME_SLICE.as_nanos()) as u64
    })
}

/// Makes sure `cpu`'s scheduler deadline comes no later than the earliest
/// sleeper or, when another thread waits for the CPU (or the running one
/// was asked to end), the end of the current slice. With neither, a
/// deadline still armed fires once more and is not set again. Call with `sched` (the CPU's locked state) after
/// any change to the sleepers, the run queue or the running thread.
pub(super) fn program(cpu: &PerCpu, sched: &CpuSched) {
    let Some(deadline) = cpu.timer.get() else {
        return;
    };
    // A thread asked to end needs a preemption point even when it runs
    // alone: the slice end gives it one.
    let current = &sched.current;
    let kill_pending = current.killable && current.kill_requested.load(Ordering::Acquire);
    let slice_end = (!current.idle && (!sched.run_queue.is_empty() || kill_pending))
        .then(|| crate::time::since_boot_at(sched.slice_start) + super::TIME_SLICE);
    let next = match (sched.sleepers.next_deadline(), slice_end) {
        (Some(sleeper), Some(slice)) => Some(sleeper.min(slice)),
        (sleeper, slice) => sleeper.or(slice),
    };
    // Only ever brought forward: a deadline armed earlier than needed fires
    // once, finds nothing due and is set again by `on_timer`. Re-arming on
    // every switch (the slice end moves each time) would cost a timer
    // register write per switch, several times the switch itself under an
    // emulator.
    if let Some(at) = next
        && deadline.armed_at().is_none_or(|armed| at < armed)
    {
        deadline.arm(at);
    }
}

/// Claims this CPU's timer deadline and registers the preemption point on
/// every interrupt's return.
pub(super) fn hook(cpu: &PerCpu) {
    match timer::claim_deadline(on_timer) {
        Ok(deadline) => {
            cpu.timer.call_once(|| deadline);
        }
        Err(err) => {
            log::warn!("scheduler: no timer deadline ({err}); threads are not preempted")
        }
    }
    interrupts::set_return_hook(super::switch::on_interrupt_return);
}
