//! The executor: a map of tasks, a bounded queue of woken task ids, and a
//! waker per task that pushes its id into the queue. Waking never
//! allocates, so interrupt handlers may wake tasks. A task is queued at
//! most once until it is polled.
//!
//! The queue is sized to the tasks the executor holds, with a quarter more
//! (and a few) as room for stale ids: a task that woke itself and then
//! finished leaves its id behind until it is drained, and so does the
//! waker of a finished task that someone still holds and wakes. It grows
//! when the executor adopts a spawned task, in task code, before the task
//! has a waker: never in a waker, so never in an interrupt handler. Should
//! it fill up all the same, the wake is not lost: the executor notices the
//! overflow and polls every task once (a spurious poll is harmless).
//!
//! When no task is ready the executor waits without losing a wake-up. Run
//! as a kernel thread (the kernel's executor is one), it parks its thread
//! ([`crate::sched::park`]): every task wake and every spawn unparks it
//! through the thread's waker, and other threads have the CPU meanwhile.
//! There is one such waker: one executor runs as a thread at a time (the
//! last to start running is the one woken).
//! Without the scheduler (some test kernels) it halts the CPU instead: it
//! checks the queue with interrupts off and enables them only together
//! with `hlt` (see [`crate::interrupts::wait_for_interrupt_if`]).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::task::Wake;
use core::fmt;
use core::future::Future;
use core::ops::Bound;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::task::{Context, Waker};

use spin::Mutex;

use super::ready::ReadyQueue;
pub use super::ready::ready_room;

use super::{TABLE, Task, TaskId, TaskInfo};

/// The most tasks that may exist at once.
pub const MAX_TASKS: usize = 16 * 1024;

/// Ready ids taken from the queue at a time.
const READY_BATCH: usize = 32;

/// Tasks spawned and not yet taken by the executor.
static SPAWNED: Mutex<VecDeque<Task>> = Mutex::new(VecDeque::new());
/// The waker of the thread running the executor, if it runs as a thread:
/// woken with every task wake and spawn. Locked with interrupts off (task
/// wakers run in interrupt handlers).
static RUNNER: Mutex<Option<Waker>> = Mutex::new(None);

/// Tells the executor's thread that there is work.
fn notify_runner() {
    crate::arch::without_interrupts(|| {
        if let Some(waker) = RUNNER.lock().as_ref() {
            waker.wake_by_ref();
        }
    });
}
/// Tasks alive: spawned and not finished.
static ALIVE: AtomicU64 = AtomicU64::new(0);
/// Tasks finished so far.
static FINISHED: AtomicU64 = AtomicU64::new(0);

/// The task limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyTasks;

impl fmt::Display for TooManyTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "too many tasks (at most {MAX_TASKS})")
    }
}

/// Starts `future` as a new task. Works from inside tasks too; the
/// executor picks it up before it next waits.
pub fn spawn(
    name: &'static str,
    future: impl Future<Output = ()> + Send + 'static,
) -> Result<TaskId, TooManyTasks> {
    if ALIVE.fetch_add(1, Ordering::AcqRel) >= MAX_TASKS as u64 {
        ALIVE.fetch_sub(1, Ordering::AcqRel);
        return Err(TooManyTasks);
    }
    let task = Task::new(name, future);
    let id = task.id;
    SPAWNED.lock().push_back(task);
    notify_runner();
    Ok(id)
}

/// Counts of tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCounts {
    /// Tasks spawned and not finished.
    pub alive: u64,
    /// Tasks finished.
    pub finished: u64,
}

/// How many tasks are alive and finished.
pub fn counts() -> TaskCounts {
    TaskCounts {
        alive: ALIVE.load(Ordering::Acquire),
        finished: FINISHED.load(Ordering::Acquire),
    }
}

/// A task's waker: pushes the id into the ready queue, once until polled.
struct TaskWaker {
    id: TaskId,
    queued: AtomicBool,
    ready: Arc<ReadyQueue>,
}

impl TaskWaker {
    fn queue(&self) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.ready.push(self.id);
            notify_runner();
        }
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.queue();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.queue();
    }
}

