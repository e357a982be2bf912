"""Reads the kernel's machine-readable output: the one place the tools parse
what Pyrite prints.

The kernel prints figures for people (rounded sizes, prose) and, beside them,
lines of exact `key=value` pairs behind a tag:

  mem: frames_total=65247 frames_free=64870 ... heap_failed=0
      what `mem --raw` prints at the prompt (src/task/shell/command.rs)
  [    0.012345] INFO  boot: summary: firmware=bios usable_bytes=267255808 ...
      the boot log's summary line (src/boot/summary.rs)
  [    0.058459] INFO  init: interrupt_mode: controller=xapic io_apics=1 timer=...
      the interrupt controller and timer in use (src/init.rs)

Keys keep their meaning; new ones may appear, so read the keys you need.
Run this file to test the parser: python3 tools/kernel_output.py
"""

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402

# Both read from the kernel's sources (tools/facts.py), never written here.
PROMPT = qemu.PROMPT
_PAIR = re.compile(r"^([a-z][a-z0-9_]*)=(\S+)$")
_READY = re.compile(re.escape(qemu.READY) + r"([0-9]+(?:\.[0-9]+)?) ms")


def _value(text):
    return int(text) if text.isdigit() else text


def facts(text, tag):
    """The `key=value` pairs of the last line in `text` where `tag: ` is
    followed by pairs only, as a dict (integers as int). None if no line."""
    marker = tag + ": "
    for line in reversed(text.splitlines()):
        at = line.rfind(marker)
        if at < 0:
            continue
        words = line[at + len(marker):].split()
        matches = [_PAIR.match(w) for w in words]
        if words and all(matches):
            return {m.group(1): _value(m.group(2)) for m in matches}
    return None


def mem(text):
    """The figures of the last `mem --raw` in `text`, or None."""
    return facts(text, "mem")


def boot_summary(text):
    """The boot log's summary pairs (firmware, usable_bytes, ...), or None."""
    return facts(text, "summary")


def interrupt_mode(text):
    """The boot log's interrupt mode: controller (x2apic, xapic or pic, with
    a reason), io_apics and timer (tsc_deadline, apic_one_shot,
    pit_one_shot, rtc_periodic or none); None if absent."""
    return facts(text, "interrupt_mode")


_SLEPT = re.compile(r"slept ([0-9]+\.[0-9]+) ms by the TSC \(([0-9]+) ms asked\)")


def slept(text):
    """(milliseconds slept by the TSC, milliseconds asked) of the shell's
    last `sleep` in `text`, or None."""
    found = _SLEPT.findall(text)
    return (float(found[-1][0]), int(found[-1][1])) if found else None


def init_ms(text):
    """Milliseconds of kernel init, from the ready line, or None."""
    match = _READY.search(text)
    return float(match.group(1)) if match else None


def ask_mem(machine, timeout=30):
    """Types `mem --raw` at the prompt of a running qemu.Machine and returns
    its figures. Raises AssertionError with the output if none came."""
    before = len(machine.text())
    machine.type_line("mem --raw")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        figures = mem(machine.text()[before:])
        if figures is not None:
            return figures
        time.sleep(0.05)
    raise AssertionError(f"no `mem --raw` line within {timeout} s:\n{machine.text()[-800:]}")


def _self_test():
    log = ("[    0.001000] INFO  boot: usable memory: 254.9 MiB\n"
           "[    0.001100] INFO  boot: summary: firmware=bios usable_bytes=267255808 memory_areas=6\n"
           "[    0.020000] INFO  init: Pyrite 0.1.0 is up in 19.8 ms; 254.9 MiB usable\n"
           "pyrite> mem --raw\n"
           "mem: frames_total=65000 frames_free=64000 heap_design=fixed_size_blocks\n"
           "pyrite> mem --raw\n"
           "mem: frames_total=65000 frames_free=63999 heap_design=fixed_size_blocks\n"
           "pyrite> echo mem: x=1 not pairs\n"
           "mem: x=1 not pairs\n")
    assert boot_summary(log) == {"firmware": "bios", "usable_bytes": 267255808, "memory_areas": 6}
    modes = ("[    0.05] INFO  init: interrupt_mode: controller=pic reason=no_madt io_apics=0 "
             "timer=pit_one_shot\n")
    assert interrupt_mode(modes) == {"controller": "pic", "reason": "no_madt", "io_apics": 0,
                                     "timer": "pit_one_shot"}, interrupt_mode(modes)
    assert interrupt_mode(log) is None
    assert boot_summary(log + modes)["firmware"] == "bios"
    sleeps = "slept 200.512 ms by the TSC (200 ms asked)\npyrite> \nslept 1000.1 ms by the TSC (1000 ms asked)\n"
    assert slept(sleeps) == (1000.1, 1000), slept(sleeps)
    assert slept(log) is None
    assert mem(log)["frames_free"] == 63999, mem(log)  # the last complete line wins
    assert mem(log)["heap_design"] == "fixed_size_blocks"
    assert init_ms(log) == 19.8
    assert mem("pyrite> mem --raw\n") is None
    assert facts("mem: \n", "mem") is None
    assert boot_summary("no summary here") is None and init_ms("") is None
    print("kernel_output: parser tests passed")


if __name__ == "__main__":
    _self_test()
