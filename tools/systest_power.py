"""System tests of ACPI power control: `shutdown` turns the machine off
(QEMU exits with status 0) on BIOS and UEFI, `-machine pc` and `q35`;
`reboot` brings the prompt back on a machine that restarts on reset; and
without ACPI tables the boot log says so and `shutdown` says it cannot.

Boots are few (each costs 5-10 s of TCG): the two reboot checks ride on
two of the four shutdown boots.
"""

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import facts  # noqa: E402
import qemu  # noqa: E402
from systest_common import BOOT_TIMEOUT, wait_for_count  # noqa: E402

ISO = qemu.ROOT / "build" / "pyrite.iso"
PROMPT = qemu.PROMPT
READY = qemu.READY
POWERING_OFF = facts.rust_const("src/task/shell/mod.rs", "POWERING_OFF")
# The bound: QEMU must be gone this soon after `shutdown`.
SHUTDOWN_SECONDS = 5

TESTS = []


def system_test(fn):
    TESTS.append(fn)
    return fn


def boot(machine, count=1):
    """Waits for the `count`th prompt (a reboot brings another)."""
    assert wait_for_count(machine, PROMPT, count, BOOT_TIMEOUT), \
        f"prompt {count} did not come within {BOOT_TIMEOUT} s:\n{machine.text()[-2000:]}"


def warnings(text):
    return [line for line in text.splitlines() if "WARN" in line]


def shutdown_ends_qemu(machine):
    """Types `shutdown` and checks QEMU exits 0 within the bound, after the
    goodbye reached serial (the consoles were drained)."""
    machine.type_line("shutdown")
    typed = time.monotonic()
    status = machine.wait_exit(SHUTDOWN_SECONDS)
    took = time.monotonic() - typed
    assert status == 0, f"QEMU status {status} {took:.1f} s after shutdown:\n{machine.text()[-1500:]}"
    assert POWERING_OFF in machine.text(), f"no goodbye on serial:\n{machine.text()[-1500:]}"
    return took


def reboot_brings_the_prompt_back(machine):
    machine.type_line("reboot")
    boot(machine, count=2)
    text = machine.text()
    assert text.count(READY) == 2, "the kernel did not boot a second time"
    assert "did not reset the machine" not in text, \
        f"a reset way failed:\n{warnings(text)}"


def power_test(firmware, machine_type, with_reboot, cpus=1):
    def test():
        extra = ["-machine", machine_type, "-smp", str(cpus)]
        with qemu.Machine(ISO, firmware=firmware, extra=extra,
                          reset_ends=not with_reboot) as m:
            boot(m)
            text = m.text()
            acpi_warnings = [w for w in warnings(text) if "acpi" in w.lower()]
            assert not acpi_warnings, f"ACPI warnings on a machine with ACPI:\n{acpi_warnings}"
            ids = "0" if cpus == 1 else f"0-{cpus - 1}"
            madt = re.search(r"acpi: (\d+) CPUs? \(APIC ids ([^)]*)\), 1 IOAPIC .*IRQ 0 -> GSI 2", text)
            assert madt, f"no MADT line with the CPUs and IRQ 0's override:\n{text[-2000:]}"
            assert madt.groups() == (str(cpus), ids), madt.group(0)
            assert re.search(r"acpi: FADT .*PM1a control", text), text[-2000:]
            assert "acpi: \\_S5 gives SLP_TYPa" in text, text[-2000:]
            if with_reboot:
                reboot_brings_the_prompt_back(m)
            took = shutdown_ends_qemu(m)
            print(f"    {firmware} {machine_type}: QEMU exited 0 {took:.2f} s after shutdown"
                  + (", after a reboot" if with_reboot else ""))
    test.__name__ = f"shutdown_powers_off_{firmware}_{machine_type}" + (
        "_after_reboot" if with_reboot else "")
    return test


TESTS += [
    power_test("bios", "pc", with_reboot=True),
    power_test("bios", "q35", with_reboot=False, cpus=2),
    power_test("uefi", "pc", with_reboot=False, cpus=3),
    power_test("uefi", "q35", with_reboot=True),
]


@system_test
def without_acpi_the_log_warns_and_shutdown_says_it_cannot():
    with qemu.Machine(ISO, firmware="bios", extra=["-no-acpi"]) as m:
        boot(m)
        found = [w for w in warnings(m.text()) if "acpi:" in w]
        assert any("no RSDP" in w and "no MADT, no FADT" in w and "8259 PIC" in w
                   for w in found), f"no warning names the missing tables:\n{found}"
        m.type_line("help")
        assert wait_for_count(m, PROMPT, 2, 10), f"no prompt after help:\n{m.text()[-1000:]}"
        assert "\n  shutdown" in m.text(), "help does not list shutdown"
        m.type_line("shutdown")
        assert wait_for_count(m, PROMPT, 3, 10), f"no prompt after shutdown:\n{m.text()[-1000:]}"
        after = m.text().split(PROMPT + "shutdown\n", 1)[1]
        assert "shutdown: cannot power off: no ACPI FADT" in after, after
        assert POWERING_OFF not in after, after
        assert m.running(), "QEMU ended although shutdown said it could not power off"