struct Entry {
    task: Task,
    waker: Arc<TaskWaker>,
}

/// Runs tasks.
pub struct Executor {
    tasks: BTreeMap<TaskId, Entry>,
    ready: Arc<ReadyQueue>,
}

impl Executor {
    /// An executor with no tasks.
    pub fn new() -> Self {
        Self {
            tasks: BTreeMap::new(),
            ready: Arc::new(ReadyQueue::new()),
        }
    }

    /// Moves spawned tasks into the map and queues them.
    fn adopt_spawned(&mut self) {
        loop {
            let Some(task) = SPAWNED.lock().pop_front() else {
                return;
            };
            // Room for this task's wake before it has a waker to wake.
            self.ready.reserve(ready_room(self.tasks.len() + 1));
            let waker = Arc::new(TaskWaker {
                id: task.id,
                queued: AtomicBool::new(false),
                ready: Arc::clone(&self.ready),
            });
            waker.queue();
            TABLE.lock().insert(
                task.id,
                TaskInfo {
                    id: task.id,
                    name: task.name,
                    polls: 0,
                },
            );
            self.tasks.insert(task.id, Entry { task, waker });
        }
    }

    /// Polls every task that is ready, including those woken meanwhile, until
    /// none is. Returns how many polls it made.
    pub fn run_ready(&mut self) -> usize {
        let mut polls = 0;
        // Ids are taken a batch at a time: one lock for many polls. Wakes
        // meanwhile go behind the batch, as they would behind single ids.
        let mut batch = [TaskId(0); READY_BATCH];
        self.adopt_spawned();
        loop {
            let count = self.ready.pop_batch(&mut batch);
            if count == 0 {
                if self.ready.take_overflow() {
                    polls += self.poll_every_task();
                    continue;
                }
                return polls;
            }
            for &id in &batch[..count] {
                if self.poll_task(id) {
                    polls += 1;
                }
                self.adopt_spawned();
            }
        }
    }

    /// Polls task `id` once, and drops it if it finished. False if there
    /// is no such task (it finished already: a stale wake).
    fn poll_task(&mut self, id: TaskId) -> bool {
        let Some(entry) = self.tasks.get_mut(&id) else {
            return false;
        };
        // Wakes from now on queue the task again.
        entry.waker.queued.store(false, Ordering::Release);
        let waker = Waker::from(Arc::clone(&entry.waker));
        let mut context = Context::from_waker(&waker);
        if entry.task.poll(&mut context).is_ready() {
            self.tasks.remove(&id);
            TABLE.lock().remove(&id);
            ALIVE.fetch_sub(1, Ordering::AcqRel);
            FINISHED.fetch_add(1, Ordering::AcqRel);
        } else if let Some(info) = TABLE.lock().get_mut(&id) {
            info.polls += 1;
        }
        true
    }

    /// After an overflow some wake is missing from the queue: poll every
    /// task once, straight from the task map. Not through the queue: if it
    /// overflowed because it could not grow (no memory), queueing every
    /// task would overflow it again, and the executor would never rest.
    /// Walks the map by key, so it allocates nothing.
    fn poll_every_task(&mut self) -> usize {
        let mut polls = 0;
        let mut after = None;
        loop {
            let next = match after {
                None => self.tasks.keys().next().copied(),
                Some(last) => self
                    .tasks
                    .range((Bound::Excluded(last), Bound::Unbounded))
                    .next()
                    .map(|(id, _)| *id),
            };
            let Some(id) = next else {
                return polls;
            };
            if self.poll_task(id) {
                polls += 1;
            }
            self.adopt_spawned();
            after = Some(id);
        }
    }

    /// How many ids the ready queue has room for now.
    pub fn ready_capacity(&self) -> usize {
        self.ready.capacity()
    }

    /// Whether nothing is queued to run.
    pub fn idle(&self) -> bool {
        self.ready.is_empty() && !self.ready.overflowed() && SPAWNED.lock().is_empty()
    }

