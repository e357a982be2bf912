//! Making threads, ending them, and waiting for their end: [`spawn`],
//! [`Builder`], [`JoinHandle`] (also a future), [`join_id`], [`kill`].
//!
//! **Killing.** Only a thread started killable
//! ([`Builder::spawn_killable`]) can be killed, and it ends at its next
//! preemption point (a timer or other interrupt with interrupts on, or a
//! yield), where it is simply never resumed: nothing on its stack is
//! dropped. So a killable thread's closure must be `Copy` (it owns nothing
//! that needs dropping), and it must not hold a lock or heap memory while
//! it runs: a thread like the shell's `spin`. Others are refused.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::any::Any;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use core::task::{Context, Poll};

use spin::Mutex;

use super::percpu::{self, this_cpu};
use super::stacks;
use super::switch::schedule;
use super::thread::{self, Ending, Entry, Thread, ThreadState};
use super::wait_queue::WaitQueue;
use super::{Exit, JoinError, SpawnError, ThreadError, ThreadId};
use crate::arch::{read_tsc, without_interrupts};
use crate::memory::paging::AddressSpace;
use crate::memory::stack::Stack;
use core::time::Duration;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

unsafe extern "C" {
    /// Where a new thread starts (asm/context_switch.asm).
    fn sched_thread_entry();
}

/// What a new thread is to be.
struct Plan {
    name: &'static str,
    killable: bool,
    idle: bool,
    stack: Option<Stack>,
    space: Option<Arc<AddressSpace>>,
    entry: Option<Entry>,
}

fn new_thread(plan: Plan) -> Arc<Thread> {
    Arc::new(Thread {
        id: ThreadId(NEXT_ID.fetch_add(1, Ordering::Relaxed)),
        name: plan.name,
        state: AtomicU8::new(ThreadState::Ready as u8),
        wake_reason: AtomicU8::new(0),
        killable: plan.killable,
        kill_requested: AtomicBool::new(false),
        idle: plan.idle,
        joined: AtomicBool::new(false),
        unpark_token: AtomicBool::new(false),
        on_cpu: AtomicBool::new(false),
        saved_rsp: core::cell::UnsafeCell::new(0),
        stack: Mutex::new(plan.stack),
        fpu: plan
            .space
            .as_ref()
            .map(|_| core::cell::UnsafeCell::new(super::fpu::FpuState::initial())),
        space: plan.space,
        fs_base: AtomicU64::new(0),
        cpu_ticks: AtomicU64::new(0),
        run_start: AtomicU64::new(0),
        timer_wake: (AtomicU64::new(0), AtomicU64::new(0)),
        entry: Mutex::new(plan.entry),
        ending: Mutex::new(Ending::Running),
        exit_waiters: WaitQueue::new(),
    })
}

/// The code running now as a thread: it keeps its stack (the boot stack)
/// for good.
pub(super) fn adopt_current(name: &'static str) -> Arc<Thread> {
    let thread = new_thread(Plan {
        name,
        killable: false,
        idle: false,
        stack: None,
        space: None,
        entry: None,
    });
    thread.set_state(ThreadState::Running);
    thread.on_cpu.store(true, Ordering::Release);
    thread.run_start.store(read_tsc(), Ordering::Release);
    thread
}

/// This CPU's idle thread: halts until an interrupt while nothing is
/// ready, and reaps exited threads.
pub(super) fn make_idle() -> Result<Arc<Thread>, SpawnError> {
    let stack = stacks::take()?;
    let thread = new_thread(Plan {
        name: "idle",
        killable: false,
        idle: true,
        stack: Some(stack),
        space: None,
        entry: Some(Entry::Once(Box::new(idle_loop))),
    });
    prepare_stack(&thread, &stack);
    thread::register(thread.clone());
    Ok(thread)
}

fn idle_loop() {
    let cpu = this_cpu().expect("the idle thread runs under the scheduler");
    loop {
        thread::reap();
        // Race-free: the queue is checked with interrupts off, and `sti;
        // hlt` enables them only for the halt. A wake in an interrupt asks
        // for a switch, which happens on that interrupt's way out.
        crate::interrupts::wait_for_interrupt_if(|| cpu.sched.lock().run_queue.is_empty());
        super::yield_now();
    }
}

/// Lays out a new thread's first frame on its stack, as `sched_switch`
/// leaves a switched-out thread: r15, r14, r13, r12 (the thread), rbx,
/// rbp, then the return address `sched_thread_entry`.
fn prepare_stack(thread: &Arc<Thread>, stack: &Stack) {
    let frame: [u64; 8] = [
        0,
        0,
        0,
        Arc::as_ptr(thread) as u64,
        0,
        0,
        sched_thread_entry as *const () as u64,
        0,
    ];
    let top = stack.top().as_u64();
    let rsp = top - core::mem::size_of_val(&frame) as u64;
    // SAFETY: the stack is freshly mapped, writable, owned by this thread
    // and not yet in use; the frame lies in its top 64 bytes.
    unsafe { (rsp as *mut [u64; 8]).write(frame) };
    // SAFETY: the thread has not run yet; nothing else touches its slot.
    unsafe { *thread.saved_rsp.get() = rsp };
}

