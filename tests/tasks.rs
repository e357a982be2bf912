//! The executor in QEMU: many tasks, wake-ups from the timer interrupt,
//! sleep accuracy, halting while idle, and sleeps that clean up when
//! dropped.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::task::{Context, Waker};
use core::time::Duration;

use pyrite::interrupts::timer as clock;
use pyrite::memory::heap;
use pyrite::task::executor::{self, Executor};
use pyrite::task::timer::{self, Interval};
use pyrite::{println, time};
use spin::Mutex;

pyrite::test_kernel!(
    ten_thousand_tasks_complete_in_spawn_order,
    tasks_spawn_tasks,
    a_task_is_woken_from_the_timer_interrupt,
    sleep_is_accurate_to_a_few_milliseconds,
    interval_ticks_without_drift,
    idle_executor_halts_and_loses_nothing,
    dropped_sleeps_leave_nothing_behind,
);

fn ten_thousand_tasks_complete_in_spawn_order() {
    let order = Arc::new(Mutex::new(Vec::with_capacity(10_000)));
    let mut executor = Executor::new();
    let room = executor.ready_capacity();
    assert!(
        room < executor::ready_room(100),
        "an empty executor reserves {room}"
    );
    let start = pyrite::arch::read_tsc();
    for i in 0..10_000u32 {
        let order = Arc::clone(&order);
        executor::spawn("numbered", async move { order.lock().push(i) }).unwrap();
    }
    let stats = executor.run_until(|| order.lock().len() == 10_000);
    let elapsed =
        time::ticks_to_duration(pyrite::arch::read_tsc() - start, time::tsc_hz().unwrap());
    let order = order.lock();
    assert!(
        order.iter().copied().eq(0..10_000),
        "tasks ran out of order"
    );
    assert_eq!(stats.polls, 10_000, "each task polled exactly once");
    assert!(executor.ready_capacity() >= executor::ready_room(10_000));
    assert_eq!(executor.task_count(), 0);
    println!(
        "  10 000 tasks spawned and completed in {} ms ({} tasks/s)",
        elapsed.as_millis(),
        10_000 * 1_000_000 / elapsed.as_micros().max(1)
    );
}

