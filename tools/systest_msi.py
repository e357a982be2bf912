"""System tests of message-signalled interrupts for xHCI and of PCI
configuration access: with MSI-X the idle prompt stays tickless while a USB
keyboard is plugged in; a controller without MSI-X uses MSI, one without
either is polled, as is every controller in 8259 mode; q35 reaches PCI
configuration space through ECAM (the MCFG), the pc machine through ports.

tools/system_tests.py runs these with its own; see TESTS.
"""

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402
import systest_apic  # noqa: E402
import systest_usb  # noqa: E402

ISO = qemu.ROOT / "build" / "pyrite.iso"
PROMPT = qemu.PROMPT
KEYBOARD_UP = systest_usb.KEYBOARD_UP
PORTS = "configuration through ports 0xCF8/0xCFC"
ECAM = "configuration through ECAM"

TESTS = []


def msi_test(fn):
    TESTS.append(fn)
    return fn


def _boot(m, what):
    systest_usb.boot_to_prompt(m, what)
    assert m.wait_for(KEYBOARD_UP, 20) is not None, f"{what}: no USB keyboard:\n{m.text()[-2000:]}"


def _types_through_usb(m, word):
    """Types `echo word` and checks the USB keyboard's report count grew;
    returns the last `lsusb` output."""
    prompts = m.text().count(PROMPT)
    before = systest_usb.keyboard_reports(systest_usb.run_command(m, "lsusb", prompts))
    out = systest_usb.run_command(m, f"echo {word}", prompts + 1)
    assert f"\n{word}\n" in out, out
    out = systest_usb.run_command(m, "lsusb", prompts + 2)
    after = systest_usb.keyboard_reports(out)
    assert before and after and after[0] > before[0], f"keys did not come by USB: {before} -> {after}"
    return out


def _interrupts_taken(lsusb, bdf):
    """The interrupt count `lsusb` gives for the controller at `bdf`."""
    found = re.search(re.escape(f"controller {bdf} ") + r"[^\n]*interrupts by MSI(?:-X)? vector "
                      r"0x[0-9a-f]+ \((\d+) taken\)", lsusb)
    assert found, lsusb
    return int(found.group(1))


@msi_test
def with_msix_the_idle_prompt_stays_tickless_with_a_usb_keyboard():
    # The APIC test's bound (2: the typed `irq` line's input-drop watcher
    # and one early one-shot) plus the USB task's safety look once a
    # second (5) and one for its phase. Polling every 4 ms would give 1250.
    extra = systest_usb.q35("qemu-xhci,id=xhci", "usb-kbd,bus=xhci.0")
    with qemu.Machine(ISO, firmware="bios", extra=extra) as m:
        _boot(m, "BIOS")
        assert re.search(r"xhci 00:\d\d\.0: interrupts by MSI-X vector", m.text()), m.text()[-2000:]
        time.sleep(1)
        before = systest_apic._timer_interrupts(m)
        time.sleep(systest_apic.IDLE_SECONDS)
        after = systest_apic._timer_interrupts(m)
    interrupts = after - before
    print(f"    qemu-xhci + usb-kbd on MSI-X: {interrupts} timer interrupts in "
          f"{systest_apic.IDLE_SECONDS} s at the idle prompt")
    assert interrupts <= 8, interrupts


@msi_test
def nec_without_msix_uses_msi_and_without_either_is_polled():
    # nec-usb-xhci can have its capabilities switched off: with MSI only,
    # the keyboard on it types by MSI; with neither, it is polled.
    extra = systest_usb.q35("nec-usb-xhci,id=msi,msix=off,addr=5",
                            "nec-usb-xhci,id=none,msi=off,msix=off,addr=6",
                            "usb-kbd,bus=msi.0")
    with qemu.Machine(ISO, firmware="uefi", extra=extra) as m:
        _boot(m, "UEFI")
        log = m.text()
        assert "xhci 00:05.0: interrupts by MSI vector 0x" in log, log[-2000:]
        assert "xhci 00:06.0: polled every 4 ms (no MSI or MSI-X capability)" in log, log[-2000:]
        out = _types_through_usb(m, "by-msi")
        # Every key is a report, each report an interrupt (or a few, merged
        # by moderation): far more than the safety look's once a second.
        assert _interrupts_taken(out, "00:05.0") >= 10, out
        # Woken by MSI, not found by the once-a-second look.
        latency = systest_usb.key_latency(m)
        print(f"    key to echo by MSI: {latency * 1000:.1f} ms (median of 9, TCG)")
        assert latency < 0.1, f"key to echo took {latency * 1000:.0f} ms"


@msi_test
def pc_reaches_pci_through_ports_and_pic_mode_polls():
    extra = ["-device", "qemu-xhci,id=xhci", "-device", "usb-kbd,bus=xhci.0"]
    with qemu.Machine(ISO, firmware="bios", extra=extra) as m:
        _boot(m, "pc")
        log = m.text()
        assert PORTS in log and ECAM not in log, "pc's PCI not through ports"
        assert "no MCFG table" in log, log[-2000:]
        assert re.search(r"xhci 00:\d\d\.0: interrupts by MSI-X vector", log), log[-2000:]
    with qemu.Machine(ISO, firmware="bios", extra=extra + ["-no-acpi"]) as m:
        _boot(m, "pc, 8259")
        log = m.text()
        assert PORTS in log, "PCI not through ports without ACPI"
        assert re.search(r"xhci 00:\d\d\.0: polled every 4 ms \(no MSI in PIC mode\)", log), log[-2000:]
        _types_through_usb(m, "polled")
        prompts = m.text().count(PROMPT)
        out = systest_usb.run_command(m, "lsusb", prompts)
        assert "polled every 4 ms (no MSI in PIC mode)" in out, out
        latency = systest_usb.key_latency(m)
        print(f"    key to echo polled (8259 mode): {latency * 1000:.1f} ms (median of 9, TCG)")
        assert latency < 0.1, f"key to echo took {latency * 1000:.0f} ms"