/// Runs a new thread's closure, then ends the thread (called once, by
/// asm/context_switch.asm, with interrupts on).
#[unsafe(no_mangle)]
extern "C" fn sched_thread_main(thread: *const Thread) -> ! {
    // SAFETY: the pointer came from `prepare_stack`; the thread table
    // keeps the thread alive while it runs.
    let thread = unsafe { &*thread };
    let entry = without_interrupts(|| {
        let mut slot = thread.entry.lock();
        match slot.take() {
            Some(Entry::Once(run)) => Some(Ok(run)),
            Some(Entry::Killable(run)) => {
                let keep: *const (dyn Fn() + Send) = &*run;
                // The box goes back; its contents stay where they are.
                *slot = Some(Entry::Killable(run));
                Some(Err(keep))
            }
            None => None,
        }
    });
    match entry {
        Some(Ok(run)) => run(),
        // SAFETY: the closure lives in the thread's `entry` slot, which
        // only the reaper empties, after this thread has exited.
        Some(Err(keep)) => unsafe { (*keep)() },
        None => {}
    }
    // No reaping here: the exit path stays short, so threads woken with
    // this one run soon. Spawn, join and the idle thread reap.
    exit_current(false)
}

/// Ends the current thread: marks it exited (killed or not), wakes its
/// joiners and switches away for good. Any context.
pub(super) fn exit_current(killed: bool) -> ! {
    x86_64::instructions::interrupts::disable();
    let cpu = this_cpu().expect("threads end under the scheduler");
    // SAFETY: `current` points at the running thread, alive while it runs.
    let me = unsafe { &*cpu.current.load(Ordering::Acquire) };
    if killed {
        *me.ending.lock() = Ending::Killed;
    }
    me.set_state(ThreadState::Exited);
    me.exit_waiters.notify_all();
    ANY_EXIT.notify_all();
    schedule();
    unreachable!("an exited thread was resumed")
}

/// How to make a thread.
#[derive(Default)]
pub struct Builder {
    name: &'static str,
    space: Option<Arc<AddressSpace>>,
}

impl Builder {
    /// A thread called `name`.
    pub fn new(name: &'static str) -> Self {
        Self { name, space: None }
    }

    /// Runs the thread in `space` (its user half; the kernel half is the
    /// same everywhere).
    pub fn address_space(mut self, space: Arc<AddressSpace>) -> Self {
        self.space = Some(space);
        self
    }

    /// Starts the thread; it runs `f` and its [`JoinHandle`] gives `f`'s
    /// value. If no stack can be had, nothing is kept and an error comes
    /// back.
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let run = move || {
            let value: Box<dyn Any + Send> = Box::new(f());
            if let Some(cpu) = this_cpu() {
                let me = cpu.current.load(Ordering::Acquire);
                // SAFETY: the running thread is alive while it runs.
                let me = unsafe { &*me };
                without_interrupts(|| *me.ending.lock() = Ending::Returned(Some(value)));
            }
        };
        self.start(false, || Entry::Once(Box::new(run)))
    }

    /// Starts a killable thread: [`kill`] may end it at any preemption
    /// point. `f` is `Copy`, so it owns nothing that would need dropping,
    /// and it is called in place, so a kill leaves nothing of it behind.
    ///
    /// # Safety
    /// `f` may be ended at any instruction where interrupts are on, with
    /// nothing unwound. It must never hold a lock or any other resource
    /// while interrupts are on (a spinlock or sleeping `Mutex` held at a
    /// kill stays held for ever), and must never block (sleep, wait, lock):
    /// a kill does not wake a blocked thread.
    pub unsafe fn spawn_killable<F>(self, f: F) -> Result<JoinHandle<()>, SpawnError>
    where
        F: Fn() + Copy + Send + 'static,
    {
        self.start(true, || Entry::Killable(Box::new(f)))
    }

    fn start<T>(
        self,
        killable: bool,
        entry: impl FnOnce() -> Entry,
    ) -> Result<JoinHandle<T>, SpawnError> {
        let cpu = this_cpu().ok_or(SpawnError::NotStarted)?;
        thread::reap();
        // The stack first: if it fails, nothing else was allocated.
        let stack = stacks::take()?;
        let thread = new_thread(Plan {
            name: self.name,
            killable,
            idle: false,
            stack: Some(stack),
            space: self.space,
            entry: Some(entry()),
        });
        prepare_stack(&thread, &stack);
        thread::register(thread.clone());
        let threads = thread::count();
        without_interrupts(|| {
            let mut sched = cpu.sched.lock();
            // Room for every thread: wakes in interrupts never allocate.
            sched.run_queue.reserve_for(threads);
            sched.run_queue.push(thread.clone());
            // The spawner may have been running alone with no deadline.
            super::timer::program(cpu, &sched);
        });
        Ok(JoinHandle {
            thread,
            value: PhantomData,
        })
    }
}