fn tasks_spawn_tasks() {
    let done = Arc::new(AtomicU64::new(0));
    let mut executor = Executor::new();
    let inner = Arc::clone(&done);
    executor::spawn("parent", async move {
        for _ in 0..100 {
            let done = Arc::clone(&inner);
            executor::spawn("child", async move {
                done.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
    })
    .unwrap();
    executor.run_until(|| done.load(Ordering::SeqCst) == 100);
    assert_eq!(executor.task_count(), 0);
}

fn a_task_is_woken_from_the_timer_interrupt() {
    let woke = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&woke);
    let mut executor = Executor::new();
    executor::spawn("timers", timer::run_timers()).unwrap();
    let deadline = clock::now() + Duration::from_millis(50);
    executor::spawn("sleeper", async move {
        timer::sleep_until(deadline).await;
        flag.store(true, Ordering::SeqCst);
    })
    .unwrap();
    executor.run_until(|| woke.load(Ordering::SeqCst));
    assert!(clock::now() >= deadline);
}

/// An emulator on a loaded host delivers interrupts late by a few
/// milliseconds; a timer programmed for the wrong deadline is off by more.
const LATE: Duration = Duration::from_millis(10);

fn sleep_is_accurate_to_a_few_milliseconds() {
    let done = Arc::new(Mutex::new(None));
    let result = Arc::clone(&done);
    let mut executor = Executor::new();
    executor::spawn("timers", timer::run_timers()).unwrap();
    executor::spawn("sleeper", async move {
        let tsc0 = pyrite::arch::read_tsc();
        timer::sleep(Duration::from_millis(200)).await;
        *result.lock() = Some(pyrite::arch::read_tsc() - tsc0);
    })
    .unwrap();
    executor.run_until(|| done.lock().is_some());
    let tsc = done.lock().unwrap();
    let elapsed = time::ticks_to_duration(tsc, time::tsc_hz().unwrap());
    println!(
        "  sleep(200 ms): {} us by the TSC ({})",
        elapsed.as_micros(),
        clock::source()
    );
    assert!(
        elapsed >= Duration::from_millis(200),
        "woke early: {elapsed:?}"
    );
    assert!(
        elapsed <= Duration::from_millis(200) + LATE,
        "woke late: {elapsed:?}"
    );
}

fn interval_ticks_without_drift() {
    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    let mut executor = Executor::new();
    executor::spawn("timers", timer::run_timers()).unwrap();
    let start = clock::now();
    executor::spawn("interval", async move {
        let mut interval = Interval::new(Duration::from_millis(30));
        for _ in 0..10 {
            interval.tick().await;
            counter.fetch_add(1, Ordering::SeqCst);
        }
    })
    .unwrap();
    executor.run_until(|| count.load(Ordering::SeqCst) == 10);
    let elapsed = clock::now() - start;
    println!("  10 x 30 ms took {} us", elapsed.as_micros());
    // Late wake-ups do not add up: the tenth period ends at 300 ms.
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(
        elapsed <= Duration::from_millis(300) + LATE,
        "drift: {elapsed:?}"
    );
}

fn idle_executor_halts_and_loses_nothing() {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let mut executor = Executor::new();
    executor::spawn("timers", timer::run_timers()).unwrap();
    let start = clock::now();
    let interrupts_before = clock::interrupt_count();
    executor::spawn("sleeper", async move {
        timer::sleep(Duration::from_millis(500)).await;
        flag.store(true, Ordering::SeqCst);
    })
    .unwrap();
    let stats = executor.run_until(|| done.load(Ordering::SeqCst));
    let elapsed = clock::now() - start;
    let interrupts = clock::interrupt_count() - interrupts_before;
    println!(
        "  {} ms passed with {} polls, {} halts, {interrupts} timer interrupts ({})",
        elapsed.as_millis(),
        stats.polls,
        stats.halts,
        clock::source()
    );
    assert!(elapsed >= Duration::from_millis(500));
    // Tasks ran only when woken: a handful of polls.
    assert!(stats.polls <= 6, "{} polls", stats.polls);
    // Tickless: one timer interrupt for the deadline; the PIT's one-shot
    // reaches ~55 ms, so it takes one per 55 ms.
    let most = match clock::source() {
        clock::TimerSource::Pit => 500 / 54 + 2,
        _ => 2,
    };
    assert!(
        (1..=most).contains(&interrupts),
        "{interrupts} timer interrupts"
    );
    // The CPU halted in between, and woke only for interrupts.
    assert!(stats.halts >= 1, "{} halts", stats.halts);
    assert!(
        stats.halts as u64 <= interrupts + 2,
        "{} halts",
        stats.halts
    );
}

/// A waker that counts its wakes.
struct CountWakes(AtomicU64);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// 10 000 sleeps polled once (so each registers its waker) and dropped
/// before they fire: one at a time, then all at once. The sleeper count
/// and the heap come back to where they were, no clone of the waker is
/// kept, and none is woken once its deadline passes.
fn dropped_sleeps_leave_nothing_behind() {
    let counter = Arc::new(CountWakes(AtomicU64::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut context = Context::from_waker(&waker);
    let before = heap::stats();
    assert_eq!(timer::sleeper_count(), 0);
    // An hour away: none fires while the test runs, however slow.
    let far = clock::now() + Duration::from_secs(3600);
    for _ in 0..10_000 {
        let mut sleep = Box::pin(timer::sleep_until(far));
        assert!(sleep.as_mut().poll(&mut context).is_pending());
        assert_eq!(timer::sleeper_count(), 1);
    }
    let mut sleeps: Vec<_> = (0..10_000)
        .map(|i| Box::pin(timer::sleep_until(far + Duration::from_millis(i % 7))))
        .collect();
    for sleep in &mut sleeps {
        assert!(sleep.as_mut().poll(&mut context).is_pending());
    }
    assert_eq!(timer::sleeper_count(), 10_000);
    let peak = heap::stats().in_use;
    // Dropped out of deadline order.
    while !sleeps.is_empty() {
        let i = sleeps.len() / 2;
        drop(sleeps.swap_remove(i));
    }
    drop(sleeps);
    assert_eq!(timer::sleeper_count(), 0);
    assert_eq!(Arc::strong_count(&counter), 2, "a waker clone was kept");
    let after = heap::stats();
    println!(
        "  heap: {} bytes in {} blocks before, {} with 10 000 sleepers, {} in {} after",
        before.in_use, before.live, peak, after.in_use, after.live
    );
    assert_eq!(
        (after.in_use, after.live),
        (before.in_use, before.live),
        "heap not back to where it was"
    );
    // Sleeps due in a few milliseconds, dropped before the timer task runs:
    // once their time has passed, nothing is left to wake.
    let soon = clock::now() + Duration::from_millis(30);
    for _ in 0..1_000 {
        let mut sleep = Box::pin(timer::sleep_until(soon));
        let _ = sleep.as_mut().poll(&mut context);
    }
    let mut executor = Executor::new();
    executor::spawn("timers", timer::run_timers()).unwrap();
    let end = soon + Duration::from_millis(50);
    // Tickless: only a live sleeper wakes the halted executor at the end.
    let finished = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&finished);
    executor::spawn("end", async move {
        timer::sleep_until(end).await;
        flag.store(true, Ordering::SeqCst);
    })
    .unwrap();
    executor.run_until(|| finished.load(Ordering::SeqCst));
    assert!(clock::now() >= end);
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        0,
        "a dropped sleep was woken"
    );
}
