//! Cooperative tasks: futures run by an [`Executor`](executor::Executor)
//! that polls only the tasks that were woken, and sleeps in `hlt` when none
//! was. Interrupt handlers wake tasks through wakers that never block or
//! allocate.

pub mod executor;
pub mod input;
mod ready;
pub mod shell;
pub mod timer;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};

use spin::Mutex;

/// A task's number, unique for the kernel's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u64);

impl TaskId {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A pinned, boxed future with an id and a name.
pub struct Task {
    id: TaskId,
    name: &'static str,
    future: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Task {
    /// A task that runs `future`.
    pub fn new(name: &'static str, future: impl Future<Output = ()> + Send + 'static) -> Self {
        Self {
            id: TaskId::new(),
            name,
            future: Box::pin(future),
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    fn poll(&mut self, context: &mut Context<'_>) -> Poll<()> {
        self.future.as_mut().poll(context)
    }
}

/// What the task list shows of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task's id.
    pub id: TaskId,
    /// Its name.
    pub name: &'static str,
    /// How often it has been polled.
    pub polls: u64,
}

/// Live tasks, for the shell's `tasks` command. Only task code touches it.
static TABLE: Mutex<BTreeMap<TaskId, TaskInfo>> = Mutex::new(BTreeMap::new());

/// The live tasks, by id.
pub fn list() -> Vec<TaskInfo> {
    TABLE.lock().values().copied().collect()
}