/// Starts a thread called `name` running `f`.
pub fn spawn<F, T>(name: &'static str, f: F) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new(name).spawn(f)
}

/// A thread's end, to wait for: by [`join`](Self::join) in a thread, or by
/// `.await` in an async task.
#[must_use = "a dropped handle detaches the thread"]
pub struct JoinHandle<T> {
    thread: Arc<Thread>,
    value: PhantomData<fn() -> T>,
}

impl<T: 'static> JoinHandle<T> {
    /// The thread's id.
    pub fn id(&self) -> ThreadId {
        self.thread.id
    }

    /// The thread.
    pub fn thread(&self) -> &Arc<Thread> {
        &self.thread
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.state() == ThreadState::Exited
    }

    /// Waits for the thread to end and returns its value.
    pub fn join(self) -> Result<T, JoinError> {
        if percpu::current_id() == Some(self.thread.id) {
            return Err(JoinError::Itself(self.thread.id));
        }
        wait_for_exit(&self.thread);
        take_value(&self.thread)
    }
}

/// Woken whenever any thread exits: for waits on one of several threads
/// (a parent waiting for any child).
static ANY_EXIT: WaitQueue = WaitQueue::new();

/// Blocks until `ended()` holds, checked again each time any thread
/// exits, or until `timeout` passes. `ended` runs with interrupts off and a
/// queue locked: it must be short and take only interrupt-safe locks.
pub fn wait_for_any_exit(ended: impl FnMut() -> bool, timeout: Duration) {
    let mut ended = ended;
    let _ = ANY_EXIT.wait_until(|| ended().then_some(()), Some(timeout));
}

fn wait_for_exit(thread: &Arc<Thread>) {
    let exited = || (thread.state() == ThreadState::Exited).then_some(());
    let _ = thread.exit_waiters.wait_until(exited, None);
    thread::reap();
}

/// Takes the value of an exited thread, once.
fn take_value<T: 'static>(thread: &Thread) -> Result<T, JoinError> {
    let value = take_ending(thread)?;
    Ok(*value
        .downcast::<T>()
        .expect("a JoinHandle's type is its closure's"))
}

/// Takes an exited thread's ending, once: its boxed value, or why none.
fn take_ending(thread: &Thread) -> Result<Box<dyn Any + Send>, JoinError> {
    if thread.joined.swap(true, Ordering::AcqRel) {
        return Err(JoinError::AlreadyJoined(thread.id));
    }
    let ending = without_interrupts(|| {
        core::mem::replace(&mut *thread.ending.lock(), Ending::Returned(None))
    });
    match ending {
        Ending::Killed => Err(JoinError::Killed(thread.id)),
        Ending::Returned(Some(value)) => Ok(value),
        Ending::Returned(None) | Ending::Running => Err(JoinError::AlreadyJoined(thread.id)),
    }
}

impl<T: 'static> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let thread = &self.thread;
        let exited = || thread.state() == ThreadState::Exited;
        if thread.exit_waiters.register_waker(cx.waker(), exited) {
            Poll::Ready(take_value(thread))
        } else {
            Poll::Pending
        }
    }
}

/// Waits for thread `id` to end, by id (its value, if any, is dropped).
pub fn join_id(id: ThreadId) -> Result<Exit, ThreadError> {
    let thread = thread::find(id).ok_or(ThreadError::NoSuchThread(id))?;
    if thread.joined.load(Ordering::Acquire) {
        return Err(ThreadError::AlreadyJoined(id));
    }
    if percpu::current_id() == Some(id) {
        return Err(ThreadError::AlreadyJoined(id));
    }
    wait_for_exit(&thread);
    match take_ending(&thread) {
        Err(JoinError::Killed(_)) => Ok(Exit::Killed),
        Err(JoinError::AlreadyJoined(_) | JoinError::Itself(_)) => {
            Err(ThreadError::AlreadyJoined(id))
        }
        Ok(_value) => Ok(Exit::Returned),
    }
}

/// Asks killable thread `id` to end at its next preemption point.
pub fn kill(id: ThreadId) -> Result<(), ThreadError> {
    let thread = thread::find(id).ok_or(ThreadError::NoSuchThread(id))?;
    if thread.state() == ThreadState::Exited {
        return Err(ThreadError::Exited(id));
    }
    if !thread.killable {
        return Err(ThreadError::NotKillable(id));
    }
    thread.kill_requested.store(true, Ordering::Release);
    let _ = super::park::unpark(&thread);
    Ok(())
}

/// Unparks thread `id` (see [`super::unpark`]).
pub fn unpark_id(id: ThreadId) -> Result<(), ThreadError> {
    let thread = thread::find(id).ok_or(ThreadError::NoSuchThread(id))?;
    super::park::unpark(&thread)
}
