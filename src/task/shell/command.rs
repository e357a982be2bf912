//! The shell's commands and their parser. Pure logic, tested on the host.

use core::fmt;
use core::time::Duration;

use crate::memory::allocator::HeapStats;
use crate::memory::{FrameStats, PAGE_SIZE};
use crate::units::ByteSize;

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// List the commands.
    Help,
    /// Print the rest of the line.
    Echo(&'a str),
    /// Clear the screen.
    Clear,
    /// Time since boot.
    Uptime,
    /// Frame and heap statistics.
    Mem(MemView),
    /// The running tasks.
    Tasks,
    /// The kernel threads.
    Ps,
    /// Start a thread that spins without yielding.
    Spin,
    /// End a killable thread.
    Kill(u64),
    /// The timer tick count.
    Ticks,
    /// Interrupt and input counters.
    Irq,
    /// Wait (shows the timer future working).
    Sleep(Duration),
    /// The PCI functions and their drivers.
    Lspci,
    /// The USB controllers, ports and devices.
    Lsusb,
    /// Restart the machine.
    Reboot,
    /// Turn the machine off (ACPI S5).
    Shutdown,
    /// Stop the machine.
    Halt,
    /// List a directory of the file tree (the root if none is named).
    Ls(Option<&'a str>),
    /// Run a program (`run PROGRAM [ARGS...] [&]`).
    Run {
        /// The program and its arguments.
        words: &'a str,
        /// With `&`: the shell does not wait.
        background: bool,
    },
    /// Print a file.
    Cat {
        /// The file.
        path: &'a str,
        /// As a hexdump rather than as text.
        hex: bool,
    },
}

/// A command's name, arguments and what it does, for `help`.
pub struct CommandHelp {
    /// The word that runs it.
    pub name: &'static str,
    /// Its arguments.
    pub args: &'static str,
    /// What it does.
    pub about: &'static str,
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[CommandHelp] = &[
    CommandHelp {
        name: "help",
        args: "",
        about: "list the commands",
    },
    CommandHelp {
        name: "echo",
        args: "TEXT",
        about: "print TEXT",
    },
    CommandHelp {
        name: "clear",
        args: "",
        about: "clear the screen",
    },
    CommandHelp {
        name: "uptime",
        args: "",
        about: "time since boot",
    },
    CommandHelp {
        name: "mem",
        args: "[--raw]",
        about: "frames and heap; --raw: one key=value line for scripts",
    },
    CommandHelp {
        name: "tasks",
        args: "",
        about: "the running tasks",
    },
    CommandHelp {
        name: "ps",
        args: "",
        about: "the kernel threads: id, name, state, CPU time",
    },
    CommandHelp {
        name: "spin",
        args: "",
        about: "start a killable thread that loops without ever yielding",
    },
    CommandHelp {
        name: "kill",
        args: "ID",
        about: "end process ID, or else killable thread ID (spin's), at its next preemption point",
    },
    CommandHelp {
        name: "run",
        args: "PROGRAM [ARGS...] [&]",
        about: "run /bin/PROGRAM and wait (Ctrl-C kills it); with &: in the background",
    },
    CommandHelp {
        name: "ticks",
        args: "",
        about: "timer interrupts since boot (one per deadline, none when idle)",
    },
    CommandHelp {
        name: "irq",
        args: "",
        about: "interrupt and input counters",
    },
    CommandHelp {
        name: "sleep",
        args: "N[ms]",
        about: "wait N seconds (or N ms) on a timer",
    },
    CommandHelp {
        name: "ls",
        args: "[DIR]",
        about: "list a directory of the files (the boot modules); / if none",
    },
    CommandHelp {
        name: "cat",
        args: "[-x] FILE",
        about: "print a text file; -x: a hexdump of its first 4 KiB (binary files need it)",
    },
    CommandHelp {
        name: "lspci",
        args: "",
        about: "PCI functions: vendor:device, class, driver",
    },
    CommandHelp {
        name: "lsusb",
        args: "",
        about: "USB controllers, ports and devices",
    },
    CommandHelp {
        name: "reboot",
        args: "",
        about: "restart the machine",
    },
    CommandHelp {
        name: "shutdown",
        args: "",
        about: "turn the machine off (ACPI soft off)",
    },
    CommandHelp {
        name: "halt",
        args: "",
        about: "stop the machine",
    },
];

/// The longest `sleep` allowed.
pub const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError<'a> {
    /// The line is empty.
    Empty,
    /// No command has this name.
    Unknown(&'a str),
    /// The command takes no arguments.
    UnexpectedArgument(&'static str),
    /// The argument is missing or wrong.
    BadArgument {
        /// The command.
        command: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
}

impl fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => Ok(()),
            Self::Unknown(word) => {
                write!(f, "unknown command: {word} (type help for the list)")
            }
            Self::UnexpectedArgument(command) => write!(f, "{command} takes no arguments"),
            Self::BadArgument { command, problem } => {
                let args = COMMANDS
                    .iter()
                    .find(|c| c.name == *command)
                    .map_or("", |c| c.args);
                write!(f, "{command}: {problem} (usage: {command} {args})")
            }
        }
    }
}

/// Parses `N`, `N.M` (seconds) or `Nms` (milliseconds).
fn parse_duration(text: &str) -> Result<Duration, &'static str> {
    let (number, millis) = match text.strip_suffix("ms") {
        Some(number) => (number, true),
        None => (text.strip_suffix('s').unwrap_or(text), false),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
        return Err("not a number");
    }
    let whole: u64 = whole.parse().map_err(|_| "number too large")?;
    // Up to nine decimals count, as nanoseconds of the unit.
    let mut nanos: u64 = 0;
    for (i, digit) in fraction.bytes().take(9).enumerate() {
        nanos += u64::from(digit - b'0') * 10u64.pow(8 - i as u32);
    }
    let duration = if millis {
        Duration::from_millis(whole).checked_add(Duration::from_nanos(nanos / 1000))
    } else {
        Duration::from_secs(whole).checked_add(Duration::from_nanos(nanos))
    }
    .ok_or("number too large")?;
    if duration > MAX_SLEEP {
        return Err("at most one hour");
    }
    Ok(duration)
}

