//! Thread sleep: each CPU keeps its sleeping threads by deadline
//! ([`SleepQueue`](super::sleep_queue::SleepQueue)), and the timer
//! interrupt wakes those that are due. Deadlines are time since boot, by
//! the TSC; a sleeper wakes at the first timer interrupt at or after its
//! deadline, so at most one timer period late.

use alloc::sync::Arc;
use core::time::Duration;

use super::percpu::{PerCpu, this_cpu};
use super::sleep_queue::SleepKey;
use super::switch::schedule;
use super::thread::{Thread, ThreadState};
use crate::arch::without_interrupts;

/// The scheduler's clock: time since boot.
pub fn now() -> Duration {
    crate::time::since_boot()
}

/// Blocks the current thread for `duration` (at least; at most one timer
/// period more). Before the scheduler starts, returns at once.
pub fn sleep(duration: Duration) {
    sleep_until(now() + duration);
}

/// Blocks the current thread until `deadline` (time since boot).
pub fn sleep_until(deadline: Duration) {
    let Some(cpu) = this_cpu() else {
        return;
    };
    while now() < deadline {
        without_interrupts(|| {
            let me = cpu.sched.lock().current.clone();
            me.set_state(ThreadState::Blocked);
            add_sleeper(cpu, deadline, me);
            schedule();
        });
    }
}

/// Adds `thread` to `cpu`'s sleepers until `deadline`. Thread context.
pub(super) fn add_sleeper(cpu: &PerCpu, deadline: Duration, thread: Arc<Thread>) -> SleepKey {
    without_interrupts(|| {
        let mut sched = cpu.sched.lock();
        let key = sched.sleepers.insert(deadline, thread);
        super::timer::program(cpu, &sched);
        key
    })
}

/// Takes the entry `key` out of `cpu`'s sleepers, if the timer has not.
pub(super) fn remove_sleeper(cpu: &PerCpu, key: SleepKey) {
    let entry = without_interrupts(|| cpu.sched.lock().sleepers.remove(key));
    drop(entry);
}

/// Threads asleep on this CPU.
pub fn sleepers() -> usize {
    this_cpu().map_or(0, |cpu| {
        without_interrupts(|| cpu.sched.lock().sleepers.len())
    })
}
