//! The shell: a prompt on the screen and the serial console, a line editor
//! fed by both the PS/2 keyboard and the serial port, and the commands in
//! [`command::COMMANDS`]. Mistakes get a one-line error and a new prompt.
//! A command runs in the [`foreground`]: Ctrl-C on either console stops
//! it, and keys typed meanwhile are kept for the editor.

pub mod command;
pub mod editor;
pub mod foreground;
pub mod keys;

use futures_util::stream::{self, Stream};
use futures_util::{StreamExt, pin_mut};

use self::command::{COMMANDS, Command, MemReport, MemView, ParseError};
use self::editor::LineEditor;
use self::foreground::{KeySource, Outcome, TYPE_AHEAD, TypeAhead};
use self::keys::{Key, SerialKeys};
use super::executor;
use super::input;
use super::timer as task_timer;
use crate::drivers::keyboard::KeyDecoder;
use crate::drivers::{ps2, serial};
use crate::interrupts::{apic, irq, pic, timer};
use crate::memory::{self, heap};
use crate::{arch, console, print, println};

/// What the prompt says.
pub const PROMPT: &str = "pyrite> ";

/// What `halt` says before it stops the CPU: what happened, and how to
/// get out of QEMU, which keeps running around a halted machine.
pub const HALTED: &str = "Pyrite has halted: it is now safe to turn the machine off.\n\
    (In QEMU: close its window, or press Ctrl-A then X where it runs in a terminal.)";

enum Input {
    Scancode(u8),
    Serial(u8),
}

/// Keys from both consoles: the PS/2 keyboard's scancodes and the serial
/// port's bytes, each through its decoder.
struct ConsoleKeys<S> {
    inputs: S,
    keyboard: KeyDecoder,
    serial: SerialKeys,
}

impl<S: Stream<Item = Input> + Unpin> KeySource for ConsoleKeys<S> {
    /// Cancel-safe: its only wait is for the next byte, and a byte taken is
    /// decoded before anything else can happen.
    async fn next_key(&mut self) -> Option<Key> {
        loop {
            let key = match self.inputs.next().await? {
                Input::Scancode(code) => self.keyboard.decode(code).and_then(keys::from_keyboard),
                Input::Serial(byte) => self.serial.feed(byte),
            };
            if key.is_some() {
                return key;
            }
        }
    }
}

/// The shell task: reads keys from both consoles forever.
pub async fn run() {
    let inputs = stream::select(
        input::scancodes().map(Input::Scancode),
        input::serial_bytes().map(Input::Serial),
    );
    pin_mut!(inputs);
    let mut keys = ConsoleKeys {
        inputs,
        keyboard: KeyDecoder::new(),
        serial: SerialKeys::new(),
    };
    let mut editor = LineEditor::new();
    let mut ahead = TypeAhead::new();
    print!("{PROMPT}");
    loop {
        let key = match ahead.pop() {
            Some(key) => key,
            None => match keys.next_key().await {
                Some(key) => key,
                None => return,
            },
        };
        let edit = editor.key(key);
        print!("{}", edit.echo);
        if let Some(line) = edit.line {
            if foreground::run(execute(&line), &mut keys, &mut ahead).await == Outcome::Cancelled {
                println!("^C");
            }
            if let Some(dropped) = ahead.take_dropped() {
                println!(
                    "({dropped} keys typed during the command were dropped: \
                     at most {TYPE_AHEAD} are kept)"
                );
            }
            print!("{PROMPT}");
        }
    }
}

/// Runs one command line.
pub async fn execute(line: &str) {
    match command::parse(line) {
        Ok(command) => run_command(command).await,
        Err(ParseError::Empty) => {}
        Err(err) => println!("{err}"),
    }
}

