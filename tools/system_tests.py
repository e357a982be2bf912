#!/usr/bin/env python3
"""System tests: boot the real ISO in QEMU and watch it from outside, as a
person would, through the serial port and QEMU's monitor.

Prints `test system::<name> ... ok|FAILED` per test and exits non-zero if any
failed. Needs build/pyrite.iso (make iso). Arguments, if any, select the
tests whose names contain one of them.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import boot_matrix  # noqa: E402
import interactive_tests  # noqa: E402
import kernel_output  # noqa: E402
import qemu  # noqa: E402
import systest_user  # noqa: E402
from systest_common import boot_to_prompt, wait_for_count  # noqa: E402
import systest_osbench  # noqa: E402
import systest_userrun  # noqa: E402
import systest_power  # noqa: E402
import systest_apic  # noqa: E402
from screenshot import ppm_to_png, read_ppm  # noqa: E402

ROOT = qemu.ROOT
ISO = ROOT / "build" / "pyrite.iso"
KERNEL = ROOT / "target" / "x86_64-unknown-none" / "release" / "pyrite"
READY = qemu.READY
PROMPT = qemu.PROMPT
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
    start = text.find("] INFO  init: Pyrite ")
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
        summary = kernel_output.boot_summary(log)
        assert summary and summary["firmware"] == "bios", f"no summary line:\n{log}"
        usable = summary["usable_bytes"] / (1 << 20)
        assert 240 <= usable <= 256, f"{usable} MiB usable of 256 MiB given"
        # The line for people says the same, in MiB with one decimal cut off.
        whole, rest = divmod(summary["usable_bytes"], 1 << 20)
        shown = f"{whole} MiB" if rest == 0 else f"{whole}.{rest * 10 >> 20} MiB"
        assert f"usable memory: {shown}\n" in log, (shown, log)
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
        # Long lines wrap between words, indented: compare the words.
        flat = " ".join(" ".join(screen).split())
        for line in m.text().splitlines()[-8:]:
            if line.startswith("[") and "] INFO " in line:
                assert " ".join(line.split()) in flat, f"{line!r} is not on the screen:\n" + "\n".join(screen)
        assert READY in flat, "ready line not on the VGA text screen:\n" + "\n".join(screen)


@system_test
def long_log_lines_wrap_between_words_on_the_screen():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_ready(m, "BIOS")
        time.sleep(0.2)
        rows = [m.vga_text_line(row) for row in range(25)]
    shown = "\n".join(rows)
    checked = 0
    for line in m.text().splitlines():
        if not line.startswith("[") or len(line) <= 80:
            continue
        indent = line.index(": ") + 2  # where the message starts
        first = [i for i, row in enumerate(rows) if row.startswith(line[:indent + 8])]
        if not first:
            continue  # scrolled off the screen
        block = [rows[first[-1]]]
        for row in rows[first[-1] + 1:]:
            if not (row.startswith(" " * indent) and row[indent:indent + 1].strip()):
                break
            block.append(row)
        # Whole words only: a word cut at the edge would come back as two.
        assert " ".join(block).split() == line.split(), f"{line!r} became:\n" + "\n".join(block)
        assert len(block) > 1 and all(len(row) <= 80 for row in block), shown
        checked += 1
    assert checked, f"no long log line on the screen to check:\n{shown}"
    print(f"    {checked} long log lines wrapped between words")


@system_test
def command_line_sets_log_level_and_reports_unknown_options_in_yellow():
    iso = iso_with_options("log=debug frobnicate=3")
    try:
        with qemu.Machine(iso, firmware="bios") as m:
            boot_to_ready(m, "BIOS")
            log = kernel_log(m)
            assert "command line: \"log=debug frobnicate=3\"" in log, log
            assert "DEBUG" in log, f"log=debug showed no debug lines:\n{log}"
            assert 'WARN  init: unknown kernel option "frobnicate=3" ignored' in log, log
            # Warnings arrive yellow on serial; the escape wraps the whole
            # line, so a search for the text still matches.
            warning = [line for line in log.splitlines() if "unknown kernel option" in line]
            assert len(warning) == 1, log
            assert warning[0].startswith("\x1b[33m[") and warning[0].endswith(
                'WARN  init: unknown kernel option "frobnicate=3" ignored\x1b[0m'), repr(warning[0])
            plain = [line for line in log.splitlines() if "] INFO " in line]
            assert plain and all("\x1b" not in line for line in plain), "info lines got colour"
    finally:
        iso.unlink()
    iso = iso_with_options("log=warn")
    try:
        with qemu.Machine(iso, firmware="bios") as m:
            seen = m.wait_for(PROMPT, BOOT_TIMEOUT)
            assert seen is not None, m.text()[-2000:]
            log = m.text()
            assert "] INFO " not in log, f"log=warn still showed info lines:\n{log}"
    finally:
        iso.unlink()


@system_test
def ready_line_comes_right_before_the_first_prompt():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        lines = m.text().split("\n")
        ready = next(i for i, line in enumerate(lines) if READY in line)
        assert lines[ready + 1].startswith(PROMPT), lines[ready:ready + 3]


@system_test
def keyboard_typing_with_shift_and_backspace():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        m.type_text(["e", "c", "h", "o", "spc", "p", "y", "r", "i", "t", "x", "backspace", "e",
                     ("shift", "1"), "spc", ("shift", "o"), "k", "ret"])
        assert wait_for_count(m, "\npyrite! Ok\n", 1), f"typed keys did not arrive:\n{m.text()[-500:]}"
        # The echo erased the x (back, space, back), then the command printed the line.
        assert "echo pyritx\b \be! Ok\npyrite! Ok\n" + PROMPT in m.text(), repr(m.text()[-200:])
        screen = [m.vga_text_line(row) for row in range(25)]
        assert PROMPT + "echo pyrite! Ok" in screen and "pyrite! Ok" in screen, "\n".join(screen)


@system_test
def help_lists_the_commands():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        m.type_line("help")
        assert wait_for_count(m, PROMPT, 2)
        out = m.text().split(PROMPT + "help\n", 1)[1]
        for command in ("help", "echo", "clear", "uptime", "mem", "tasks", "ticks", "irq",
                        "sleep", "reboot", "halt"):
            assert f"\n  {command}" in out, f"help lacks {command}:\n{out}"


@system_test
def unknown_commands_and_bad_arguments_get_an_error_and_a_new_prompt():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        m.type_line("frobnicate")
        assert wait_for_count(m, PROMPT, 2)
        m.type_line("sleep soon")
        assert wait_for_count(m, PROMPT, 3)
        m.type_line("mem now")
        assert wait_for_count(m, PROMPT, 4)
        text = m.text()
        assert "unknown command: frobnicate (type help for the list)\n" + PROMPT in text, text[-500:]
        assert "sleep: not a number (usage: sleep N[ms])\n" + PROMPT in text, text[-500:]
        assert "mem: the only option is --raw (usage: mem [--raw])\n" + PROMPT in text, text[-500:]
        assert "PANIC" not in text and "EXCEPTION" not in text


@system_test
def the_serial_console_is_a_shell_too():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        m.send_serial(b"echo over serial\r")
        assert wait_for_count(m, "over serial", 2), m.text()[-500:]
        m.send_serial(b"ticsk\x7f\x7fks\r")
        assert wait_for_count(m, " timer interrupts\n", 1), m.text()[-500:]
        m.send_serial(b"\x1b[A\x1b[A\r")  # history: up twice -> "echo over serial"
        assert wait_for_count(m, "over serial", 4), m.text()[-500:]
        screen = "\n".join(m.vga_text_line(row) for row in range(25))
        assert PROMPT + "echo over serial" in screen, screen


@system_test
def mem_shows_plausible_numbers():
    with qemu.Machine(ISO, firmware="bios", memory="256M") as m:
        boot_to_prompt(m)
        m.type_line("mem")
        assert wait_for_count(m, PROMPT, 2)
        out = m.text().split(PROMPT + "mem\n", 1)[1]
        raw = kernel_output.ask_mem(m)
        total, free, used = raw["frames_total"], raw["frames_free"], raw["frames_used"]
        assert 60_000 < total <= 65_536 and total == free + used and used < 2000, raw
        assert raw["frame_bytes"] == 4096 and raw["heap_failed"] == 0, raw
        assert raw["heap_in_use_bytes"] <= raw["heap_peak_bytes"] <= raw["heap_size_bytes"], raw
        # The lines for people say the same (counts of use may move between
        # the two commands: printing allocates).
        assert out.startswith(f"frames: {total} usable ("), out
        human_design = out.split("heap (", 1)[1].split("):", 1)[0]
        assert raw["heap_design"] == re.sub(r"[^a-z0-9]", "_", human_design.lower()), (raw, out)
        assert " allocations, 0 failed\n" in out, out


@system_test
def sleep_and_uptime_use_the_timer():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        start = time.monotonic()
        m.type_line("sleep 1")
        assert wait_for_count(m, PROMPT, 2, timeout=30)
        took = time.monotonic() - start
        ms, asked = kernel_output.slept(m.text())
        assert asked == 1000 and 1000 <= ms <= 1010, (ms, asked)
        assert 0.9 < took < 10, took
        m.type_line("uptime")
        assert wait_for_count(m, PROMPT, 3)
        up = re.findall(r"\nup ([0-9]+\.[0-9]{3}) s \(by the TSC; ([0-9]+) timer interrupts", m.text())
        assert up and float(up[-1][0]) >= 1.0, m.text()[-300:]
        # Tickless: the sleep took one timer interrupt, not 100.
        assert int(up[-1][1]) < 20, up


@system_test
def reboot_resets_the_machine():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        m.type_line("reboot")
        # QEMU runs with -no-reboot: a reset ends it with status 0.
        status = m.wait_exit(20)
        assert status == 0, f"QEMU status {status}:\n{m.text()[-500:]}"
        assert "rebooting... the machine restarts now" in m.text()
        assert "triple fault" not in m.text(), "the reset line did not work"


@system_test
def ctrl_c_cancels_a_long_sleep_on_either_console():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        for console in ("keyboard", "serial"):
            prompts = m.text().count(PROMPT)
            echoes = m.text().count(PROMPT + "sleep 3600\n")
            if console == "keyboard":
                m.type_line("sleep 3600")
            else:
                m.send_serial(b"sleep 3600\r")
            assert wait_for_count(m, PROMPT + "sleep 3600\n", echoes + 1), m.text()[-500:]
            time.sleep(0.5)
            assert m.text().count(PROMPT) == prompts, f"{console}: sleep 3600 ended early"
            if console == "keyboard":
                m.type_text(["e", "c", "h", "o", "spc", "k", "e", "p", "t"])
            start = time.monotonic()
            if console == "keyboard":
                m.send_key("ctrl", "c")
            else:
                m.send_serial(b"\x03")
            assert wait_for_count(m, PROMPT, prompts + 1, timeout=10), \
                f"{console}: Ctrl-C did not cancel sleep 3600:\n{m.text()[-500:]}"
            took = time.monotonic() - start
            print(f"    {console}: prompt back {took:.2f} s after Ctrl-C")
            assert took < 5, took
            if console == "keyboard":
                # What was typed before Ctrl-C waits in the editor.
                assert m.text().endswith("^C\n" + PROMPT + "echo kept"), m.text()[-500:]
                m.send_key("ret")
                assert wait_for_count(m, "\nkept\n", 1), m.text()[-500:]
        text = m.text()
        assert text.count("sleep 3600\n^C\n" + PROMPT) == 2, text[-500:]
        assert "slept" not in text, text[-500:]
        m.type_line("echo alive")
        assert wait_for_count(m, "\nalive\n", 1), m.text()[-500:]


@system_test
def keys_typed_during_a_command_run_after_it():
    """More keys than the keyboard's scancode queue holds (two scancodes a
    key), typed while `sleep` runs: the shell keeps them all and runs the
    line once the sleep is over."""
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        m.send_serial(b"sleep 6\r")
        assert wait_for_count(m, PROMPT + "sleep 6\n", 1), m.text()[-500:]
        start = time.monotonic()
        word = "k" * 150  # 156 keys, 312 scancodes: more than the queue's 255
        for key in ["e", "c", "h", "o", "spc"] + list(word) + ["ret"]:
            m.command("send-key", keys=[{"type": "qcode", "data": key}], **{"hold-time": 1})
            time.sleep(0.02)  # QEMU's own PS/2 buffer is small: a steady typist
        typed = time.monotonic() - start
        assert "slept" not in m.text(), f"typing took {typed:.2f} s: longer than the sleep"
        got = wait_for_count(m, "\n" + word + "\n", 1, timeout=30)
        assert got, m.text()[-800:].replace(word, f"<{len(word)} k>")
        text = m.text()
        # Not echoed while the sleep ran: the line shows under the next prompt.
        assert "sleep 6\nslept 60" in text, text[-800:]
        assert "(6000 ms asked)\n" + PROMPT + "echo " + word + "\n" + word + "\n" + PROMPT in text, \
            text[-800:]
        print(f"    {len(word) + 6} keys typed in {typed:.2f} s during sleep 6 all ran after it")


@system_test
def halt_says_how_to_quit_and_stops_with_interrupts_off():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        m.type_line("halt")
        assert m.wait_for("Ctrl-A then X", 20) is not None, m.text()[-500:]
        text = m.text()
        assert "halt\nPyrite has halted: it is now safe to turn the machine off.\n" in text, text[-500:]
        screen = "\n".join(m.vga_text_line(row) for row in range(25))
        assert "Pyrite has halted" in screen, screen
        time.sleep(1)
        # Halted, not reset (QEMU runs with -no-reboot) and not running on.
        assert m.running(), "QEMU exited: the machine reset instead of halting"
        registers = m.monitor("info registers")
        rflags = int(registers.split("RFL=")[1].split()[0], 16)
        assert rflags & 0x200 == 0, f"interrupts still enabled: RFL={rflags:#x}"
        assert "HLT=1" in registers, registers
        # Keys reach nothing any more.
        m.type_line("echo still here")
        m.send_serial(b"echo still here\r")
        time.sleep(1)
        assert "still here" not in m.text() and m.text().count(PROMPT) == 1, m.text()[-300:]


@system_test
def keyboard_flood_is_survived_and_any_drop_is_reported():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        # 500 keys as fast as QMP takes them, without waiting for the guest.
        for i in range(500):
            m.command("send-key", keys=[{"type": "qcode", "data": "abcdefghij"[i % 10]}],
                      **{"hold-time": 1})
        time.sleep(2)
        # Whatever arrived is one long line: submit it (an unknown command).
        m.send_key("ret")
        assert wait_for_count(m, PROMPT, 2, timeout=30), m.text()[-800:]
        m.type_line("irq")
        assert wait_for_count(m, "keyboard: ", 1, timeout=30), m.text()[-800:]
        text = m.text()
        counters = [line for line in text.split("\n")
                    if line.startswith("keyboard: ") and line.endswith("(queue of 255)")]
        assert counters, text[-800:]
        dropped = int(counters[-1].split()[1])
        if dropped:
            # The input watcher says so on its own, once a second.
            assert "scancodes dropped (typed faster than read)" in text, text[-1500:]
        typed = text.split(PROMPT, 2)[1].split("\n")[0]
        print(f"    {len(typed)} of 500 keys reached the line editor (it keeps 256); "
              + counters[-1])
        m.type_line("echo alive")
        assert wait_for_count(m, "\nalive\n", 1), text[-500:]


@system_test
def input_typed_on_serial_during_boot_is_kept():
    # A key pressed before the kernel runs waits in the UART's receive
    # register (no FIFO yet) until the kernel sets the UART up. A driver
    # that turns the FIFO on (which empties it) without reading first loses
    # the "e", and the line runs as "cho early bird".
    with qemu.Machine(ISO, firmware="bios") as m:
        m.send_serial(b"e")
        boot_to_prompt(m)
        m.send_serial(b"cho early bird\r")
        assert wait_for_count(m, "\nearly bird\n", 1), m.text()[-800:]
        assert "unknown command" not in m.text(), m.text()[-800:]


def screen_text(machine):
    """The VGA text screen, one line per row."""
    return "\n".join(machine.vga_text_line(row) for row in range(25))


def wait_for_screen(machine, needle, timeout=20):
    """Waits until `needle` shows on the VGA text screen; returns the screen."""
    deadline = time.monotonic() + timeout
    while True:
        screen = screen_text(machine)
        if needle in screen or time.monotonic() > deadline:
            return screen
        time.sleep(0.2)


@system_test
def a_stalled_serial_line_does_not_stop_the_kernel():
    # COM1's client connects before the guest starts and reads nothing: the
    # guest's output backs up from the boot log on.
    with qemu.Machine(ISO, firmware="bios", serial="socket") as m:
        screen = wait_for_screen(m, PROMPT.rstrip(), BOOT_TIMEOUT)
        assert READY in screen and PROMPT.rstrip() in screen, f"no prompt on the screen:\n{screen}"
        for _ in range(20):
            m.type_line("help")
        m.type_line("irq")
        m.type_line("echo still here")
        screen = wait_for_screen(m, "\nstill here\n", 60)
        assert "\nstill here\n" in screen, f"the shell stopped answering:\n{screen}"
        dropped = [line for line in screen.splitlines() if line.startswith("serial output: ")]
        assert dropped and int(dropped[-1].split()[2]) > 0, f"no output counted as dropped:\n{screen}"
        print(f"    while stalled: {dropped[-1]}")
        # The terminal reads again: output resumes, with one line saying what was lost.
        m.start_reading_serial()
        notice = "bytes of output dropped while the line was stalled"
        assert m.wait_for(notice, 30) is not None, f"no notice on serial:\n{m.text()[-1500:]}"
        m.type_line("echo resumed")
        assert wait_for_count(m, "\nresumed\n", 1, timeout=30), m.text()[-1500:]
        text = m.text()
        assert text.count(notice) == 1, text[-3000:]
        print("    " + text[:text.index(notice)].rsplit("serial: ", 1)[1] + notice)


@system_test
def memory_sizes_from_32m_to_4g():
    for firmware, memory, mib in (("bios", "32M", 32), ("bios", "512M", 512),
                                  ("bios", "4G", 4096), ("uefi", "4G", 4096)):
        with qemu.Machine(ISO, firmware=firmware, memory=memory) as m:
            boot_to_prompt(m, f"{firmware} {memory}")
            log = kernel_log(m)
            summary = kernel_output.boot_summary(log)
            assert summary, f"{firmware} {memory}: no summary line:\n{log}"
            usable = summary["usable_bytes"] / (1 << 20)
            # Firmware and holes take a little; the rest must be there.
            assert 0.85 * mib <= usable <= mib, f"{firmware} {memory}: {usable} MiB usable"
            assert "W^X holds" in log, f"{firmware} {memory}:\n{log}"
            frames = kernel_output.ask_mem(m)["frames_total"]
            # The frame allocator manages the whole frames of the usable areas.
            lost = summary["usable_bytes"] - frames * 4096
            assert 0 <= lost < summary["memory_areas"] * 4096, (frames, summary)
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


@system_test
def uefi_boot_error_is_drawn_on_the_framebuffer():
    """The trampoline's errors come before any driver: on UEFI, with no VGA
    text mode, it draws them on the boot loader's framebuffer itself. OVMF
    needs long mode, so the error reached is the missing NX bit (ERR: 3) with
    GRUB's framebuffer tag in the boot information. The screen's top-left box
    must match, pixel for pixel, the bitmap the kernel carries for the text
    it printed on serial (white on the VGA palette's red)."""
    import struct

    def kernel_bytes(address, size):
        elf = KERNEL.read_bytes()
        shoff, = struct.unpack_from("<Q", elf, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
        for i in range(shnum):
            _, kind, _, addr, offset, length = struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
            if kind != 8 and addr <= address < addr + length:  # 8: SHT_NOBITS
                return elf[offset + address - addr:offset + address - addr + size]
        raise AssertionError(f"{address:#x} is not in the kernel file")

    def loaded_bytes(physical, size):
        """Bytes at a physical (load) address, by the program headers, as
        GRUB loads them: the trampoline runs with paging off."""
        elf = KERNEL.read_bytes()
        phoff, = struct.unpack_from("<Q", elf, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
        for i in range(phnum):
            kind, _, offset, _, paddr, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
            if kind == 1 and paddr <= physical < paddr + filesz:  # 1: PT_LOAD
                return elf[offset + physical - paddr:offset + physical - paddr + size]
        raise AssertionError(f"{physical:#x} is not loaded from the kernel file")

    with qemu.Machine(ISO, firmware="uefi", cpu="qemu64,-nx") as m:
        assert m.wait_for("ERR: 3", BOOT_TIMEOUT) is not None, f"no NX error on serial:\n{m.text()[-2000:]}"
        time.sleep(1)
        assert m.running(), "QEMU exited: the machine reset instead of halting"
        dump = Path(tempfile.mkdtemp(prefix="pyrite-err-")) / "screen.ppm"
        m.screendump(dump)
        serial_line = m.text()[m.text().index("ERR: 3"):].splitlines()[0].strip()
    ppm_to_png(dump, ROOT / "build" / "uefi-boot-error.png")
    width, height, pixels = read_ppm(dump)

    # The record the trampoline reads (boot_errors.inc): the physical
    # addresses of the text, then of the bitmap.
    nm = subprocess.run(["nm", str(KERNEL)], capture_output=True, text=True, check=True).stdout
    record = next(int(f[0], 16) for f in map(str.split, nm.splitlines()) if f[-1] == "err_no_nx")
    message_at, bitmap_at = struct.unpack("<II", kernel_bytes(record, 8))
    text = loaded_bytes(message_at, 200).split(b"\0")[0].decode()
    assert text == serial_line, (text, serial_line)
    box_w, box_h = struct.unpack("<II", loaded_bytes(bitmap_at, 8))
    assert box_w <= width and box_h <= height, (box_w, box_h, width, height)
    stride = (box_w + 7) // 8
    rows = loaded_bytes(bitmap_at + 8, stride * box_h)
    white, red = b"\xff\xff\xff", b"\xaa\x00\x00"
    wrong = ink = 0
    for y in range(box_h):
        for x in range(box_w):
            lit = rows[y * stride + x // 8] & (0x80 >> (x % 8))
            ink += bool(lit)
            at = (y * width + x) * 3
            wrong += pixels[at:at + 3] != (white if lit else red)
    assert ink >= 5 * sum(c != " " for c in text), f"the bitmap has hardly any ink ({ink} pixels)"
    assert wrong == 0, f"{wrong} of {box_w * box_h} pixels in the error box differ (see build/uefi-boot-error.png)"
    beyond = [(box_w, 0), (0, box_h), (box_w, box_h)]
    assert all(pixels[(y * width + x) * 3:(y * width + x) * 3 + 3] != red for x, y in beyond), \
        "the red box is larger than the message's bitmap"
    print(f"    {box_w}x{box_h} box, {ink} text pixels, matches; build/uefi-boot-error.png")


# A fatal machine check for QEMU's `mce CPU BANK STATUS MCG_STATUS ADDR MISC`:
# STATUS has VAL, UC, EN, MISCV, ADDRV and PCC set (bits 63, 61-57) with MCA
# error code 0x400; MCG_STATUS is RIPV | MCIP. Bank 1, because the kernel
# leaves bank 0's control register to the firmware and QEMU drops an
# uncorrected error in a bank whose MCi_CTL is not all ones.
MCE_STATUS = 0xBE00000000800400
MCE_ADDRESS = 0x1234000


@system_test
def machine_check_is_reported_not_a_silent_reset():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        assert "machine checks: on, " in kernel_log(m), kernel_log(m)[-1500:]
        m.monitor(f"mce 0 1 {MCE_STATUS:#x} 0x5 {MCE_ADDRESS:#x} 0x0")
        seen = m.wait_for("EXCEPTION: machine check (#MC, vector 18)", 20)
        assert seen is not None, f"no #MC report on serial:\n{m.text()[-1500:]}"
        assert m.wait_for("CR3=", 10) is not None, m.text()[-1500:]
        report = m.text()[m.text().rindex("EXCEPTION: machine check"):]
        assert "MCG_STATUS 0x5: restartable (RIPV), in progress (MCIP)" in report, report
        assert f"bank 1: status {MCE_STATUS:#018x}" in report, report
        assert "uncorrected, processor context corrupt" in report, report
        assert f"bank 1: address {MCE_ADDRESS:#x}" in report, report
        time.sleep(1)
        assert m.running(), "QEMU exited: the machine reset instead of halting"
        print("    " + report.split("\n")[2].strip())


@system_test
def a_pit_that_does_not_tick_is_named_and_the_rtc_keeps_time():
    # Without ACPI the PIT would be the timer (with the APIC, it is unused).
    with qemu.Machine(ISO, firmware="bios", extra=("-machine", "pc,pit=off", "-no-acpi")) as m:
        start = time.monotonic()
        boot_to_prompt(m)
        wall = time.monotonic() - start
        log = kernel_log(m)
        assert "the PIT gives an implausible TSC rate" in log, log[-2000:]
        assert "TSC calibrated against the RTC" in log, log[-2000:]
        assert "the PIT does not tick (IRQ 0 silent)" in log, log[-2000:]
        mhz = int(log.split("against the RTC instead: ")[1].split()[0])
        assert 200 <= mhz <= 20000, mhz
        init_ms = float(log.split(READY)[1].split()[0])
        # Init cannot take longer than QEMU ran, nor be implausibly short.
        assert 1 < init_ms < wall * 1000, (init_ms, wall)
        sleep_start = time.monotonic()
        m.type_line("sleep 1")
        assert wait_for_count(m, PROMPT, 2, timeout=30), m.text()[-500:]
        took = time.monotonic() - sleep_start
        assert "(1000 ms asked)" in m.text(), m.text()[-300:]
        assert 0.9 < took < 10, took
        ms, _ = kernel_output.slept(m.text())
        # The RTC's period is 1/128 s: the sleep ends within one.
        assert 1000 <= ms <= 1000 + 1000 / 128 + 10, ms
        assert kernel_output.interrupt_mode(log)["timer"] == "rtc_periodic", log[-800:]
        print(f"    TSC {mhz} MHz from the RTC, init {init_ms} ms, sleep 1 took {took:.2f} s "
              f"({ms} ms by the TSC)")


def matrix_test(cell):
    def test():
        seconds, usable, mode, ms = boot_matrix.boot_cell(cell)
        print(f"    {cell[0]}: prompt after {seconds:.2f} s, {usable:.1f} MiB usable, "
              f"{mode['controller']} + {mode['timer']}, sleep 200ms took {ms} ms")
    test.__name__ = "boot_matrix_" + cell[0].replace("-", "_")
    return test


for _cell in boot_matrix.CELLS:
    TESTS.append(matrix_test(_cell))

TESTS += interactive_tests.TESTS
TESTS += systest_user.TESTS
TESTS += systest_osbench.TESTS
TESTS += systest_userrun.TESTS
TESTS += systest_power.TESTS

import systest_threads  # noqa: E402
TESTS += systest_threads.TESTS

import systest_usb  # noqa: E402
TESTS += systest_usb.TESTS
import systest_msi  # noqa: E402
TESTS += systest_msi.TESTS

TESTS += systest_apic.TESTS


REFERENCE = ROOT / "tests" / "reference" / "uefi-framebuffer-top.ppm"
# The top-left corner: three lines of 24 characters.
CROP = (0, 0, 24 * 8, 3 * 16)


@system_test
def uefi_framebuffer_shows_the_shell():
    """On UEFI there is no VGA text: the text must be drawn on the
    framebuffer. Clear the screen, type a command, and compare the top-left
    corner pixel for pixel with the committed reference image."""
    with qemu.Machine(ISO, firmware="uefi") as m:
        boot_to_prompt(m, "UEFI")
        assert "INFO  boot: framebuffer: 800x600" in m.text(), "no framebuffer reported"
        m.type_line("clear")
        assert wait_for_count(m, PROMPT, 2)
        m.type_line("echo pyrite")
        assert wait_for_count(m, "\npyrite\n", 1)
        assert wait_for_count(m, PROMPT, 3)
        time.sleep(0.3)
        dump = Path(tempfile.mkdtemp(prefix="pyrite-fb-")) / "screen.ppm"
        m.screendump(dump)
        width, height, pixels = read_ppm(dump)
        assert (width, height) == (800, 600), (width, height)
        x0, y0, w, h = CROP
        crop = b"".join(pixels[(y * width + x0) * 3:(y * width + x0 + w) * 3] for y in range(y0, y0 + h))
        lit = sum(1 for i in range(0, len(crop), 3) if crop[i:i + 3] != b"\0\0\0")
        assert lit > 200, f"the corner is blank ({lit} lit pixels)"
        if os.environ.get("PYRITE_UPDATE_REFERENCE"):
            REFERENCE.parent.mkdir(parents=True, exist_ok=True)
            REFERENCE.write_bytes(b"P6\n%d %d\n255\n" % (w, h) + crop)
            print(f"    wrote {REFERENCE.relative_to(ROOT)}")
        assert REFERENCE.exists(), f"{REFERENCE} is missing (PYRITE_UPDATE_REFERENCE=1 makes it)"
        ref_w, ref_h, reference = read_ppm(REFERENCE)
        assert (ref_w, ref_h) == (w, h)
        differing = sum(1 for i in range(0, len(crop), 3) if crop[i:i + 3] != reference[i:i + 3])
        if differing:
            ppm_to_png(dump, ROOT / "build" / "uefi-framebuffer-actual.png")
        assert differing == 0, f"{differing} pixels differ from {REFERENCE.name} (see build/uefi-framebuffer-actual.png)"


def main():
    if not ISO.exists():
        print(f"{ISO} is missing: run `make iso` first", file=sys.stderr)
        return 1
    only = sys.argv[1:]
    selected = [t for t in TESTS if not only or any(word in t.__name__ for word in only)]
    failed = 0
    for test in selected:
        started = time.monotonic()
        try:
            test()
            print(f"test system::{test.__name__} ... ok ({time.monotonic() - started:.1f} s)",
                  flush=True)
        except Exception:  # noqa: BLE001 - report every kind of failure
            failed += 1
            print(f"test system::{test.__name__} ... FAILED ({time.monotonic() - started:.1f} s)",
                  flush=True)
            traceback.print_exc(file=sys.stdout)
    print(f"system tests: {len(selected) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
