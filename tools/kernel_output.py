"""Reads the kernel's machine-readable output: the one place the tools parse
what Pyrite prints.

The kernel prints figures for people (rounded sizes, prose) and, beside them,
lines of exact `key=value` pairs behind a tag:

  mem: frames_total=65247 frames_free=64870 ... heap_failed=0
      what `mem --raw` prints at the prompt (src/task/shell/command.rs)
  [    0.012345] INFO  boot: summary: firmware=bios usable_bytes=267255808 ...
      the boot log's summary line (src/boot/summary.rs)

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
    assert mem(log)["frames_free"] == 63999, mem(log)  # the last complete line wins
    assert mem(log)["heap_design"] == "fixed_size_blocks"
    assert init_ms(log) == 19.8
    assert mem("pyrite> mem --raw\n") is None
    assert facts("mem: \n", "mem") is None
    assert boot_summary("no summary here") is None and init_ms("") is None
    print("kernel_output: parser tests passed")


if __name__ == "__main__":
    _self_test()
