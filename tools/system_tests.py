#!/usr/bin/env python3
"""System tests: boot the real ISO in QEMU and watch it from outside, as a
person would, through the serial port and QEMU's monitor.

Prints `test system::<name> ... ok|FAILED` per test and exits non-zero if any
failed. Needs build/pyrite.iso (make iso).
"""

import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402

ROOT = qemu.ROOT
ISO = ROOT / "build" / "pyrite.iso"
KERNEL = ROOT / "target" / "x86_64-unknown-none" / "release" / "pyrite"
READY = " is up in "
ECHO_LINE = "Keys typed on the keyboard are echoed here."
BOOT_TIMEOUT = 60  # generous: this checks behaviour; make bench measures speed

TESTS = []


def system_test(fn):
    TESTS.append(fn)
    return fn


def iso_with_options(options):
    """An ISO of the release kernel with extra kernel command-line options."""
    out = Path(tempfile.mkdtemp(prefix="pyrite-iso-")) / "pyrite.iso"
    subprocess.run([str(ROOT / "tools" / "mkiso"), str(KERNEL), str(out), options], check=True)
    return out


def boot_to_ready(machine, what):
    seconds = machine.wait_for(READY, BOOT_TIMEOUT)
    assert seconds is not None, f"{what}: no ready line within {BOOT_TIMEOUT} s:\n{machine.text()[-2000:]}"
    return seconds


def kernel_log(machine):
    """The kernel's own lines: from its first log line on (GRUB's output before
    it is not the kernel's)."""
    text = machine.text()
    start = text.find("] INFO  pyrite: Pyrite ")
    assert start >= 0, "no kernel banner on serial"
    return text[text.rfind("\n", 0, start) + 1:]


@system_test
def bios_boot_reaches_ready_line():
    with qemu.Machine(ISO, firmware="bios") as m:
        seconds = boot_to_ready(m, "BIOS")
        print(f"    BIOS: ready line after {seconds:.2f} s of QEMU")


@system_test
def uefi_boot_reaches_ready_line():
    with qemu.Machine(ISO, firmware="uefi") as m:
        seconds = boot_to_ready(m, "UEFI")
        log = kernel_log(m)
        assert "on UEFI firmware" in log, "kernel did not detect UEFI"
        print(f"    UEFI: ready line after {seconds:.2f} s of QEMU")


@system_test
def boot_log_reports_boot_information():
    with qemu.Machine(ISO, firmware="bios", memory="256M") as m:
        boot_to_ready(m, "BIOS")
        log = kernel_log(m)
        for expected in ("booted by GRUB", "on BIOS firmware", "command line: \"\"",
                         "memory map (", "usable memory: ", "kernel: 0x100000-",
                         "ELF sections)", "boot information: ", "TSC runs at "):
            assert expected in log, f"boot log lacks {expected!r}:\n{log}"
        usable = float(log.split("usable memory: ")[1].split(" MiB")[0])
        assert 240 <= usable <= 256, f"{usable} MiB usable of 256 MiB given"
        # Every log line has the documented format.
        for line in log.splitlines():
            if line.startswith("["):
                assert line[13:14] == " " and line[14:19] in (
                    "INFO ", "WARN ", "ERROR", "DEBUG", "TRACE"), f"odd log line {line!r}"
        assert "WARN" not in log and "ERROR" not in log, f"warnings in a clean boot:\n{log}"


@system_test
def screen_shows_what_serial_shows():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_ready(m, "BIOS")
        time.sleep(0.2)
        screen = [m.vga_text_line(row) for row in range(25)]
        # Long lines wrap at 80 columns: rows padded and joined give them back.
        flat = "".join(row.ljust(80) for row in screen)
        for line in m.text().splitlines()[-8:]:
            if line.startswith("[") and "] INFO " in line:
                assert line.rstrip() in flat, f"{line!r} is not on the screen:\n" + "\n".join(screen)
        assert READY in flat, "ready line not on the VGA text screen:\n" + "\n".join(screen)


