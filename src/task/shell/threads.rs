//! The shell's thread commands: `ps` (threads, then processes), `spin`
//! and `kill`, through the same
//! scheduler calls the rest of the kernel uses.

use crate::println;
use crate::sched::{self, Builder, ThreadId, thread};

/// Lists the threads: id, name, state, CPU time.
pub(super) fn ps() {
    println!(
        "{:>6}  {:<12} {:<8} {:>12}",
        "id", "name", "state", "cpu ms"
    );
    for info in thread::list() {
        let killable = if info.killable { " (killable)" } else { "" };
        println!(
            "{:>6}  {:<12} {:<8} {:>12}{killable}",
            info.id.0,
            info.name,
            info.state.name(),
            info.cpu_time.as_millis()
        );
    }
    super::programs::ps();
}

/// Starts a killable thread that never yields: only preemption takes the
/// CPU from it.
pub(super) fn spin() {
    let spinner = || {
        loop {
            core::hint::spin_loop();
        }
    };
    // SAFETY: the spinner holds nothing and never blocks.
    match unsafe { Builder::new("spin").spawn_killable(spinner) } {
        // Detached: `kill` ends it and the reaper frees it.
        Ok(handle) => println!("started thread {} (spin); kill {0} ends it", handle.id()),
        Err(err) => println!("spin: {err}"),
    }
}

/// Ends killable thread `id`.
pub(super) fn kill(id: u64) {
    match sched::kill(ThreadId(id)) {
        Ok(()) => println!("thread {id} ends at its next preemption point"),
        Err(err) => println!("kill: {err}"),
    }
}
