//! The shell's program commands: `run` (in the foreground, where Ctrl-C
//! kills the program, or with `&` in the background), `kill` for
//! processes, and the process half of `ps`. Programs are started and
//! waited for through [`crate::process`], as any kernel code would.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::command::{Command, ParseError};
use super::foreground::KeySource;
use super::keys::Key;
use crate::print;
use crate::println;
use crate::process::{self, Pid, Started, console_input};
use crate::task::executor;

/// Parses `run`'s arguments: the program, its arguments, and an optional
/// `&` at the end.
pub fn parse_run(rest: &str) -> Result<Command<'_>, ParseError<'_>> {
    let (words, background) = match rest.strip_suffix('&') {
        Some(words) => (words.trim_end(), true),
        None => (rest, false),
    };
    if words.is_empty() {
        return Err(ParseError::BadArgument {
            command: "run",
            problem: "which program? (ls /bin lists them)",
        });
    }
    Ok(Command::Run { words, background })
}

/// The path of a program named on the command line: as given if it has a
/// slash, else in /bin.
pub fn program_path(name: &str) -> String {
    if name.contains('/') {
        String::from(name)
    } else {
        format!("/bin/{name}")
    }
}

/// Gives the console's keys to a foreground program, and takes them back
/// when dropped; kills the process if dropped before it was waited for
/// (Ctrl-C drops the foreground command), and leaves a task to reap it.
struct Foreground(Option<Started>);

impl Drop for Foreground {
    fn drop(&mut self) {
        // The kill first: a reader woken by losing the keys then ends at
        // once rather than reading end of file.
        if let Some(started) = self.0.take() {
            let pid = started.pid;
            match process::kill(pid) {
                Ok(()) => println!("^C: process {pid} killed"),
                Err(err) => println!("^C: process {pid}: {err}"),
            }
            console_input::attach(None);
            reap_later(started, false);
        } else {
            console_input::attach(None);
        }
    }
}

/// Reaps a process once its thread has ended, in a task of its own;
/// `say` prints how it ended.
fn reap_later(started: Started, say: bool) {
    let pid = started.pid;
    let reaper = async move {
        let _ = started.thread.await;
        if let Some(status) = process::reap(pid)
            && say
        {
            println!("[{pid}] {status}");
        }
    };
    if let Err(err) = executor::spawn("reap", reaper) {
        println!("run: process {pid} will not be reaped: {err}");
    }
}

/// Runs `words` (program and arguments); waits unless `background`.
pub async fn run(words: &str, background: bool) {
    let argv: Vec<&[u8]> = words.split_whitespace().map(str::as_bytes).collect();
    let name = words.split_whitespace().next().unwrap_or_default();
    let path = program_path(name);
    let started = match process::spawn(&path, &argv, &[b"PATH=/bin"]) {
        Ok(started) => started,
        Err(err) => return println!("run: {path}: {err}"),
    };
    let pid = started.pid;
    if background {
        println!("[{pid}] {path} started; kill {pid} ends it");
        return reap_later(started, true);
    }
    console_input::attach(Some(pid));
    let mut guard = Foreground(Some(started));
    if let Some(started) = guard.0.as_mut() {
        let _ = (&mut started.thread).await;
    }
    let _ = guard.0.take();
    drop(guard);
    match process::reap(pid) {
        Some(process::ExitStatus::Exited(0)) => {}
        Some(status) => println!("[{pid}] {path}: {status}"),
        None => println!("[{pid}] {path}: its end could not be read"),
    }
}

/// The consoles' keys, with those typed while a foreground program runs
/// going to its standard input (echoed and edited a line at a time), all
/// but Ctrl-C, which stays the shell's.
pub struct ProgramKeys<'a, K>(pub &'a mut K);

impl<K: KeySource> KeySource for ProgramKeys<'_, K> {
    async fn next_key(&mut self) -> Option<Key> {
        loop {
            let key = self.0.next_key().await?;
            if key == Key::Cancel || !console_input::with(|input| input.has_reader()) {
                return Some(key);
            }
            match key {
                Key::Char(c) if console_input::with(|input| input.char(c)) => print!("{c}"),
                Key::Backspace if console_input::with(|input| input.backspace()) => {
                    print!("\u{8} \u{8}")
                }
                Key::Enter => {
                    println!();
                    console_input::enter();
                }
                _ => {}
            }
        }
    }
}

/// Ends process `id`, or else killable thread `id`.
pub fn kill(id: u64) {
    if process::find(Pid(id)).is_some() {
        match process::kill(Pid(id)) {
            Ok(()) => println!("process {id} ends at its next preemption point"),
            Err(err) => println!("kill: process {id}: {err}"),
        }
    } else {
        super::threads::kill(id);
    }
}

/// The process list: pid, parent, thread, state, name.
pub fn ps() {
    let processes = process::list();
    if processes.is_empty() {
        return;
    }
    println!(
        "{:>6}  {:>6}  {:>6}  {:<8} name",
        "pid", "ppid", "thread", "state"
    );
    for p in processes {
        let state = match p.ending() {
            Some(_) => "ended",
            None => "running",
        };
        let thread = p.thread().map_or(String::from("-"), |t| format!("{t}"));
        let parent = p.parent().map_or(String::from("-"), |pid| format!("{pid}"));
        println!(
            "{:>6}  {:>6}  {:>6}  {:<8} {}",
            p.pid().0,
            parent,
            thread,
            state,
            p.name()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::command::parse;
    use super::*;

    #[test]
    fn run_parses() {
        assert_eq!(
            parse("run hello a b"),
            Ok(Command::Run {
                words: "hello a b",
                background: false
            })
        );
        assert_eq!(
            parse("run spin &"),
            Ok(Command::Run {
                words: "spin",
                background: true
            })
        );
        assert!(parse("run").is_err());
        assert!(parse("run &").is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(program_path("hello"), "/bin/hello");
        assert_eq!(program_path("/bin/args"), "/bin/args");
    }
}