@system_test
def command_line_sets_log_level_and_reports_unknown_options():
    iso = iso_with_options("log=debug frobnicate=3")
    try:
        with qemu.Machine(iso, firmware="bios") as m:
            boot_to_ready(m, "BIOS")
            log = kernel_log(m)
            assert "command line: \"log=debug frobnicate=3\"" in log, log
            assert "DEBUG" in log, f"log=debug showed no debug lines:\n{log}"
            assert 'WARN  pyrite: unknown kernel option "frobnicate=3" ignored' in log, log
    finally:
        iso.unlink()
    iso = iso_with_options("log=warn")
    try:
        with qemu.Machine(iso, firmware="bios") as m:
            seen = m.wait_for(ECHO_LINE, BOOT_TIMEOUT)
            assert seen is not None, m.text()[-2000:]
            log = m.text()
            assert "] INFO " not in log, f"log=warn still showed info lines:\n{log}"
    finally:
        iso.unlink()


@system_test
def keyboard_keys_are_decoded_in_order():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_ready(m, "BIOS")
        assert m.wait_for(ECHO_LINE, 10) is not None
        m.type_text(["p", "y", "r", "i", "t", "x", "backspace", "e", ("shift", "1"),
                     "spc", ("shift", "o"), "k"])
        seen = m.wait_for("e! Ok", 20)
        assert seen is not None, f"typed keys did not arrive:\n{m.text()[-500:]}"
        # Backspace erases on a terminal: back, space, back.
        assert "pyritx\b \be! Ok" in m.text(), repr(m.text()[-100:])
        screen = [m.vga_text_line(row) for row in range(25)]
        assert any(line.startswith("pyrite! Ok") for line in screen), "\n".join(screen)


def usable_mib(log):
    value, unit = log.split("usable memory: ")[1].split()[:2]
    return float(value) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit]


@system_test
def memory_sizes_from_32m_to_4g():
    for firmware, memory, mib in (("bios", "32M", 32), ("bios", "512M", 512),
                                  ("bios", "4G", 4096), ("uefi", "4G", 4096)):
        with qemu.Machine(ISO, firmware=firmware, memory=memory) as m:
            boot_to_ready(m, f"{firmware} {memory}")
            log = kernel_log(m)
            usable = usable_mib(log)
            # Firmware and holes take a little; the rest must be there.
            assert 0.85 * mib <= usable <= mib, f"{firmware} {memory}: {usable} MiB usable"
            assert "W^X holds" in log, f"{firmware} {memory}:\n{log}"
            frames = int(log.split("memory: frames: ")[1].split()[0])
            # The log rounds to one decimal of its unit (3.9 GiB).
            assert abs(frames * 4 / 1024 - usable) <= max(1, 0.03 * usable), (frames, usable)
            print(f"    {firmware} {memory}: {usable:.1f} MiB usable, {frames} frames")


@system_test
def cpu_without_long_mode_gets_a_clear_error_not_a_reset():
    with qemu.Machine(ISO, firmware="bios", cpu="qemu32") as m:
        seen = m.wait_for("ERR: 2", BOOT_TIMEOUT)
        assert seen is not None, f"no long-mode error on serial:\n{m.text()[-2000:]}"
        assert "does not support 64-bit long mode" in m.text()
        top = m.vga_text_line(0)
        assert top.startswith("ERR: 2 this CPU does not support 64-bit long mode"), top
        # A reset would end QEMU (-no-reboot); a halted CPU keeps it running.
        time.sleep(2)
        assert m.running(), "QEMU exited: the machine reset instead of halting"
        assert m.text().count("Welcome to GRUB") <= 1 and m.text().count("ERR: 2") == 1


def main():
    if not ISO.exists():
        print(f"{ISO} is missing: run `make iso` first", file=sys.stderr)
        return 1
    failed = 0
    for test in TESTS:
        try:
            test()
            print(f"test system::{test.__name__} ... ok", flush=True)
        except Exception:  # noqa: BLE001 - report every kind of failure
            failed += 1
            print(f"test system::{test.__name__} ... FAILED", flush=True)
            traceback.print_exc(file=sys.stdout)
    print(f"system tests: {len(TESTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