async fn run_command(command: Command<'_>) {
    match command {
        Command::Help => {
            println!("commands:");
            for c in COMMANDS {
                let usage = if c.args.is_empty() {
                    c.name.into()
                } else {
                    alloc::format!("{} {}", c.name, c.args)
                };
                println!("  {usage:<14} {}", c.about);
            }
            println!("Ctrl-C stops a running command; keys typed meanwhile are kept.");
        }
        Command::Echo(text) => println!("{text}"),
        Command::Clear => console::clear(),
        Command::Uptime => {
            let up = timer::now();
            println!(
                "up {}.{:03} s (by the TSC; {} timer interrupts, {})",
                up.as_secs(),
                up.subsec_millis(),
                timer::interrupt_count(),
                timer::source()
            );
        }
        Command::Mem(view) => print_memory(view),
        Command::Tasks => print_tasks(),
        Command::Ticks => println!("{} timer interrupts", timer::interrupt_count()),
        Command::Irq => print_interrupts(),
        Command::Sleep(duration) => {
            let start = timer::now();
            task_timer::sleep(duration).await;
            let slept = timer::now() - start;
            println!(
                "slept {}.{:03} ms by the TSC ({} ms asked)",
                slept.as_millis(),
                slept.subsec_micros() % 1000,
                duration.as_millis()
            );
        }
        Command::Reboot => {
            println!("rebooting... the machine restarts now");
            console::drain_before_stop();
            ps2::pulse_reset_line();
            // Give the controller a moment, then force it.
            task_timer::sleep(core::time::Duration::from_millis(100)).await;
            println!("the keyboard controller did not reset the machine; forcing a triple fault");
            arch::triple_fault();
        }
        Command::Halt => {
            println!("{HALTED}");
            console::drain_before_stop();
            // Interrupts off: no key, tick or task runs after this.
            arch::halt_forever();
        }
    }
}

fn print_memory(view: MemView) {
    let report = MemReport {
        frames: memory::with(|mem| mem.frames.stats()),
        heap_design: heap::design_name(),
        heap: heap::stats(),
    };
    let mut text = alloc::string::String::new();
    // Writing into a String cannot fail.
    let _ = report.write(view, &mut text);
    print!("{text}");
}

fn print_tasks() {
    let tasks = super::list();
    println!("{:>6} {:>8}  name", "id", "polls");
    for task in &tasks {
        println!("{:>6} {:>8}  {}", task.id.as_u64(), task.polls, task.name);
    }
    let counts = executor::counts();
    println!("{} running, {} finished", counts.alive, counts.finished);
}

fn print_interrupts() {
    println!(
        "controller: {}; timer: {}, {} interrupts ({} with nothing due)",
        irq::mode(),
        timer::source(),
        timer::interrupt_count(),
        timer::idle_interrupt_count()
    );
    if irq::mode() == irq::Mode::Apic {
        println!(
            "APIC: {} errors, {} spurious",
            apic::local::error_count(),
            apic::local::spurious_count()
        );
    }
    println!(
        "keyboard: {} scancodes dropped (queue of {})",
        ps2::SCANCODES.dropped(),
        ps2::SCANCODES.capacity()
    );
    println!(
        "serial: {} bytes dropped (queue of {})",
        serial::INPUT.dropped(),
        serial::INPUT.capacity()
    );
    let (out_dropped, out_capacity) = serial::output_dropped();
    println!(
        "serial output: {out_dropped} bytes dropped while the line was stalled (buffer of {out_capacity})"
    );
    println!(
        "spurious IRQs: {}, unexpected interrupts: {}",
        pic::spurious_count(),
        pic::unexpected_count()
    );
}

/// Reports input dropped because a queue was full, at most once a second
/// and only while input is being read (drops happen only then): an idle
/// machine sets no timer for it.
pub async fn watch_input_drops() {
    let (mut keyboard, mut serial_in) = (0, 0);
    loop {
        input_read().await;
        task_timer::sleep(core::time::Duration::from_secs(1)).await;
        let (k, s) = (ps2::SCANCODES.dropped(), serial::INPUT.dropped());
        if k != keyboard {
            log::warn!(
                "keyboard: {} scancodes dropped (typed faster than read)",
                k - keyboard
            );
        }
        if s != serial_in {
            log::warn!(
                "serial: {} bytes dropped (sent faster than read)",
                s - serial_in
            );
        }
        (keyboard, serial_in) = (k, s);
    }
}

/// Completes once an input stream has handed out a byte since the call.
async fn input_read() {
    let mut registered = false;
    core::future::poll_fn(|cx| {
        if registered {
            return core::task::Poll::Ready(());
        }
        super::input::INPUT_READ.register(cx.waker());
        registered = true;
        core::task::Poll::Pending
    })
    .await;
}