    /// How many tasks this executor holds.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Runs tasks forever, parking its thread (or halting the CPU, without
    /// the scheduler) while none is ready.
    #[cfg(target_os = "none")]
    pub fn run(&mut self) -> ! {
        let threaded = Self::become_runner();
        loop {
            self.run_ready();
            self.wait(threaded);
        }
    }

    /// Makes the current thread the one task wakes unpark; false without
    /// the scheduler.
    #[cfg(target_os = "none")]
    fn become_runner() -> bool {
        let waker = crate::sched::current_waker();
        let threaded = waker.is_some();
        crate::arch::without_interrupts(|| *RUNNER.lock() = waker);
        threaded
    }

    /// Waits for work: parks the thread, or halts if nothing is ready.
    #[cfg(target_os = "none")]
    fn wait(&self, threaded: bool) {
        if threaded {
            // A wake since the last park makes this return at once.
            if self.idle() {
                crate::sched::park();
            }
        } else {
            crate::interrupts::wait_for_interrupt_if(|| self.idle());
        }
    }

    /// Runs tasks until `done()` says so, halting while none is ready.
    /// Returns how many polls and halts it made.
    #[cfg(target_os = "none")]
    pub fn run_until(&mut self, mut done: impl FnMut() -> bool) -> RunStats {
        let mut stats = RunStats::default();
        let threaded = Self::become_runner();
        loop {
            stats.polls += self.run_ready();
            if done() {
                return stats;
            }
            if self.idle() {
                stats.halts += 1;
            }
            self.wait(threaded);
        }
    }
}

/// What [`Executor::run_until`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Task polls.
    pub polls: usize,
    /// Times the executor halted the CPU for want of work.
    pub halts: usize,
}

