"""Relays a terminal to an interactive QEMU's serial console and back.

QEMU's stdio carries the guest's COM1 multiplexed with QEMU's monitor: every
key goes to the guest (Ctrl-C too), and Ctrl-A X quits, Ctrl-A C switches to
the monitor. The relay sits between the terminal and QEMU for one reason:
the firmware's own console output (SeaBIOS, OVMF) resets the terminal,
clears the screen and moves the cursor, wiping whatever the terminal showed
before. Until the kernel's first log line, such escape sequences are dropped;
from then on every byte passes (the kernel's `clear` clears), except a
terminal reset and line-wrap-off, which the firmware sends again on a reboot
and the kernel never sends.
"""

import os
import re
import select
import signal
import subprocess
import sys
import termios

# ESC [ parameters intermediates final (CSI), or ESC and one character.
ESCAPE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|[^\[])")
# What an escape sequence cut off at the end of a chunk can look like.
PARTIAL_ESCAPE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*)?")
# Dropped all along: a full terminal reset (ESC c) and line wrap off.
ALWAYS_DROPPED = (b"\x1bc", b"\x1b[?7l")
# The kernel's log lines start with an uptime stamp: "[   0.004783] ".
KERNEL_LINE = re.compile(rb"\[ *[0-9]+\.[0-9]+\] ")


class FirmwareFilter:
    """Drops escape sequences from a byte stream until a kernel log line
    begins; then passes everything."""

    def __init__(self):
        self.passing = False
        self.pending = b""  # an escape sequence not yet complete
        self.line = b""  # the current line so far

    def feed(self, data):
        data = self.pending + data
        self.pending = b""
        if self.passing:
            return self._drop_always_dropped(data)
        out = bytearray()
        i = 0
        while i < len(data):
            if data[i] == 0x1B:
                match = ESCAPE.match(data, i)
                if match:
                    i = match.end()
                    continue
                if PARTIAL_ESCAPE.fullmatch(data, i):
                    self.pending = data[i:]
                    break
                i += 1  # a stray ESC
                continue
            byte = data[i:i + 1]
            out += byte
            i += 1
            self.line = b"" if byte in b"\r\n" else self.line + byte
            if KERNEL_LINE.match(self.line):
                self.passing = True
                out += self._drop_always_dropped(data[i:])
                break
        return bytes(out)

    def _drop_always_dropped(self, data):
        for sequence in ALWAYS_DROPPED:
            data = data.replace(sequence, b"")
        # Serial output comes a byte at a time: hold back what may be the
        # start of a sequence to drop.
        for cut in range(max(0, len(data) - 4), len(data)):
            if any(s.startswith(data[cut:]) for s in ALWAYS_DROPPED):
                self.pending = data[cut:]
                return data[:cut]
        return data


def _raw_mode(fd):
    """Puts the terminal in raw mode (keys unprocessed, no echo, Ctrl-C a
    byte for the guest; the guest sends CR LF itself); returns the old mode."""
    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR | termios.IXON | termios.ISTRIP)
    new[1] &= ~termios.ONLCR
    new[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)
    new[6][termios.VMIN] = 1
    new[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, new)
    return old


def _copy(qemu, stdin_fd, stdout_fd, filter_):
    """Copies keys to QEMU and its output back until QEMU closes stdout."""
    sources = [qemu.stdout.fileno(), stdin_fd]
    while True:
        ready, _, _ = select.select(sources, [], [])
        if qemu.stdout.fileno() in ready:
            data = os.read(qemu.stdout.fileno(), 65536)
            if not data:
                return
            os.write(stdout_fd, filter_.feed(data))
        if stdin_fd in ready:
            data = os.read(stdin_fd, 4096)
            if not data:  # the input ended (not a terminal): stop reading it
                sources.remove(stdin_fd)
                qemu.stdin.close()
                continue
            try:
                os.write(qemu.stdin.fileno(), data)
            except BrokenPipeError:
                sources.remove(stdin_fd)


def run(args):
    """Runs QEMU with its stdio relayed to this terminal; returns its status."""
    stdin_fd, stdout_fd = sys.stdin.fileno(), sys.stdout.fileno()
    sys.stdout.flush()
    old_mode = _raw_mode(stdin_fd) if os.isatty(stdin_fd) else None

    def end(signum, _frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, end)
    qemu = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        _copy(qemu, stdin_fd, stdout_fd, FirmwareFilter())
        return qemu.wait()
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        if old_mode is not None:
            termios.tcsetattr(stdin_fd, termios.TCSADRAIN, old_mode)
