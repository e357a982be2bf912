#!/usr/bin/env python3
"""Starts QEMU the way every Pyrite tool does, and drives it from outside.

As a command:
  tools/qemu.py run   [--firmware bios|uefi] [--memory 128M] ISO
  tools/qemu.py debug [--firmware bios|uefi] [--gdb-port 1234] KERNEL_ELF ISO
  tools/qemu.py facts   (what the tools read from the kernel's sources)

As a module, `Machine` boots an ISO headless with its serial port and QMP
socket in reach, for the test runner and the system tests.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import facts
import relay

ROOT = Path(__file__).resolve().parent.parent

# QEMU's isa-debug-exit device turns a kernel's write of v to port 0xf4 into
# exit status (v << 1) | 1; the kernel's QemuExitCode defines v.
EXIT_DEVICE = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def _exit_status(variant):
    return (facts.rust_enum_value("src/testing.rs", "QemuExitCode", variant) << 1) | 1


EXIT_SUCCESS = _exit_status("Success")
EXIT_FAILURE = _exit_status("Failed")
# What the shell prompts with, and the words of the boot's last log line.
PROMPT = facts.rust_const("src/task/shell/mod.rs", "PROMPT")
READY = facts.rust_const("src/init.rs", "READY_TEXT")

# Where distributions put OVMF, one path a line; tools/setup reads it too.
OVMF_CANDIDATES = [line.strip() for line in (ROOT / "tools" / "ovmf-paths").read_text().splitlines()
                   if line.strip() and not line.startswith("#")]


def qemu_binary():
    path = shutil.which("qemu-system-x86_64")
    if not path:
        sys.exit("qemu-system-x86_64 is missing: run tools/setup "
                 "(or: sudo apt-get install qemu-system-x86)")
    return path


def ovmf_firmware():
    """The OVMF (UEFI) firmware image, or exit with how to install it."""
    override = os.environ.get("PYRITE_OVMF")
    for candidate in ([override] if override else []) + OVMF_CANDIDATES:
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("UEFI firmware (OVMF) is missing: run tools/setup "
             "(or: sudo apt-get install ovmf), or set PYRITE_OVMF")


def firmware_args(firmware):
    if firmware == "bios":
        return []
    if firmware == "uefi":
        return ["-bios", ovmf_firmware()]
    raise ValueError(f"unknown firmware {firmware!r} (bios or uefi)")


def base_args(iso, firmware="bios", memory="128M", cpu=None, media="cdrom", reset_ends=True):
    """QEMU arguments shared by every way of booting an ISO. With
    `reset_ends` (tests), a reset ends QEMU (-no-reboot) instead of
    restarting the machine, so a crash cannot loop."""
    args = [qemu_binary(), "-m", memory] + (["-no-reboot"] if reset_ends else [])
    args += firmware_args(firmware)
    if cpu:
        args += ["-cpu", cpu]
    if media == "cdrom":
        # Straight to the CD: SeaBIOS would first try (and report failing
        # on) the hard disk and the floppy.
        args += ["-cdrom", str(iso), "-boot", "d"]
    elif media == "disk":
        args += ["-drive", f"file={iso},format=raw,if=ide,snapshot=on"]
    elif media == "usb":
        args += ["-drive", f"if=none,id=stick,format=raw,file={iso},snapshot=on",
                 "-device", "qemu-xhci", "-device", "usb-storage,drive=stick"]
    else:
        raise ValueError(f"unknown media {media!r}")
    return args + EXIT_DEVICE


class Machine:
    """A headless QEMU: serial output collected, QMP for keys and screenshots.

    Use as a context manager; the machine is killed on exit.
    """

    def __init__(self, iso, firmware="bios", memory="128M", cpu=None,
                 media="cdrom", extra=(), serial="stdio", reset_ends=True):
        """`serial="stdio"` collects COM1's output from the start. With
        `serial="socket"`, COM1 is a unix socket whose client (this object)
        connects before the guest starts but reads nothing until
        `start_reading_serial()`: a terminal that does not read, so the
        guest's output backs up as on a stalled line. With `reset_ends`
        false, a reset restarts the machine as on a real one (no
        -no-reboot)."""
        if serial not in ("stdio", "socket"):
            raise ValueError(f"unknown serial {serial!r} (stdio or socket)")
        self.workdir = Path(tempfile.mkdtemp(prefix="pyrite-qemu-"))
        self.qmp_path = self.workdir / "qmp.sock"
        self.serial_kind = serial
        self.serial_path = self.workdir / "com1.sock"
        if serial == "stdio":
            serial_args = ["-serial", "stdio"]
        else:
            # -S: the guest waits until the client is connected.
            serial_args = ["-chardev", f"socket,id=com1,path={self.serial_path},server=on,wait=off",
                           "-serial", "chardev:com1", "-S"]
        self.args = base_args(iso, firmware, memory, cpu, media, reset_ends) + [
            "-display", "none",
        ] + serial_args + [
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
        ] + list(extra)
        self.output = bytearray()
        self.lock = threading.Lock()
        self.process = None
        self.qmp = None
        self.serial_socket = None
        self.started = None

    def __enter__(self):
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        if self.serial_kind == "stdio":
            threading.Thread(target=self._collect, daemon=True).start()
        else:
            self.serial_socket = self._connect(self.serial_path)
            self.command("cont")
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.qmp:
            self.qmp.close()
            self.qmp = None
        if self.serial_socket:
            self.serial_socket.close()
            self.serial_socket = None
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _collect(self, read=None):
        read = read or self.process.stdout.read1
        while True:
            try:
                chunk = read(4096)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.output += chunk

    def start_reading_serial(self):
        """With `serial="socket"`: starts reading COM1 (until then the
        guest's output backs up)."""
        sock = self.serial_socket
        threading.Thread(target=self._collect, args=(sock.recv,), daemon=True).start()

    def send_serial(self, data):
        """Sends bytes to the guest's COM1, as a terminal would."""
        data = data if isinstance(data, bytes) else data.encode()
        if self.serial_socket:
            self.serial_socket.sendall(data)
            return
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def text(self):
        """Everything the serial port said so far, CR LF folded to LF."""
        with self.lock:
            return self.output.decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(self, needle, timeout):
        """Seconds from QEMU's start until `needle` appears on serial, or None
        if it did not within `timeout` seconds or QEMU ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return time.monotonic() - self.started
            if self.process.poll() is not None:
                time.sleep(0.1)  # let the reader thread drain the pipe
                return (time.monotonic() - self.started) if needle in self.text() else None
            time.sleep(0.01)
        return None

    def wait_exit(self, timeout):
        """QEMU's exit status, or None if it still runs after `timeout` s."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def running(self):
        return self.process.poll() is None

    # --- QMP -------------------------------------------------------------
    @staticmethod
    def _connect(path):
        """A client socket connected to QEMU's unix socket at `path`, once
        QEMU has made it."""
        deadline = time.monotonic() + 10
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(str(path))
                return sock
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _qmp_connect(self):
        self.qmp = self._connect(self.qmp_path).makefile("rw")
        json.loads(self.qmp.readline())  # greeting
        self.command("qmp_capabilities")

    def command(self, name, **arguments):
        """Runs one QMP command and returns its result."""
        if self.qmp is None and name != "qmp_capabilities":
            self._qmp_connect()
        message = {"execute": name}
        if arguments:
            message["arguments"] = arguments
        self.qmp.write(json.dumps(message) + "\n")
        self.qmp.flush()
        while True:
            reply = json.loads(self.qmp.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError(f"QMP {name}: {reply['error']}")
            # anything else is an asynchronous event: skip it

    def monitor(self, line):
        """Runs a human monitor command (e.g. `xp /8hx 0xb8000`)."""
        return self.command("human-monitor-command", **{"command-line": line})

    def send_key(self, *qcodes):
        """Presses the keys together, then releases them (QMP send-key),
        e.g. send_key("shift", "a")."""
        self.command("send-key", keys=[{"type": "qcode", "data": q} for q in qcodes])

    def type_text(self, keys):
        """Types a sequence of keys, each a qcode or a tuple of qcodes."""
        for key in keys:
            self.send_key(*(key if isinstance(key, tuple) else (key,)))

    QCODES = {" ": "spc", "\n": "ret", "-": "minus", ".": "dot", "/": "slash", "=": "equal"}

    def type_line(self, line):
        """Types plain text (lower-case letters, digits, space, - . / =)
        on the PS/2 keyboard, then Enter."""
        self.type_text([self.QCODES.get(c, c) for c in line] + ["ret"])

    def screendump(self, path):
        self.command("screendump", filename=str(path))

    def vga_text_line(self, row):
        """The characters of one row of the VGA text buffer in guest memory."""
        reply = self.monitor(f"xp /80hx {0xB8000 + row * 160:#x}")
        cells = [int(word, 16) for line in reply.splitlines()
                 for word in line.split(":", 1)[1].split()]
        return "".join(chr(cell & 0xFF) if 32 <= cell & 0xFF < 127 else " "
                       for cell in cells).rstrip()


# The console of an interactive run: the guest's COM1 and QEMU's monitor
# share this terminal. Every key goes to the guest, Ctrl-C too (signal=off);
# Ctrl-A X quits QEMU, Ctrl-A C switches between the console and the monitor.
CONSOLE = ["-chardev", "stdio,id=console,mux=on,signal=off",
           "-serial", "chardev:console", "-mon", "chardev=console,mode=readline"]
QUIT_HINT = "quit: Ctrl-A then X in the terminal"


def has_display():
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_interactive(iso, firmware="bios", memory="128M"):
    """Boots `iso` for a person at the keyboard; returns QEMU's exit status."""
    # A person's machine restarts on reset (the shell's reboot).
    args = base_args(iso, firmware, memory, reset_ends=False) + CONSOLE
    if has_display():
        # The window's title tells how to quit, since Ctrl-C no longer does.
        args += ["-name", f"Pyrite - {QUIT_HINT}"]
        print("Pyrite runs in the QEMU window; its serial console is this terminal too.")
    else:
        # -nographic also puts the firmware's and GRUB's screen on the
        # console (SeaBIOS mirrors it to serial; OVMF does anyway).
        args += ["-nographic"]
        print("No display: Pyrite's serial console is this terminal.")
    print("Keys go to Pyrite, Ctrl-C too. Quit with Ctrl-A then X; "
          "Ctrl-A C toggles the QEMU monitor.", flush=True)
    status = relay.run(args)
    print()
    return status


def command_run(options):
    return run_interactive(options.iso, options.firmware, options.memory)


def command_debug(options):
    """QEMU stopped before the first instruction, waiting for GDB on this
    machine only (not on every interface, as -s would)."""
    args = base_args(options.iso, options.firmware, options.memory) + CONSOLE
    args += ["-display", "none", "-gdb", f"tcp:127.0.0.1:{options.gdb_port}", "-S"]
    print(f"QEMU waits for GDB on 127.0.0.1:{options.gdb_port}. In another terminal run:")
    print(f"  gdb {options.kernel} -ex 'target remote 127.0.0.1:{options.gdb_port}' "
          "-ex 'break kernel_main' -ex continue")
    print("(the 32-bit boot code runs at physical addresses: 'set architecture i386' "
          "and hbreak at the nm address minus 0xffffffff80000000; see docs/debugging.md.)")
    print("This terminal is Pyrite's serial console: Ctrl-A then X quits, "
          "Ctrl-A C toggles the QEMU monitor.", flush=True)
    return relay.run(args)


def command_facts(_options):
    print(f"exit status on success: {EXIT_SUCCESS}, on failure: {EXIT_FAILURE}")
    print(f"prompt: {PROMPT!r}; ready line: {READY!r}")
    print(f"OVMF: {' or '.join(OVMF_CANDIDATES)}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "debug"):
        p = sub.add_parser(name)
        p.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
        p.add_argument("--memory", default="128M")
        if name == "debug":
            p.add_argument("--gdb-port", type=int, default=1234)
            p.add_argument("kernel")
        p.add_argument("iso")
    sub.add_parser("facts", help="print what the tools read from the kernel's sources")
    options = parser.parse_args()
    return {"run": command_run, "debug": command_debug,
            "facts": command_facts}[options.command](options)


if __name__ == "__main__":
    sys.exit(main())
