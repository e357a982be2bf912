//! The scheduler's use of the timer, in one place: [`on_timer`], called
//! from the timer interrupt, and [`timer_needed_by`], which says by when
//! the scheduler next needs that interrupt.
//!
//! Today the timer is the PIT ticking at 100 Hz on IRQ 0, and the
//! scheduler registers its own handler on that line; every tick is at most
//! 10 ms after any deadline, so `timer_needed_by` has nothing to program.
//! A tickless timer would arm its next deadline there instead.

use core::sync::atomic::Ordering;
use core::time::Duration;

use super::percpu::this_cpu;
use super::run_queue::slice_used_up;
use super::sleep;
use super::switch::make_ready;
use super::thread::{ThreadState, WakeReason};
use crate::arch::read_tsc;
use crate::interrupts::{self, irq, pic};

/// Called on every timer interrupt: wakes the sleepers that are due, and
/// asks for a switch if the running thread has used up its slice (or the
/// CPU idles) while another thread is ready. Never blocks or allocates.
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
    let next_sleeper = sched.sleepers.next_deadline();
    drop(sched);
    let slice_end = now + super::TIME_SLICE;
    timer_needed_by(next_sleeper.map_or(slice_end, |d| d.min(slice_end)));
}

/// The time slice in TSC ticks (0, a switch every tick, if the TSC is not
/// calibrated).
fn slice_ticks() -> u64 {
    crate::time::tsc_hz().map_or(0, |hz| {
        hz / (Duration::from_secs(1).as_nanos() / super::TIME_SLICE.as_nanos()) as u64
    })
}

/// Says the scheduler needs a timer interrupt by `deadline` (time since
/// boot). The periodic PIT already interrupts every 10 ms, so there is
/// nothing to arm; this is where a one-shot timer would be programmed.
pub(super) fn timer_needed_by(deadline: Duration) {
    let _ = deadline;
}

/// Registers [`on_timer`] on the timer line and the preemption point on
/// every interrupt's return.
pub(super) fn hook() {
    if let Err(err) = irq::register(pic::IRQ_TIMER, timer_interrupt) {
        log::warn!("scheduler: no timer interrupt ({err}); threads are not preempted");
    }
    interrupts::set_return_hook(super::switch::on_interrupt_return);
}

fn timer_interrupt() {
    on_timer();
}
