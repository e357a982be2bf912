"""System tests of the interactive entry points (`make run`, `cargo run`,
`make debug`): each is started as a person would start it, in a terminal
(a pseudo-terminal here), without a display, and driven by typing.

tools/system_tests.py runs these with its own; see TESTS.
"""

import os
import pty
import select
import socket
import subprocess
import time

import qemu

ROOT = qemu.ROOT
ISO = ROOT / "build" / "pyrite.iso"
BOOT_TIMEOUT = 60

TESTS = []


def interactive_test(fn):
    TESTS.append(fn)
    return fn


class Terminal:
    """A command running in a pseudo-terminal of its own, with no display:
    what it prints is collected, and `type` sends keys as a keyboard would."""

    def __init__(self, args, env=None):
        self.args = args
        self.env = {k: v for k, v in {**os.environ, **(env or {})}.items()
                    if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        self.output = bytearray()
        self.process = None
        self.master = None

    def __enter__(self):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdin=slave,
                                        stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        os.close(self.master)

    def _pump(self, seconds):
        ready, _, _ = select.select([self.master], [], [], seconds)
        if ready:
            try:
                self.output += os.read(self.master, 65536)
            except OSError:  # the other side closed
                time.sleep(seconds)

    def raw(self):
        return bytes(self.output)

    def text(self):
        return self.output.decode("utf-8", "replace").replace("\r\n", "\n")

    def type(self, data):
        os.write(self.master, data if isinstance(data, bytes) else data.encode())

    def wait_for(self, needle, timeout, count=1):
        """Whether `needle` appeared `count` times within `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.text().count(needle) >= count:
                return True
            self._pump(0.05)
        return self.text().count(needle) >= count

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            self._pump(0.05)
        self._pump(0.1)
        return self.process.poll()

    def tail(self):
        return repr(self.text()[-1500:])


@interactive_test
def cargo_run_boots_the_kernel_interactively():
    with Terminal(["cargo", "run", "--quiet", "--", "log=debug"]) as t:
        # The first build of the debug kernel may take a while.
        assert t.wait_for(qemu.READY, 300), t.tail()
        assert t.wait_for(qemu.PROMPT, 10), t.tail()
        assert 'command line: "log=debug"' in t.text(), "cargo run's arguments are not kernel options"
        t.type("echo typed\r")
        assert t.wait_for("\ntyped\n", 10), t.tail()
        t.type(b"\x01x")
        status = t.wait_exit(10)
        assert status == 0, f"status {status}: {t.tail()}"
        assert "FAILED" not in t.text() and "timed out" not in t.text(), t.tail()


def firmware_part(raw):
    """What the terminal got before the kernel's first log line."""
    start = raw.find(b"] INFO ")
    assert start >= 0, f"no kernel log line: {raw[-1500:]!r}"
    return raw[:raw.rfind(b"\n", 0, start) + 1]


def run_command(firmware):
    return ["python3", "tools/qemu.py", "run", "--firmware", firmware, str(ISO)]


@interactive_test
def make_run_console_takes_ctrl_c_and_quits_on_ctrl_a_x():
    with Terminal(run_command("bios")) as t:
        assert t.wait_for(qemu.PROMPT, BOOT_TIMEOUT), t.tail()
        assert "Quit with Ctrl-A then X" in t.text(), "no word on how to quit"
        t.type(b"\x03")
        assert t.wait_for("^C\n" + qemu.PROMPT, 10), f"Ctrl-C did not reach the shell: {t.tail()}"
        assert t.process.poll() is None, "Ctrl-C ended QEMU"
        t.type(b"\x01x")
        status = t.wait_exit(10)
        assert status == 0, f"Ctrl-A X: status {status}: {t.tail()}"


@interactive_test
def make_run_without_display_keeps_the_terminal_and_boots_the_cd_first():
    for firmware, firmware_says in (("bios", b"SeaBIOS"), ("uefi", b"BdsDxe")):
        with Terminal(run_command(firmware)) as t:
            t.type(b"")
            assert t.wait_for(qemu.READY, BOOT_TIMEOUT), t.tail()
            before = firmware_part(t.raw())
            # The firmware's words arrive, its screen control does not.
            assert firmware_says in before and b"Welcome to GRUB" in before, before
            assert b"\x1b" not in before, f"{firmware}: escape sequences reached the terminal: {before!r}"
            assert b"Boot failed" not in before, f"{firmware}: tried other disks first: {before!r}"
            t.type(b"\x01x")
            assert t.wait_exit(10) == 0, t.tail()


@interactive_test
def make_run_reboot_restarts_the_machine():
    with Terminal(run_command("bios")) as t:
        assert t.wait_for(qemu.PROMPT, BOOT_TIMEOUT), t.tail()
        t.type("reboot\r")
        assert t.wait_for(qemu.READY, BOOT_TIMEOUT, count=2), f"no second boot: {t.tail()}"
        assert t.wait_for(qemu.PROMPT, 10, count=2), t.tail()
        t.type("echo again\r")
        assert t.wait_for("\nagain\n", 10), t.tail()
        # The firmware's terminal reset and line-wrap-off stay out after a reboot too.
        assert b"\x1bc" not in t.raw() and b"\x1b[?7l" not in t.raw(), t.raw()[-3000:]
        t.type(b"\x01x")
        assert t.wait_exit(10) == 0, t.tail()


DEBUG_KERNEL = ROOT / "target" / "x86_64-unknown-none" / "debug" / "pyrite"
DEBUG_ISO = ROOT / "build" / "pyrite-debug.iso"


def listening_addresses(port):
    """The local addresses of TCP sockets listening on `port` (from /proc)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, local_port = local.split(":")
                if state == "0A" and int(local_port, 16) == port:
                    found.append(address)
    return found


@interactive_test
def make_debug_listens_on_localhost_and_its_kernel_boots():
    """The debug kernel (make debug's, unoptimised) runs under the GDB stub
    to the prompt once a debugger says continue."""
    assert DEBUG_ISO.exists(), f"{DEBUG_ISO} is missing: run make debug-iso"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Terminal(["python3", "tools/qemu.py", "debug", "--gdb-port", str(port),
                   str(DEBUG_KERNEL), str(DEBUG_ISO)]) as t:
        assert t.wait_for(f"target remote 127.0.0.1:{port}", 10), t.tail()
        deadline = time.monotonic() + 10
        while not listening_addresses(port) and time.monotonic() < deadline:
            t.wait_for("never", 0.1)
        # 0100007F is 127.0.0.1 as /proc/net/tcp writes it.
        assert listening_addresses(port) == ["0100007F"], listening_addresses(port)
        assert qemu.READY not in t.text(), "QEMU did not wait for the debugger"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as gdb:
            gdb.sendall(b"$c#63")  # the remote protocol's continue
            assert t.wait_for(qemu.PROMPT, BOOT_TIMEOUT), t.tail()
        t.type(b"\x01x")
        assert t.wait_exit(10) == 0, t.tail()


def hold_shift_until(machine, seen, timeout):
    """Holds Shift down as a keyboard does, repeating the key-down event,
    until `seen()` or `timeout` s; then lets it go. Returns seen()."""
    def shift(down):
        machine.command("input-send-event", events=[
            {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": "shift"}}}])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not seen():
            shift(True)
            time.sleep(0.03)
    finally:
        shift(False)
    return seen()


@interactive_test
def grub_menu_shows_while_shift_is_held_on_bios():
    with qemu.Machine(ISO, firmware="bios") as m:
        def menu_on_screen():
            return any("Pyrite (graphics console on BIOS too)" in m.vga_text_line(row)
                       for row in range(4, 8))
        assert hold_shift_until(m, menu_on_screen, BOOT_TIMEOUT), m.text()[-500:]
        time.sleep(2)
        assert qemu.READY not in m.text(), "the menu did not wait"
        m.send_key("ret")
        assert m.wait_for(qemu.READY, BOOT_TIMEOUT) is not None, "Enter in the menu did not boot"


@interactive_test
def grub_menu_waits_in_an_iso_built_with_grub_timeout_minus_one():
    iso = ROOT / "build" / "pyrite-menu-test.iso"
    kernel = ROOT / "target" / "x86_64-unknown-none" / "release" / "pyrite"
    subprocess.run([str(ROOT / "tools" / "mkiso"), str(kernel), str(iso)], check=True,
                   env={**os.environ, "GRUB_TIMEOUT": "-1"})
    try:
        # On UEFI the menu is on serial too.
        with qemu.Machine(iso, firmware="uefi") as m:
            assert m.wait_for("Pyrite (graphics console on BIOS too)", BOOT_TIMEOUT), m.text()[-800:]
            time.sleep(2)
            assert qemu.READY not in m.text(), "the menu did not wait"
            m.send_key("ret")
            assert m.wait_for(qemu.READY, BOOT_TIMEOUT) is not None, "Enter in the menu did not boot"
    finally:
        iso.unlink()
