//! The console as a program's standard input. While a program runs in
//! the foreground (`run` without `&`), the shell hands it the keys typed
//! (except Ctrl-C, which kills it): they are echoed and edited here a line
//! at a time, and a line ended by Enter becomes readable on descriptor 0,
//! newline included, as on a terminal in canonical mode. A program in the
//! background, or with no foreground line coming, reads end of file.
//!
//! Bounded: a line holds at most [`MAX_LINE`] bytes (more are dropped, as
//! a terminal beeps) and at most [`MAX_PENDING`] bytes wait unread.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use spin::Mutex;

use super::table::Pid;
use crate::arch::without_interrupts;
use crate::sched::wait_queue::WaitQueue;

/// The longest line.
pub const MAX_LINE: usize = 256;
/// The most bytes waiting to be read.
pub const MAX_PENDING: usize = 4096;
/// How often a blocked reader checks whether it was killed or left the
/// foreground.
const RECHECK: Duration = Duration::from_millis(50);

/// The line discipline's state: pure, tested on the host.
#[derive(Debug, Default)]
pub struct LineInput {
    foreground: Option<Pid>,
    line: Vec<u8>,
    ready: VecDeque<u8>,
}

impl LineInput {
    /// A console with no program in the foreground.
    pub const fn new() -> Self {
        Self {
            foreground: None,
            line: Vec::new(),
            ready: VecDeque::new(),
        }
    }

    /// Gives the keys to `pid` (or to nobody); what was typed is dropped.
    pub fn attach(&mut self, pid: Option<Pid>) {
        self.foreground = pid;
        self.line.clear();
        self.ready.clear();
    }

    /// Whether a program takes the keys.
    pub fn has_reader(&self) -> bool {
        self.foreground.is_some()
    }

    /// A character typed; returns whether to echo it.
    pub fn char(&mut self, c: char) -> bool {
        let mut bytes = [0u8; 4];
        let bytes = c.encode_utf8(&mut bytes).as_bytes();
        if self.line.len() + bytes.len() > MAX_LINE {
            return false;
        }
        self.line.extend_from_slice(bytes);
        true
    }

    /// Backspace: returns whether a character was erased.
    pub fn backspace(&mut self) -> bool {
        let Some(last) = self.line.iter().rposition(|&b| b & 0xC0 != 0x80) else {
            return false;
        };
        self.line.truncate(last);
        true
    }

    /// Enter: the line becomes readable (as far as there is room).
    pub fn enter(&mut self) {
        self.line.push(b'\n');
        let room = MAX_PENDING.saturating_sub(self.ready.len());
        self.ready.extend(self.line.drain(..).take(room));
        self.line.clear();
    }

    /// Takes up to `max` readable bytes for `pid`: `None` if it must wait,
    /// an empty vector for end of file (not the foreground program).
    pub fn take(&mut self, pid: Pid, max: usize) -> Option<Vec<u8>> {
        if self.foreground != Some(pid) || max == 0 {
            return Some(Vec::new());
        }
        if self.ready.is_empty() {
            return None;
        }
        let n = max.min(self.ready.len());
        Some(self.ready.drain(..n).collect())
    }
}

static INPUT: Mutex<LineInput> = Mutex::new(LineInput::new());
static READERS: WaitQueue = WaitQueue::new();

/// Runs `f` on the console's line input.
pub fn with<R>(f: impl FnOnce(&mut LineInput) -> R) -> R {
    without_interrupts(|| f(&mut INPUT.lock()))
}

/// Gives the keys to `pid` (or to nobody) and wakes readers (a reader left
/// out now reads end of file).
pub fn attach(pid: Option<Pid>) {
    with(|input| input.attach(pid));
    READERS.notify_all();
}

/// Enter was typed: wakes readers.
pub fn enter() {
    with(LineInput::enter);
    READERS.notify_all();
}

/// Reads up to `max` bytes for `pid`, waiting for a line. Interrupts on.
/// Every [`RECHECK`] it passes a preemption point, where a kill ends it.
pub fn read(pid: Pid, max: usize) -> Vec<u8> {
    loop {
        let got = READERS.wait_until(|| INPUT.lock().take(pid, max), Some(RECHECK));
        match got {
            Ok(bytes) => {
                if bytes.is_empty() {
                    // Perhaps woken because a kill took the keys away: a
                    // preemption point ends it here (an empty vector holds
                    // no memory).
                    crate::sched::yield_now();
                }
                return bytes;
            }
            Err(_) => crate::sched::yield_now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_readable_at_enter() {
        let mut input = LineInput::new();
        let pid = Pid(3);
        assert_eq!(input.take(pid, 10), Some(Vec::new()), "not attached: EOF");
        input.attach(Some(pid));
        assert_eq!(input.take(pid, 10), None, "nothing yet: wait");
        assert!(input.char('h') && input.char('é') && input.char('x'));
        assert!(input.backspace());
        assert_eq!(input.take(pid, 10), None, "no Enter yet");
        input.enter();
        assert_eq!(input.take(pid, 2), Some(b"h\xc3".to_vec()));
        assert_eq!(input.take(pid, 10), Some(b"\xa9\n".to_vec()));
        assert_eq!(input.take(Pid(4), 10), Some(Vec::new()), "another: EOF");
        assert!(!input.backspace(), "empty line");
    }

    #[test]
    fn lines_and_the_backlog_are_bounded() {
        let mut input = LineInput::new();
        input.attach(Some(Pid(1)));
        for _ in 0..MAX_LINE {
            assert!(input.char('a'));
        }
        assert!(!input.char('b'), "the line is full");
        for _ in 0..40 {
            input.enter();
            for _ in 0..200 {
                input.char('c');
            }
        }
        assert_eq!(input.ready.len(), MAX_PENDING);
        input.attach(None);
        assert!(!input.has_reader());
        assert!(input.ready.is_empty(), "dropped with the reader");
    }
}
