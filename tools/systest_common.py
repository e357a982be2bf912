"""What the system tests share: waiting for text on COM1, booting to the
prompt, and typing a command on serial to read its answer."""

import time

import qemu

# Generous: the system tests check behaviour; `make bench` measures speed.
BOOT_TIMEOUT = 60


def wait_for_count(machine, needle, count, timeout=20):
    """Waits until `needle` has appeared `count` times on serial. False if
    it has not within `timeout` seconds, or QEMU ended without it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if machine.text().count(needle) >= count:
            return True
        if not machine.running():
            time.sleep(0.1)
            return machine.text().count(needle) >= count
        time.sleep(0.02)
    return False


def boot_to_prompt(machine, what="BIOS"):
    """Waits for the ready line, then the prompt; returns the seconds to
    the ready line."""
    seconds = machine.wait_for(qemu.READY, BOOT_TIMEOUT)
    assert seconds is not None, \
        f"{what}: no ready line within {BOOT_TIMEOUT} s:\n{machine.text()[-2000:]}"
    assert machine.wait_for(qemu.PROMPT, 10) is not None, \
        f"{what}: no prompt:\n{machine.text()[-1000:]}"
    return seconds


def run(machine, line):
    """Types `line` on serial and returns what it printed before the next prompt."""
    prompts = machine.text().count(qemu.PROMPT)
    machine.send_serial(line.encode() + b"\r")
    assert wait_for_count(machine, qemu.PROMPT, prompts + 1), machine.text()[-1000:]
    text = machine.text().replace("\r\n", "\n")
    return text.split(qemu.PROMPT + line + "\n")[-1].rsplit(qemu.PROMPT, 1)[0]
