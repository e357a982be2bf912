//! The shell: a prompt on the screen and the serial console, a line editor
//! fed by the PS/2 keyboard, USB keyboards and the serial port, and the
//! commands in [`command::COMMANDS`]. Mistakes get a one-line error and a new prompt.
//! A command runs in the [`foreground`]: Ctrl-C on either console stops
//! it, and keys typed meanwhile are kept for the editor.

pub mod command;
pub mod editor;
pub mod files;
pub mod foreground;
pub mod keys;
mod programs;
mod threads;

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
use crate::drivers::{pci, ps2, serial, usb};
use crate::interrupts::{apic, irq, pic, timer};
use crate::memory::{self, heap};
use crate::{acpi, arch, console, print, println};

/// What `shutdown` says before it turns the machine off.
pub const POWERING_OFF: &str = "powering off through ACPI (S5)... goodbye";

/// What the prompt says.
pub const PROMPT: &str = "pyrite> ";

/// What `halt` says before it stops the CPU: what happened, and how to
/// get out of QEMU, which keeps running around a halted machine.
pub const HALTED: &str = "Pyrite has halted: it is now safe to turn the machine off.\n\
    (In QEMU: close its window, or press Ctrl-A then X where it runs in a terminal.)";

enum Input {
    Scancode(u8),
    UsbScancode(u8),
    Serial(u8),
}

/// Keys from both consoles: the PS/2 keyboard's scancodes, USB keyboards'
/// scancodes (the same set 1, through a decoder of their own, so that a
/// modifier held on one keyboard does not change the other's keys) and the
/// serial port's bytes.
struct ConsoleKeys<S> {
    inputs: S,
    keyboard: KeyDecoder,
    usb_keyboard: KeyDecoder,
    serial: SerialKeys,
}

impl<S: Stream<Item = Input> + Unpin> KeySource for ConsoleKeys<S> {
    /// Cancel-safe: its only wait is for the next byte, and a byte taken is
    /// decoded before anything else can happen.
    async fn next_key(&mut self) -> Option<Key> {
        loop {
            let key = match self.inputs.next().await? {
                Input::Scancode(code) => self.keyboard.decode(code).and_then(keys::from_keyboard),
                Input::UsbScancode(code) => {
                    self.usb_keyboard.decode(code).and_then(keys::from_keyboard)
                }
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
    let keyboards = stream::select(
        input::scancodes().map(Input::Scancode),
        input::usb_scancodes().map(Input::UsbScancode),
    );
    let inputs = stream::select(keyboards, input::serial_bytes().map(Input::Serial));
    pin_mut!(inputs);
    let mut keys = ConsoleKeys {
        inputs,
        keyboard: KeyDecoder::new(),
        usb_keyboard: KeyDecoder::new(),
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
            let mut keys = programs::ProgramKeys(&mut keys);
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
            println!("kill ends only killable threads (spin's): they hold no lock or memory.");
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
        Command::Ps => threads::ps(),
        Command::Spin => threads::spin(),
        Command::Kill(id) => programs::kill(id),
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
        Command::Ls(dir) => list_directory(dir.unwrap_or("/")),
        Command::Cat { path, hex } => print_file(path, hex),
        Command::Run { words, background } => programs::run(words, background).await,
        Command::Lspci => {
            for function in pci::functions() {
                println!("{function}");
            }
        }
        Command::Lsusb => usb::print_lsusb(),
        Command::Reboot => {
            println!("rebooting... the machine restarts now");
            console::drain_before_stop();
            acpi::power::reboot();
        }
        Command::Shutdown => shutdown(),
        Command::Halt => {
            println!("{HALTED}");
            console::drain_before_stop();
            // Interrupts off: no key, tick or task runs after this.
            arch::halt_forever();
        }
    }
}

/// Turns the machine off through ACPI, or says why it cannot.
fn shutdown() {
    let request = match acpi::power::prepare_shutdown() {
        Ok(request) => request,
        Err(err) => {
            println!("shutdown: cannot power off: {err}; halt stops the CPU instead");
            return;
        }
    };
    if request.acpi_mode_late {
        println!("shutdown: the firmware did not confirm ACPI mode; trying anyway");
    }
    println!("{POWERING_OFF}");
    console::drain_before_stop();
    let err = request.power_off();
    println!("shutdown: {err}; halt stops the CPU instead");
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

fn list_directory(dir: &str) {
    let Some(tree) = crate::fs::files() else {
        println!("ls: there are no files yet");
        return;
    };
    match tree.list(dir) {
        Ok(entries) if entries.is_empty() => println!("(no files)"),
        Ok(entries) => {
            let mut text = alloc::string::String::new();
            // Writing into a String cannot fail.
            let _ = files::write_listing(&entries, &mut text);
            print!("{text}");
        }
        Err(err) => println!("ls: {dir}: {err}"),
    }
}

fn print_file(path: &str, hex: bool) {
    let file = match crate::fs::files().map(|tree| tree.open(path)) {
        Some(Ok(file)) => file,
        Some(Err(err)) => return println!("cat: {path}: {err}"),
        None => return println!("cat: there are no files yet"),
    };
    let bytes = file.bytes();
    if hex {
        let mut text = alloc::string::String::new();
        let _ = files::write_hexdump(bytes, &mut text);
        print!("{text}");
    } else if files::is_text(bytes) {
        print!("{}", core::str::from_utf8(bytes).unwrap_or_default());
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            println!();
        }
    } else {
        println!(
            "cat: {path} is not text ({}); cat -x {path} shows it in hex",
            crate::units::ByteSize(file.len())
        );
    }
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
        "usb keyboards: {} scancodes dropped (queue of {})",
        usb::hid::SCANCODES.dropped(),
        usb::hid::SCANCODES.capacity()
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
    let (mut keyboard, mut usb_keys, mut serial_in) = (0, 0, 0);
    loop {
        input_read().await;
        task_timer::sleep(core::time::Duration::from_secs(1)).await;
        let (k, s) = (ps2::SCANCODES.dropped(), serial::INPUT.dropped());
        let u = usb::hid::SCANCODES.dropped();
        if k != keyboard {
            log::warn!(
                "keyboard: {} scancodes dropped (typed faster than read)",
                k - keyboard
            );
        }
        if u != usb_keys {
            log::warn!(
                "usb keyboards: {} scancodes dropped (typed faster than read)",
                u - usb_keys
            );
        }
        if s != serial_in {
            log::warn!(
                "serial: {} bytes dropped (sent faster than read)",
                s - serial_in
            );
        }
        (keyboard, usb_keys, serial_in) = (k, u, s);
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