/// How `mem` shows its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemView {
    /// Lines for a person, sizes in binary units.
    Human,
    /// One line, `mem: key=value ...`, exact integers, for the tools that
    /// read the kernel's output (tools/kernel_output.py): people get the
    /// rounded sizes, scripts get numbers they need not parse out of prose.
    Raw,
}

/// What `mem` reports: the frame allocator's counts (none before memory
/// management starts) and the heap's.
#[derive(Debug, Clone, Copy)]
pub struct MemReport {
    /// Frame counts.
    pub frames: Option<FrameStats>,
    /// The heap design's name.
    pub heap_design: &'static str,
    /// Heap counts.
    pub heap: HeapStats,
}

impl MemReport {
    /// Writes the report as `view` asks.
    pub fn write(&self, view: MemView, out: &mut impl fmt::Write) -> fmt::Result {
        match view {
            MemView::Human => self.write_human(out),
            MemView::Raw => self.write_raw(out),
        }
    }

    fn write_human(&self, out: &mut impl fmt::Write) -> fmt::Result {
        if let Some(frames) = self.frames {
            writeln!(
                out,
                "frames: {} usable ({}), {} free ({}), {} in use",
                frames.total,
                ByteSize(frames.total * PAGE_SIZE),
                frames.free,
                ByteSize(frames.free * PAGE_SIZE),
                frames.used()
            )?;
        }
        let heap = &self.heap;
        writeln!(
            out,
            "heap ({}): {} in use in {} blocks, peak {}",
            self.heap_design,
            ByteSize(heap.in_use as u64),
            heap.live,
            ByteSize(heap.peak as u64),
        )?;
        writeln!(
            out,
            "heap size: {} of at most {}; {} allocations, {} failed",
            ByteSize(heap.size as u64),
            ByteSize(heap.limit as u64),
            heap.allocations,
            heap.failed
        )
    }

