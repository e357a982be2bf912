//! The shell: a prompt on the screen and the serial console, a line editor
//! fed by both the PS/2 keyboard and the serial port, and the commands in
//! [`command::COMMANDS`]. Mistakes get a one-line error and a new prompt.

pub mod command;
pub mod editor;
pub mod keys;

use futures_util::StreamExt;
use futures_util::stream;

use self::command::{COMMANDS, Command, MemReport, MemView, ParseError};
use self::editor::LineEditor;
use self::keys::SerialKeys;
use super::executor;
use super::input;
use super::timer::{self as task_timer, Interval};
use crate::drivers::keyboard::KeyDecoder;
use crate::drivers::{ps2, serial};
use crate::interrupts::{pic, timer};
use crate::memory::{self, heap};
use crate::{arch, console, print, println};

/// What the prompt says.
pub const PROMPT: &str = "pyrite> ";

enum Input {
    Scancode(u8),
    Serial(u8),
}

/// The shell task: reads keys from both consoles forever.
pub async fn run() {
    let mut keyboard = KeyDecoder::new();
    let mut serial_keys = SerialKeys::new();
    let mut editor = LineEditor::new();
    let mut inputs = stream::select(
        input::scancodes().map(Input::Scancode),
        input::serial_bytes().map(Input::Serial),
    );
    print!("{PROMPT}");
    while let Some(input) = inputs.next().await {
        let key = match input {
            Input::Scancode(code) => keyboard.decode(code).and_then(keys::from_keyboard),
            Input::Serial(byte) => serial_keys.feed(byte),
        };
        let Some(key) = key else { continue };
        let edit = editor.key(key);
        print!("{}", edit.echo);
        if let Some(line) = edit.line {
            execute(&line).await;
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
        }
        Command::Echo(text) => println!("{text}"),
        Command::Clear => console::clear(),
        Command::Uptime => {
            let up = timer::uptime();
            println!(
                "up {}.{:02} s ({} ticks at {} Hz)",
                up.as_secs(),
                up.subsec_millis() / 10,
                timer::ticks(),
                timer::TIMER_HZ
            );
        }
        Command::Mem(view) => print_memory(view),
        Command::Tasks => print_tasks(),
        Command::Ticks => println!("{} ticks", timer::ticks()),
        Command::Irq => print_interrupts(),
        Command::Sleep(duration) => {
            let start = timer::ticks();
            task_timer::sleep(duration).await;
            println!(
                "slept {} ticks ({} ms asked)",
                timer::ticks() - start,
                duration.as_millis()
            );
        }
        Command::Reboot => {
            println!("rebooting...");
            ps2::pulse_reset_line();
            // Give the controller a moment, then force it.
            task_timer::sleep(core::time::Duration::from_millis(100)).await;
            println!("the keyboard controller did not reset the machine; forcing a triple fault");
            arch::triple_fault();
        }
        Command::Halt => {
            println!("halted: it is now safe to turn off the machine");
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
    println!("timer: {} ticks at {} Hz", timer::ticks(), timer::TIMER_HZ);
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
    println!(
        "spurious IRQs: {}, unexpected interrupts: {}",
        pic::spurious_count(),
        pic::unexpected_count()
    );
}

/// Reports input dropped because a queue was full, once a second.
pub async fn watch_input_drops() {
    let mut interval = Interval::new(core::time::Duration::from_secs(1));
    let (mut keyboard, mut serial_in) = (0, 0);
    loop {
        interval.tick().await;
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
