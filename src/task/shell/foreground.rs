//! The command in the foreground: it runs raced against the consoles'
//! keys, so that Ctrl-C from either console cancels it (by dropping its
//! future, which drops whatever it waits on) and no key typed meanwhile is
//! lost. Those keys wait in a [`TypeAhead`] buffer and reach the line
//! editor once the command is over, as if typed then.
//!
//! The buffer is bounded: past [`TYPE_AHEAD`] keys, further keys are
//! dropped and counted (Ctrl-C still works), and the shell says how many
//! once the command is over. Pure logic over a [`KeySource`], tested on
//! the host.

use alloc::collections::VecDeque;
use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;

use super::keys::Key;

/// Keys kept while a command runs.
pub const TYPE_AHEAD: usize = 256;

/// Where keys come from.
pub trait KeySource {
    /// The next key, or `None` when no more will come. Dropping the future
    /// before it completes must lose no key.
    fn next_key(&mut self) -> impl Future<Output = Option<Key>>;
}

/// Keys typed while a command ran, oldest first, at most [`TYPE_AHEAD`].
#[derive(Debug, Default)]
pub struct TypeAhead {
    keys: VecDeque<Key>,
    dropped: usize,
}

impl TypeAhead {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `key`, or counts it as dropped when the buffer is full.
    pub fn push(&mut self, key: Key) {
        if self.keys.len() < TYPE_AHEAD {
            self.keys.push_back(key);
        } else {
            self.dropped += 1;
        }
    }

    /// The oldest key kept.
    pub fn pop(&mut self) -> Option<Key> {
        self.keys.pop_front()
    }

    /// How many keys are kept.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys were dropped since last asked, if any.
    pub fn take_dropped(&mut self) -> Option<usize> {
        Some(core::mem::take(&mut self.dropped)).filter(|&n| n > 0)
    }
}

/// How a foreground command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It ran to its end.
    Finished,
    /// Ctrl-C stopped it.
    Cancelled,
}

/// Runs `command` until it ends or a [`Key::Cancel`] comes from `keys`;
/// every other key that comes meanwhile goes into `ahead`.
pub async fn run(
    command: impl Future<Output = ()>,
    keys: &mut impl KeySource,
    ahead: &mut TypeAhead,
) -> Outcome {
    let mut command = pin!(command);
    loop {
        let step = {
            let mut next = pin!(keys.next_key());
            // The command first: a key that comes as it ends stays for the
            // editor.
            poll_fn(|cx| {
                if command.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                next.as_mut().poll(cx).map(Some)
            })
            .await
        };
        match step {
            None => return Outcome::Finished,
            Some(Some(Key::Cancel)) => return Outcome::Cancelled,
            Some(Some(key)) => ahead.push(key),
            Some(None) => {
                // No more keys will come: nothing can cancel it now.
                command.await;
                return Outcome::Finished;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use core::cell::{Cell, RefCell};
    use core::task::{Context, Waker};
    use std::vec::Vec;

    /// Keys handed out as the test adds them; pending when there are none.
    #[derive(Clone, Default)]
    struct Script(Rc<RefCell<VecDeque<Key>>>);

    impl Script {
        fn add(&self, keys: &[Key]) {
            self.0.borrow_mut().extend(keys.iter().copied());
        }
    }

    impl KeySource for Script {
        fn next_key(&mut self) -> impl Future<Output = Option<Key>> {
            poll_fn(|_| match self.0.borrow_mut().pop_front() {
                Some(key) => Poll::Ready(Some(key)),
                None => Poll::Pending,
            })
        }
    }

    /// A command that ends when `done` is set and records being dropped.
    struct Command {
        done: Rc<Cell<bool>>,
        dropped: Rc<Cell<bool>>,
    }

    impl Future for Command {
        type Output = ();
        fn poll(self: core::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.done.get() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    impl Drop for Command {
        fn drop(&mut self) {
            self.dropped.set(true);
        }
    }

    fn chars(text: &str) -> Vec<Key> {
        text.chars().map(Key::Char).collect()
    }

    fn drain(ahead: &mut TypeAhead) -> Vec<Key> {
        core::iter::from_fn(|| ahead.pop()).collect()
    }

    /// Drives `run` by hand: `between` is called between polls.
    fn drive(
        script: &Script,
        ahead: &mut TypeAhead,
        mut between: impl FnMut(usize) -> bool,
    ) -> (Option<Outcome>, bool) {
        let (done, dropped) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(false)));
        let command = Command {
            done: Rc::clone(&done),
            dropped: Rc::clone(&dropped),
        };
        let mut keys = script.clone();
        let mut race = core::pin::pin!(run(command, &mut keys, ahead));
        let mut cx = Context::from_waker(Waker::noop());
        for step in 0..100 {
            if let Poll::Ready(outcome) = race.as_mut().poll(&mut cx) {
                return (Some(outcome), dropped.get());
            }
            done.set(between(step));
        }
        (None, dropped.get())
    }

    #[test]
    fn keys_typed_while_a_command_runs_are_kept_in_order() {
        let script = Script::default();
        let mut ahead = TypeAhead::new();
        let (outcome, _) = drive(&script, &mut ahead, |step| {
            match step {
                0 => script.add(&chars("ec")),
                1 => script.add(&chars("ho")),
                2 => script.add(&[Key::Enter]),
                _ => {}
            }
            step >= 3
        });
        assert_eq!(outcome, Some(Outcome::Finished));
        let mut expected = chars("echo");
        expected.push(Key::Enter);
        assert_eq!(drain(&mut ahead), expected);
    }

    #[test]
    fn ctrl_c_drops_the_command_and_leaves_later_keys_unread() {
        let script = Script::default();
        let mut ahead = TypeAhead::new();
        script.add(&[Key::Char('a'), Key::Cancel, Key::Char('b')]);
        let (outcome, dropped) = drive(&script, &mut ahead, |_| false);
        assert_eq!(outcome, Some(Outcome::Cancelled));
        assert!(dropped, "the command's future was dropped");
        assert_eq!(drain(&mut ahead), [Key::Char('a')]);
        assert_eq!(
            *script.0.borrow(),
            [Key::Char('b')],
            "b is still to be read"
        );
    }

    #[test]
    fn a_command_that_never_ends_keeps_running_without_ctrl_c() {
        let script = Script::default();
        let mut ahead = TypeAhead::new();
        let (outcome, dropped) = drive(&script, &mut ahead, |_| false);
        assert_eq!((outcome, dropped), (None, false), "still running");
    }

    #[test]
    fn a_full_buffer_drops_and_counts_and_ctrl_c_still_works() {
        let script = Script::default();
        let mut ahead = TypeAhead::new();
        script.add(&chars(&"x".repeat(TYPE_AHEAD + 5)));
        script.add(&[Key::Cancel]);
        let (outcome, _) = drive(&script, &mut ahead, |_| false);
        assert_eq!(outcome, Some(Outcome::Cancelled));
        assert_eq!(ahead.len(), TYPE_AHEAD);
        assert_eq!(ahead.take_dropped(), Some(5));
        assert_eq!(ahead.take_dropped(), None, "counted once");
    }
}
