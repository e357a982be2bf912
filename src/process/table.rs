//! Processes: a pid, a name, an address space, its thread (one for now),
//! its open files, its demand-zero memory, its parent and how it ended;
//! and the table of them.
//!
//! A process's thread is a killable kernel thread whose closure enters
//! ring 3 and never returns: it leaves the thread through `exit` (the
//! system call), a fault in ring 3, or a kill at a preemption point. The
//! process stays in the table, ended, until [`wait`] takes its status;
//! its memory goes back when both it and its thread are gone (the
//! reaper drops the thread's share of the address space, in a kernel
//! thread, with the kernel's table loaded).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;
use x86_64::VirtAddr;

use super::files::FileTable;
use super::memory::Regions;
use super::user_access::{Access, BadAddress};
use super::{LoadError, load};
use crate::arch::without_interrupts;
use crate::memory::page::Page;
use crate::memory::paging::{AddressSpace, EntryFlags};
use crate::sched::{self, Builder, JoinHandle, ThreadId};

/// A process number, unique for the kernel's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(pub u64);

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` or `exit_group` with this status (0-255).
    Exited(i32),
    /// A fault in ring 3 ended it (the exception vector).
    Fault(u8),
    /// It was killed.
    Killed,
}

impl ExitStatus {
    /// The status as a shell shows it: the exit code, or 128 + the signal
    /// Linux would have sent (SIGSEGV 11, SIGILL 4, SIGFPE 8, SIGKILL 9).
    pub fn code(self) -> i32 {
        match self {
            Self::Exited(code) => code,
            Self::Fault(0) => 128 + 8,
            Self::Fault(6) => 128 + 4,
            Self::Fault(_) => 128 + 11,
            Self::Killed => 128 + 9,
        }
    }
}

impl ExitStatus {
    /// The status word Linux's `wait4` gives: the exit code in bits 8-15,
    /// or the signal that ended it in bits 0-6.
    pub fn wait_status(self) -> u32 {
        match self {
            Self::Exited(code) => ((code & 0xff) as u32) << 8,
            other => (other.code() - 128) as u32 & 0x7f,
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exited(code) => write!(f, "exit status {code}"),
            Self::Fault(vector) => {
                let (mnemonic, name) = crate::interrupts::exceptions::name(*vector);
                write!(f, "ended by a fault: {name} ({mnemonic})")
            }
            Self::Killed => f.write_str("killed"),
        }
    }
}

/// A process.
pub struct Process {
    pid: Pid,
    name: String,
    parent: Option<Pid>,
    space: Arc<AddressSpace>,
    thread: Mutex<Option<ThreadId>>,
    ending: Mutex<Option<ExitStatus>>,
    /// Demand-zero regions and the break.
    pub memory: Mutex<Regions>,
    /// Open files.
    pub files: Mutex<FileTable>,
    /// The address `set_tid_address` gave (kept, unused: one thread).
    pub clear_child_tid: AtomicU64,
    /// Children it started and has not waited for.
    children: Mutex<Vec<Started>>,
}

impl Process {
    /// Its pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }
    /// Its name (the program's path).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its parent, if a process started it.
    pub fn parent(&self) -> Option<Pid> {
        self.parent
    }
    /// Its thread.
    pub fn thread(&self) -> Option<ThreadId> {
        *self.thread.lock()
    }
    /// Its address space.
    pub fn space(&self) -> &AddressSpace {
        &self.space
    }
    /// How it ended, once it has.
    pub fn ending(&self) -> Option<ExitStatus> {
        without_interrupts(|| *self.ending.lock())
    }

    /// Records how it ended (the first record stays).
    pub fn set_ending(&self, status: ExitStatus) {
        without_interrupts(|| {
            let mut ending = self.ending.lock();
            if ending.is_none() {
                *ending = Some(status);
            }
        });
    }

    /// Makes sure the page at `addr` may be accessed so by the kernel for
    /// the program: mapped for user access (writable for a write), or a
    /// demand-zero page, which is mapped now.
    pub fn ensure_page(&self, addr: u64, access: Access) -> Result<(), BadAddress> {
        let page = Page::containing(VirtAddr::new(addr));
        if let Some(flags) = self.space.page_flags(page) {
            let user = flags.contains(EntryFlags::USER_ACCESSIBLE);
            let writable = flags.contains(EntryFlags::WRITABLE);
            return (user && (access == Access::Read || writable))
                .then_some(())
                .ok_or(BadAddress);
        }
        let prot = self.memory.lock().covering(addr / crate::memory::PAGE_SIZE);
        match prot {
            Some(prot) if prot.any() && (access == Access::Read || prot.write) => self
                .space
                .map(page, page_flags(prot))
                .map_err(|_| BadAddress),
            _ => Err(BadAddress),
        }
    }

    /// Maps a zeroed frame for a page fault at `addr` from user mode, if a
    /// demand-zero region covers it and allows the access. False if not
    /// (the fault is the program's).
    pub fn demand_page(&self, addr: u64, write: bool, fetch: bool) -> bool {
        let page = Page::containing(VirtAddr::new(addr));
        if self.space.page_flags(page).is_some() {
            return false;
        }
        let Some(prot) = self
            .memory
            .try_lock()
            .and_then(|m| m.covering(addr / crate::memory::PAGE_SIZE))
        else {
            return false;
        };
        if !prot.any() || (write && !prot.write) || (fetch && !prot.exec) {
            return false;
        }
        self.space.map(page, page_flags(prot)).is_ok()
    }
}

/// The page flags of a region's permissions (user access is the space's).
pub fn page_flags(prot: super::memory::Protection) -> EntryFlags {
    let mut flags = EntryFlags::empty();
    if prot.write {
        flags |= EntryFlags::WRITABLE;
    }
    if !prot.exec {
        flags |= EntryFlags::NO_EXECUTE;
    }
    flags
}

static NEXT_PID: AtomicU64 = AtomicU64::new(1);
/// Every process not yet waited for, by pid.
static PROCESSES: Mutex<BTreeMap<Pid, Arc<Process>>> = Mutex::new(BTreeMap::new());
/// The process of each user thread.
static BY_THREAD: Mutex<BTreeMap<ThreadId, Arc<Process>>> = Mutex::new(BTreeMap::new());

/// The process whose thread is running, if it is a user thread.
pub fn current() -> Option<Arc<Process>> {
    let id = sched::current_id()?;
    without_interrupts(|| BY_THREAD.lock().get(&id).cloned())
}

/// The process `pid`, if it is in the table.
pub fn find(pid: Pid) -> Option<Arc<Process>> {
    without_interrupts(|| PROCESSES.lock().get(&pid).cloned())
}

/// Every process in the table, by pid.
pub fn list() -> Vec<Arc<Process>> {
    without_interrupts(|| PROCESSES.lock().values().cloned().collect())
}

/// Why a program could not be started.
#[derive(Debug)]
pub enum SpawnError {
    /// It could not be loaded.
    Load(LoadError),
    /// No thread for it.
    Thread(sched::SpawnError),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Load(err) => write!(f, "{err}"),
            Self::Thread(err) => write!(f, "{err}"),
        }
    }
}

/// A started process: its pid and the end of its thread, to wait for.
pub struct Started {
    /// The pid.
    pub pid: Pid,
    /// Its thread's end (a future as well).
    pub thread: JoinHandle<()>,
}

/// Loads the program at `path` and starts it with `argv` and `envp`.
pub fn spawn(path: &str, argv: &[&[u8]], envp: &[&[u8]]) -> Result<Started, SpawnError> {
    reap_orphans();
    let image = load(path, argv, envp).map_err(SpawnError::Load)?;
    let brk_start = image
        .executable
        .segments
        .iter()
        .map(|s| s.vaddr + s.memsz)
        .max()
        .unwrap_or(0);
    let pid = Pid(NEXT_PID.fetch_add(1, Ordering::Relaxed));
    let process = Arc::new(Process {
        pid,
        name: String::from(path),
        parent: current().map(|p| p.pid),
        space: Arc::new(image.space),
        thread: Mutex::new(None),
        ending: Mutex::new(None),
        memory: Mutex::new(Regions::new(brk_start)),
        files: Mutex::new(FileTable::new()),
        clear_child_tid: AtomicU64::new(0),
        children: Mutex::new(Vec::new()),
    });
    let (entry, stack) = (image.entry.as_u64(), image.stack_pointer.as_u64());
    // Interrupts stay off from here until the thread is in both tables:
    // it must not run before `current()` can find its process.
    let started = without_interrupts(|| {
        // SAFETY: the thread runs the program in ring 3, where a kill
        // leaves nothing held; in the kernel it runs system calls and
        // faults with interrupts off (no preemption point), except in the
        // waits of `read`, `nanosleep`, `sched_yield` and `wait4`, which
        // hold nothing while interrupts are on (src/syscall/mod.rs).
        let thread = unsafe {
            Builder::new("user")
                .address_space(process.space.clone())
                .spawn_killable(move || super::enter::enter_user(entry, stack))
        }
        .map_err(SpawnError::Thread)?;
        *process.thread.lock() = Some(thread.id());
        BY_THREAD.lock().insert(thread.id(), process.clone());
        PROCESSES.lock().insert(pid, process.clone());
        Ok(Started { pid, thread })
    })?;
    log::debug!("process {pid} ({path}) started");
    Ok(started)
}

/// Ends the current process with `status`: its thread ends now and never
/// returns. Its memory is freed once it is waited for and its thread
/// reaped. Children it did not wait for go on, and are reaped by the
/// kernel when they end ([`reap_orphans`]).
pub fn exit_current(status: ExitStatus) -> ! {
    if let Some(process) = current() {
        process.set_ending(status);
        process.files.lock().close_all();
        orphan_children(&process);
    }
    sched::exit_current_thread()
}

/// Children whose parent ended before waiting for them.
static ORPHANS: Mutex<Vec<Started>> = Mutex::new(Vec::new());

fn orphan_children(process: &Process) {
    let children = without_interrupts(|| core::mem::take(&mut *process.children.lock()));
    without_interrupts(|| ORPHANS.lock().extend(children));
}

/// Reaps the orphans that have ended (the shell calls it with every
/// reap).
pub fn reap_orphans() {
    let ended: Vec<Started> = without_interrupts(|| {
        let mut orphans = ORPHANS.lock();
        let (ended, alive) = orphans.drain(..).partition(|s| s.thread.is_finished());
        *orphans = alive;
        ended
    });
    for orphan in ended {
        let _ = reap(orphan.pid);
    }
}

/// Starts the program at `path` as a child of the current process, which
/// may wait for it ([`wait_child`]).
pub fn spawn_child(path: &str, argv: &[&[u8]], envp: &[&[u8]]) -> Result<Pid, SpawnError> {
    let parent = current();
    let started = spawn(path, argv, envp)?;
    let pid = started.pid;
    match parent {
        Some(parent) => without_interrupts(|| parent.children.lock().push(started)),
        None => without_interrupts(|| ORPHANS.lock().push(started)),
    }
    Ok(pid)
}

/// What waiting for a child found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildWait {
    /// It ended so, and is reaped.
    Ended(ExitStatus),
    /// It is still running.
    Running,
    /// The current process has no such child (or no children at all).
    NoChild,
}

/// Whether the current process has a child that has ended (`pid`, or
/// any), or no such child at all: `wait4` would not block. Short, with
/// interrupt-safe locks only: it runs inside a wait queue's check.
pub fn child_wait_is_ready(pid: Option<Pid>) -> bool {
    let Some(parent) = current() else {
        return true;
    };
    let children = parent.children.lock();
    let mut wanted = children.iter().filter(|c| pid.is_none_or(|p| c.pid == p));
    let mut any = false;
    let ended = wanted.any(|c| {
        any = true;
        c.thread.is_finished()
    });
    ended || !any
}

/// Checks once, without waiting, whether child `pid` of the current
/// process (any child if `None`) has ended, and reaps it if so.
pub fn try_wait_child(pid: Option<Pid>) -> (Option<Pid>, ChildWait) {
    let Some(parent) = current() else {
        return (None, ChildWait::NoChild);
    };
    let taken = without_interrupts(|| {
        let mut children = parent.children.lock();
        if children.is_empty() || pid.is_some_and(|p| !children.iter().any(|c| c.pid == p)) {
            return Err(ChildWait::NoChild);
        }
        let index = children
            .iter()
            .position(|c| pid.is_none_or(|p| c.pid == p) && c.thread.is_finished())
            .ok_or(ChildWait::Running)?;
        Ok(children.remove(index))
    });
    match taken {
        Ok(child) => {
            let pid = child.pid;
            drop(child);
            let status = reap(pid).unwrap_or(ExitStatus::Killed);
            (Some(pid), ChildWait::Ended(status))
        }
        Err(other) => (None, other),
    }
}

/// Removes the ended process `pid` from the table and returns how it
/// ended; `None` if there is no such process or it has not ended. Its
/// children that it did not wait for become orphans.
pub fn reap(pid: Pid) -> Option<ExitStatus> {
    let process = find(pid)?;
    let thread = process.thread()?;
    let alive = sched::thread::find(thread)
        .is_some_and(|t| t.state() != sched::thread::ThreadState::Exited);
    if alive {
        return None;
    }
    // A thread that ended without a status was killed.
    let status = process.ending().unwrap_or(ExitStatus::Killed);
    orphan_children(&process);
    without_interrupts(|| {
        BY_THREAD.lock().remove(&thread);
        PROCESSES.lock().remove(&pid);
    });
    Some(status)
}

/// Waits (in a thread) for process `pid` to end, and reaps it.
pub fn wait(started: Started) -> ExitStatus {
    let _ = started.thread.join();
    reap(started.pid).unwrap_or(ExitStatus::Killed)
}

/// Asks process `pid` to end.
pub fn kill(pid: Pid) -> Result<(), sched::ThreadError> {
    let Some(thread) = find(pid).and_then(|p| p.thread()) else {
        return Err(sched::ThreadError::NoSuchThread(ThreadId(0)));
    };
    sched::kill(thread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_words_are_linux_ones() {
        assert_eq!(ExitStatus::Exited(0).wait_status(), 0);
        assert_eq!(ExitStatus::Exited(42).wait_status(), 42 << 8);
        assert_eq!(ExitStatus::Fault(14).wait_status(), 11, "SIGSEGV");
        assert_eq!(ExitStatus::Fault(6).wait_status(), 4, "SIGILL");
        assert_eq!(ExitStatus::Fault(0).wait_status(), 8, "SIGFPE");
        assert_eq!(ExitStatus::Killed.wait_status(), 9, "SIGKILL");
        assert_eq!(ExitStatus::Fault(13).code(), 139);
    }
}