    /// Keys never change meaning; new ones may be added at the end.
    fn write_raw(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "mem:")?;
        if let Some(frames) = self.frames {
            write!(
                out,
                " frames_total={} frames_free={} frames_used={} frame_bytes={}",
                frames.total,
                frames.free,
                frames.used(),
                PAGE_SIZE
            )?;
        }
        // Values hold no spaces, so a split on whitespace finds the pairs;
        // the design's name becomes an identifier (fixed_size_blocks).
        write!(out, " heap_design=")?;
        for c in self.heap_design.chars() {
            let c = if c.is_ascii_alphanumeric() { c } else { '_' };
            write!(out, "{}", c.to_ascii_lowercase())?;
        }
        let heap = &self.heap;
        writeln!(
            out,
            " heap_in_use_bytes={} heap_blocks={} heap_peak_bytes={} heap_size_bytes={} \
             heap_limit_bytes={} heap_allocations={} heap_failed={}",
            heap.in_use, heap.live, heap.peak, heap.size, heap.limit, heap.allocations, heap.failed
        )
    }
}

/// Parses one command line.
pub fn parse(line: &str) -> Result<Command<'_>, ParseError<'_>> {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim_start();
    let no_args = |command: Command<'static>, name: &'static str| {
        if rest.is_empty() {
            Ok(command)
        } else {
            Err(ParseError::UnexpectedArgument(name))
        }
    };
    match word {
        "" => Err(ParseError::Empty),
        "help" => no_args(Command::Help, "help"),
        "echo" => Ok(Command::Echo(rest)),
        "clear" => no_args(Command::Clear, "clear"),
        "uptime" => no_args(Command::Uptime, "uptime"),
        "mem" => match rest {
            "" => Ok(Command::Mem(MemView::Human)),
            "--raw" => Ok(Command::Mem(MemView::Raw)),
            _ => Err(ParseError::BadArgument {
                command: "mem",
                problem: "the only option is --raw",
            }),
        },
        "tasks" => no_args(Command::Tasks, "tasks"),
        "ps" => no_args(Command::Ps, "ps"),
        "spin" => no_args(Command::Spin, "spin"),
        "kill" => match rest.parse() {
            Ok(id) => Ok(Command::Kill(id)),
            Err(_) => Err(ParseError::BadArgument {
                command: "kill",
                problem: "a process or thread id (a number, as ps shows it)",
            }),
        },
        "ticks" => no_args(Command::Ticks, "ticks"),
        "irq" => no_args(Command::Irq, "irq"),
        "lspci" => no_args(Command::Lspci, "lspci"),
        "lsusb" => no_args(Command::Lsusb, "lsusb"),
        "reboot" => no_args(Command::Reboot, "reboot"),
        "shutdown" => no_args(Command::Shutdown, "shutdown"),
        "halt" => no_args(Command::Halt, "halt"),
        "sleep" => {
            let mut args = rest.split_whitespace();
            let bad = |problem| ParseError::BadArgument {
                command: "sleep",
                problem,
            };
            let arg = args.next().ok_or(bad("how long?"))?;
            if args.next().is_some() {
                return Err(bad("one argument only"));
            }
            parse_duration(arg).map(Command::Sleep).map_err(bad)
        }
        "ls" => super::files::parse_ls(rest),
        "cat" => super::files::parse_cat(rest),
        "run" => super::programs::parse_run(rest),
        other => Err(ParseError::Unknown(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn commands_parse() {
        assert_eq!(parse("help"), Ok(Command::Help));
        assert_eq!(parse("lspci"), Ok(Command::Lspci));
        assert_eq!(parse("lsusb"), Ok(Command::Lsusb));
        assert_eq!(parse("  mem  "), Ok(Command::Mem(MemView::Human)));
        assert_eq!(parse("mem --raw"), Ok(Command::Mem(MemView::Raw)));
        assert_eq!(
            parse("echo hello   world"),
            Ok(Command::Echo("hello   world"))
        );
        assert_eq!(parse("echo"), Ok(Command::Echo("")));
        assert_eq!(parse("sleep 2"), Ok(Command::Sleep(Duration::from_secs(2))));
        assert_eq!(
            parse("sleep 1.5"),
            Ok(Command::Sleep(Duration::from_millis(1500)))
        );
        assert_eq!(
            parse("sleep 250ms"),
            Ok(Command::Sleep(Duration::from_millis(250)))
        );
        assert_eq!(
            parse("sleep 0.25s"),
            Ok(Command::Sleep(Duration::from_millis(250)))
        );
        assert_eq!(parse(""), Err(ParseError::Empty));
        assert_eq!(parse("   "), Err(ParseError::Empty));
    }

    fn report(frames: Option<FrameStats>) -> MemReport {
        MemReport {
            frames,
            heap_design: "fixed-size blocks",
            heap: HeapStats {
                in_use: 3 << 10,
                peak: 5000,
                live: 7,
                allocations: 120,
                failed: 1,
                size: 512 << 10,
                limit: 64 << 20,
            },
        }
    }

    fn shown(report: &MemReport, view: MemView) -> std::string::String {
        let mut out = std::string::String::new();
        report.write(view, &mut out).unwrap();
        out
    }

    #[test]
    fn mem_reads_well_for_people() {
        let frames = FrameStats {
            total: 65_000,
            free: 64_000,
        };
        assert_eq!(
            shown(&report(Some(frames)), MemView::Human),
            "frames: 65000 usable (253.9 MiB), 64000 free (250 MiB), 1000 in use\n\
             heap (fixed-size blocks): 3 KiB in use in 7 blocks, peak 4.8 KiB\n\
             heap size: 512 KiB of at most 64 MiB; 120 allocations, 1 failed\n"
        );
        assert!(shown(&report(None), MemView::Human).starts_with("heap ("));
    }

    #[test]
    fn mem_raw_is_one_line_of_exact_pairs() {
        let frames = FrameStats {
            total: 65_000,
            free: 64_000,
        };
        let raw = shown(&report(Some(frames)), MemView::Raw);
        assert_eq!(
            raw,
            "mem: frames_total=65000 frames_free=64000 frames_used=1000 frame_bytes=4096 \
             heap_design=fixed_size_blocks heap_in_use_bytes=3072 heap_blocks=7 \
             heap_peak_bytes=5000 heap_size_bytes=524288 heap_limit_bytes=67108864 \
             heap_allocations=120 heap_failed=1\n"
        );
        // Every word after the tag is key=value, with no empty value.
        for pair in raw.trim_end().split(' ').skip(1) {
            let (key, value) = pair.split_once('=').unwrap();
            assert!(!key.is_empty() && !value.is_empty(), "{pair}");
        }
        let early = shown(&report(None), MemView::Raw);
        assert!(early.starts_with("mem: heap_design="), "{early}");
    }

    #[test]
    fn every_listed_command_parses() {
        for command in COMMANDS {
            let line = match command.name {
                "sleep" => "sleep 1",
                "cat" => "cat /etc/motd",
                "kill" => "kill 7",
                "run" => "run hello",
                name => name,
            };
            assert!(parse(line).is_ok(), "{line}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let message = |line| format!("{}", parse(line).unwrap_err());
        assert_eq!(
            message("frobnicate now"),
            "unknown command: frobnicate (type help for the list)"
        );
        assert_eq!(
            message("mem please"),
            "mem: the only option is --raw (usage: mem [--raw])"
        );
        assert_eq!(message("uptime please"), "uptime takes no arguments");
        assert_eq!(parse("kill 12"), Ok(Command::Kill(12)));
        assert_eq!(
            message("kill me"),
            "kill: a process or thread id (a number, as ps shows it) (usage: kill ID)"
        );
        assert_eq!(message("ps -a"), "ps takes no arguments");
        assert_eq!(message("sleep"), "sleep: how long? (usage: sleep N[ms])");
        assert_eq!(
            message("sleep soon"),
            "sleep: not a number (usage: sleep N[ms])"
        );
        assert_eq!(
            message("sleep -1"),
            "sleep: not a number (usage: sleep N[ms])"
        );
        assert_eq!(
            message("sleep 1 2"),
            "sleep: one argument only (usage: sleep N[ms])"
        );
        assert_eq!(
            message("sleep 99999"),
            "sleep: at most one hour (usage: sleep N[ms])"
        );
        assert_eq!(
            message("sleep 99999999999999999999999"),
            "sleep: number too large (usage: sleep N[ms])"
        );
    }
}
