#!/usr/bin/env python3
"""Starts QEMU the way every Pyrite tool does, and drives it from outside.

As a command:
  tools/qemu.py run   [--firmware bios|uefi] [--memory 128M] ISO
  tools/qemu.py debug [--firmware bios|uefi] KERNEL_ELF ISO

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

ROOT = Path(__file__).resolve().parent.parent

# QEMU's isa-debug-exit device turns a kernel's write of v to port 0xf4 into
# exit status (v << 1) | 1: 0x10 -> 33 (success), 0x11 -> 35 (failure).
EXIT_DEVICE = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
EXIT_SUCCESS = 33
EXIT_FAILURE = 35

OVMF_CANDIDATES = [
    "/usr/share/ovmf/OVMF.fd",
    "/usr/share/OVMF/OVMF.fd",
    "/usr/share/qemu/OVMF.fd",
    "/usr/share/edk2/ovmf/OVMF.fd",
    "/usr/share/edk2-ovmf/x64/OVMF.fd",
]


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


def base_args(iso, firmware="bios", memory="128M", cpu=None, media="cdrom"):
    """QEMU arguments shared by every way of booting an ISO."""
    args = [qemu_binary(), "-m", memory, "-no-reboot"] + firmware_args(firmware)
    if cpu:
        args += ["-cpu", cpu]
    if media == "cdrom":
        args += ["-cdrom", str(iso)]
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
                 media="cdrom", extra=(), serial="stdio"):
        """`serial="stdio"` collects COM1's output from the start. With
        `serial="socket"`, COM1 is a unix socket whose client (this object)
        connects before the guest starts but reads nothing until
        `start_reading_serial()`: a terminal that does not read, so the
        guest's output backs up as on a stalled line."""
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
        self.args = base_args(iso, firmware, memory, cpu, media) + [
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


def command_run(options):
    args = base_args(options.iso, options.firmware, options.memory)
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        print("Pyrite runs in a QEMU window; its serial console is mirrored here.")
        args += ["-serial", "stdio"]
    else:
        print("No display: Pyrite's serial console runs in this terminal. "
              "Quit QEMU with Ctrl-A then X.")
        args += ["-nographic"]
    os.execv(args[0], args)


def command_debug(options):
    args = base_args(options.iso, options.firmware, options.memory)
    args += ["-serial", "stdio", "-display", "none", "-s", "-S"]
    print("QEMU waits for GDB on localhost:1234. In another terminal run:")
    print(f"  gdb {options.kernel} -ex 'target remote :1234' "
          "-ex 'break kernel_main' -ex continue")
    print("(the 32-bit boot code needs 'set architecture i386' and hbreak.)")
    sys.stdout.flush()
    os.execv(args[0], args)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "debug"):
        p = sub.add_parser(name)
        p.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
        p.add_argument("--memory", default="128M")
        if name == "debug":
            p.add_argument("kernel")
        p.add_argument("iso")
    options = parser.parse_args()
    {"run": command_run, "debug": command_debug}[options.command](options)


if __name__ == "__main__":
    main()