impl Drop for Executor {
    /// Tasks that never finished are dropped with the executor.
    fn drop(&mut self) {
        let mut table = TABLE.lock();
        for id in self.tasks.keys() {
            table.remove(id);
            ALIVE.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use core::pin::Pin;
    use core::task::Poll;
    use std::sync::Mutex as StdMutex;

    /// Yields `n` times (waking itself) before finishing.
    struct YieldTimes(u32);

    impl Future for YieldTimes {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 == 0 {
                return Poll::Ready(());
            }
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    // The spawn queue is global: the executor tests run one at a time.
    static SERIAL: StdMutex<()> = StdMutex::new(());

    #[test]
    fn runs_spawned_tasks_in_order_and_counts_them() {
        let _guard = SERIAL.lock().unwrap();
        let order = Arc::new(StdMutex::new(Vec::new()));
        let before = counts().finished;
        for i in 0..100 {
            let order = Arc::clone(&order);
            spawn("t", async move { order.lock().unwrap().push(i) }).unwrap();
        }
        let mut executor = Executor::new();
        let polls = executor.run_ready();
        assert_eq!(polls, 100);
        assert_eq!(*order.lock().unwrap(), (0..100).collect::<Vec<_>>());
        assert_eq!(executor.task_count(), 0);
        assert_eq!(counts().finished - before, 100);
    }

    #[test]
    fn woken_tasks_run_again_and_duplicate_wakes_are_merged() {
        let _guard = SERIAL.lock().unwrap();
        spawn("yield", YieldTimes(5)).unwrap();
        let mut executor = Executor::new();
        // One initial poll plus five self-wakes.
        assert_eq!(executor.run_ready(), 6);
        assert_eq!(executor.task_count(), 0);
    }

    #[test]
    fn tasks_spawn_tasks() {
        let _guard = SERIAL.lock().unwrap();
        let done = Arc::new(AtomicU64::new(0));
        let inner_done = Arc::clone(&done);
        spawn("parent", async move {
            for _ in 0..10 {
                let done = Arc::clone(&inner_done);
                spawn("child", async move {
                    done.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
            }
        })
        .unwrap();
        let mut executor = Executor::new();
        executor.run_ready();
        assert_eq!(done.load(Ordering::SeqCst), 10);
        assert_eq!(executor.task_count(), 0);
    }

    #[test]
    fn a_pending_task_without_wake_is_not_polled_again() {
        let _guard = SERIAL.lock().unwrap();
        let waker_slot: Arc<StdMutex<Option<Waker>>> = Arc::new(StdMutex::new(None));
        let slot = Arc::clone(&waker_slot);
        let polls = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&polls);
        spawn(
            "waiter",
            core::future::poll_fn(move |cx| {
                counter.fetch_add(1, Ordering::SeqCst);
                if slot.lock().unwrap().replace(cx.waker().clone()).is_some() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }),
        )
        .unwrap();
        let mut executor = Executor::new();
        executor.run_ready();
        executor.run_ready();
        assert_eq!(polls.load(Ordering::SeqCst), 1, "not polled without a wake");
        // A wake from "elsewhere" (as an interrupt would) runs it again.
        waker_slot.lock().unwrap().as_ref().unwrap().wake_by_ref();
        waker_slot.lock().unwrap().as_ref().unwrap().wake_by_ref();
        assert_eq!(executor.run_ready(), 1);
        assert_eq!(executor.task_count(), 0);
    }

    /// A task that stays pending until `go` is set, counting its polls and
    /// keeping its latest waker in `slot`.
    fn waiter(
        go: Arc<AtomicBool>,
        slot: Arc<StdMutex<Option<Waker>>>,
        polls: Arc<AtomicU64>,
    ) -> impl Future<Output = ()> + Send {
        core::future::poll_fn(move |cx| {
            polls.fetch_add(1, Ordering::SeqCst);
            *slot.lock().unwrap() = Some(cx.waker().clone());
            if go.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    #[test]
    fn the_ready_queue_starts_small_and_grows_with_the_tasks() {
        let _guard = SERIAL.lock().unwrap();
        let mut executor = Executor::new();
        assert!(
            executor.ready_capacity() < 64,
            "{}",
            executor.ready_capacity()
        );
        let go = Arc::new(AtomicBool::new(false));
        let slots: Vec<_> = (0..1000).map(|_| Arc::new(StdMutex::new(None))).collect();
        let polls = Arc::new(AtomicU64::new(0));
        for slot in &slots {
            spawn("w", waiter(go.clone(), slot.clone(), polls.clone())).unwrap();
        }
        assert_eq!(executor.run_ready(), 1000);
        assert!(executor.ready_capacity() >= ready_room(1000));
        // Every task woken at once fits, and each runs once more.
        go.store(true, Ordering::SeqCst);
        for slot in &slots {
            slot.lock().unwrap().as_ref().unwrap().wake_by_ref();
        }
        assert!(!executor.ready.overflowed());
        assert_eq!(executor.run_ready(), 1000);
        assert_eq!(executor.task_count(), 0);
    }

    #[test]
    fn a_full_ready_queue_loses_no_wake() {
        let _guard = SERIAL.lock().unwrap();
        let mut executor = Executor::new();
        let (go, slot, polls) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(StdMutex::new(None)),
            Arc::new(AtomicU64::new(0)),
        );
        spawn("waiter", waiter(go.clone(), slot.clone(), polls.clone())).unwrap();
        executor.run_ready();
        // Tasks that finish at once but leave their wakers with someone,
        // ten at a time: the queue stays sized for about a dozen tasks.
        let kept: Arc<StdMutex<Vec<Waker>>> = Arc::new(StdMutex::new(Vec::new()));
        for _ in 0..20 {
            for _ in 0..10 {
                let kept = Arc::clone(&kept);
                spawn(
                    "brief",
                    core::future::poll_fn(move |cx| {
                        kept.lock().unwrap().push(cx.waker().clone());
                        Poll::Ready(())
                    }),
                )
                .unwrap();
            }
            executor.run_ready();
        }
        assert!(executor.ready_capacity() < 200);
        // 200 stale wakes fill the queue; the waiter's wake comes last.
        for waker in kept.lock().unwrap().iter() {
            waker.wake_by_ref();
        }
        go.store(true, Ordering::SeqCst);
        slot.lock().unwrap().as_ref().unwrap().wake_by_ref();
        assert!(executor.ready.overflowed());
        assert!(!executor.idle());
        assert_eq!(executor.run_ready(), 1, "the waiter ran once more");
        assert_eq!(executor.task_count(), 0);
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }
}
