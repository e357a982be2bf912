"""System tests of USB: PCI enumeration (`lspci`), xHCI controllers and
their ports (`lsusb`), and a USB boot keyboard typing into the shell, with
hot-plug, on BIOS and UEFI and on two controller models.

QEMU sends `send-key` input to the keyboard that registered last and is
active: the USB keyboard when one is plugged in (QEMU's HID keyboard makes
itself the active handler), the PS/2 keyboard once it is unplugged. Each
test checks which one typed through the USB keyboard's report count that
`lsusb` shows.

tools/system_tests.py runs these with its own; see TESTS.
"""

import random
import re
import statistics
import time

import qemu
from systest_common import boot_to_prompt, wait_for_count
ISO = qemu.ROOT / "build" / "pyrite.iso"
PROMPT = qemu.PROMPT

TESTS = []

KEYBOARD_UP = "boot keyboard on interface"
REMOVED = "removed; slot"


def usb_test(fn):
    TESTS.append(fn)
    return fn


def q35(*devices):
    args = ["-machine", "q35"]
    for device in devices:
        args += ["-device", device]
    return args


def run_command(m, line, prompts_before):
    """Types `line` and Enter, waits for the next prompt; returns the output."""
    start = len(m.text())
    m.type_line(line)
    assert wait_for_count(m, PROMPT, prompts_before + 1), \
        f"{line!r}: no prompt after it:\n{m.text()[-1500:]}"
    return m.text()[start:]


def keyboard_reports(lsusb_output):
    """The report counts of the keyboards `lsusb` lists."""
    return [int(n) for n in re.findall(r"keyboard \((\d+) reports\)", lsusb_output)]


def key_latency(m, key="q", count=9):
    """Median seconds from a QMP send-key to the key's echo on serial. The
    keys go out at random gaps, so that they land at every phase of the
    USB driver's polling."""
    samples = []
    for _ in range(count):
        start = len(m.text())
        sent = time.monotonic()
        m.send_key(key)
        while key not in m.text()[start:]:
            assert time.monotonic() - sent < 5, f"key {key} not echoed within 5 s"
            time.sleep(0.0005)
        samples.append(time.monotonic() - sent)
        time.sleep(0.01 + random.random() * 0.02)
    erased = m.text().count("\b \b")
    for _ in range(count):
        m.send_key("backspace")
    # QEMU queues keys a few ms apart: let them all arrive before going on.
    assert wait_for_count(m, "\b \b", erased + count, timeout=5), "backspaces not echoed"
    return statistics.median(samples)


@usb_test
def usb_keyboard_bios_types_hotplugs_and_hands_back_to_ps2():
    """BIOS, q35, qemu-xhci with a USB keyboard, a USB 3 stick (a super
    speed device that is not a keyboard) and the PS/2 keyboard: boot log
    and lspci; keys through USB (report count grows), with shift, the up
    arrow and Ctrl-C; software key repeat on a held key; unplug (logged, keys go to PS/2); plug a new one
    (enumerated, types again)."""
    extra = q35("qemu-xhci,id=xhci", "usb-kbd,id=k1,bus=xhci.0",
                "usb-storage,drive=stick,bus=xhci.0")
    extra += ["-drive", f"if=none,id=stick,format=raw,file={ISO},snapshot=on,readonly=on"]
    with qemu.Machine(ISO, firmware="bios", extra=extra) as m:
        boot_to_prompt(m)
        assert m.wait_for(KEYBOARD_UP, 20) is not None, f"no USB keyboard:\n{m.text()[-2000:]}"
        log = m.text()
        assert log.index(KEYBOARD_UP) < log.index(qemu.READY), "the keyboard is not in the boot log"
        assert re.search(r"INFO  drivers: pci: \d+ functions on \d+ buses", log), "no PCI summary"
        assert "configuration through ECAM (segment 0 buses 0-255" in log, "q35 PCI not through ECAM"
        assert re.search(r"xhci 00:\d\d\.0: interrupts by MSI-X vector 0x[0-9a-f]{2}\n", log), \
            "qemu-xhci not on MSI-X"
        assert "xHCI 1b36:000d running, 8 ports" in log, "controller not started"
        assert re.search(r"port \d+: device 0627:0001 class 00", log), "keyboard not enumerated"

        prompts = m.text().count(PROMPT)
        out = run_command(m, "lspci", prompts)
        assert re.search(r"00:\d\d\.0 1b36:000d \[0c0330\] UsbController \(driver: xhci\)", out), out
        assert "IsaBridge (no driver)" in out, out

        out = run_command(m, "lsusb", prompts + 1)
        assert "controller 00:" in out and "xHCI 1b36:000d, 8 ports, interrupts by MSI-X vector" in out, out
        taken = re.search(r"interrupts by MSI-X vector 0x[0-9a-f]+ \((\d+) taken\)", out)
        assert taken and int(taken.group(1)) >= 11, f"keys did not come by MSI-X: {out}"
        assert re.search(r"port \d \(USB 3\): slot \d device 46f4:0001 class 00, super speed", out), out
        reports = keyboard_reports(out)
        # "lspci" and "lsusb", each with Enter: at least a press per key came by USB.
        assert reports and reports[0] >= 11, f"keys did not come through the USB keyboard: {out}"
        usb_latency = key_latency(m)
        # Woken by the controller's interrupt: a key that takes a tenth of
        # a second is lost in a queue or waits for something it should not.
        assert usb_latency < 0.1, f"USB key to echo took {usb_latency * 1000:.0f} ms"

        # Held 1.5 s: the first repeat after 0.5 s, then about 30 a second.
        m.type_text(["e", "c", "h", "o", "spc"])
        m.command("send-key", keys=[{"type": "qcode", "data": "r"}], **{"hold-time": 1500})
        m.send_key("ret")
        assert wait_for_count(m, PROMPT, prompts + 3), m.text()[-500:]
        echoed = re.findall(r"\n(r+)\n", m.text())
        assert echoed, f"no echo of the held key:\n{m.text()[-500:]}"
        repeats = len(echoed[-1]) - 1
        assert 15 <= repeats <= 45, f"{repeats} repeats in a 1.5 s hold (expected about 30)"

        # Modifiers and E0-prefixed keys through USB: shift, the up arrow
        # (history), Ctrl-C.
        m.type_text(["e", "c", "h", "o", "spc", ("shift", "h"), "i", ("shift", "1"), "ret"])
        assert wait_for_count(m, "\nHi!\n", 1), f"shifted keys lost:\n{m.text()[-500:]}"
        m.type_text(["up", "ret"])
        assert wait_for_count(m, "\nHi!\n", 2), f"the up arrow did not recall the line:\n{m.text()[-500:]}"
        m.type_line("sleep 9")
        time.sleep(0.3)
        m.send_key("ctrl", "c")
        assert wait_for_count(m, "^C\n", 1, timeout=5), f"Ctrl-C did not stop the sleep:\n{m.text()[-500:]}"
        assert wait_for_count(m, PROMPT, prompts + 6), m.text()[-500:]

        m.command("device_del", id="k1")
        assert m.wait_for(REMOVED, 10) is not None, f"unplug not reported:\n{m.text()[-1000:]}"
        out = run_command(m, "lsusb", prompts + 6)
        assert keyboard_reports(out) == [], f"a keyboard is still listed: {out}"
        ps2_latency = key_latency(m)

        m.command("device_add", driver="usb-kbd", id="k2", bus="xhci.0")
        assert wait_for_count(m, KEYBOARD_UP, 2, timeout=10), f"hot-plugged keyboard not started:\n{m.text()[-1500:]}"
        out = run_command(m, "lsusb", prompts + 7)
        reports = keyboard_reports(out)
        assert reports and reports[0] >= 5, f"the new keyboard did not type: {out}"
        print(f"    key to echo: USB {usb_latency * 1000:.1f} ms, PS/2 {ps2_latency * 1000:.1f} ms "
              f"(median of 9, TCG); {repeats} repeats in a 1.5 s hold")


@usb_test
def usb_keyboard_uefi_on_a_second_controller_model_behind_a_bridge():
    """UEFI, q35, two controllers: qemu-xhci with a tablet (a device that is
    not a keyboard) and nec-usb-xhci behind a PCI-to-PCI bridge with the
    keyboard. The bridge is followed, both controllers are listed, the
    tablet is left alone, and keys come through the NEC controller."""
    extra = q35("pci-bridge,id=br1,chassis_nr=1", "qemu-xhci,id=xhci",
                "nec-usb-xhci,id=nec,bus=br1,addr=3", "usb-kbd,id=k1,bus=nec.0",
                "usb-tablet,bus=xhci.0")
    with qemu.Machine(ISO, firmware="uefi", extra=extra) as m:
        boot_to_prompt(m, "UEFI")
        assert m.wait_for(KEYBOARD_UP, 20) is not None, f"no USB keyboard:\n{m.text()[-2000:]}"
        log = m.text()
        assert re.search(r"pci: \d+ functions on 2 buses \(1 bridges\)", log), "bridge not followed"
        assert "usb: 2 of 2 xHCI controllers running" in log, log[-2000:]
        assert "configuration through ECAM" in log, "q35 PCI not through ECAM"
        # Both models have MSI and MSI-X; MSI-X is taken where present.
        assert re.search(r"xhci 00:\d\d\.0: interrupts by MSI-X vector", log), "qemu-xhci not on MSI-X"
        assert "xhci 01:03.0: interrupts by MSI-X vector" in log, "nec-usb-xhci not on MSI-X"
        assert "not a boot keyboard; left unconfigured" in log, "the tablet was not looked at"
        prompts = m.text().count(PROMPT)
        out = run_command(m, "echo via nec", prompts)
        assert "\nvia nec\n" in out, out
        out = run_command(m, "lspci", prompts + 1)
        assert re.search(r"01:03\.0 1033:0194 \[0c0330\] UsbController \(driver: xhci\)", out), out
        assert "PciPciBridge" in out, out
        out = run_command(m, "lsusb", prompts + 2)
        assert "xHCI 1b36:000d" in out and "controller 01:03.0 xHCI 1033:0194" in out, out
        first, nec = out.split("xHCI 1033:0194")
        assert keyboard_reports(first) == [], f"the tablet is listed as a keyboard: {out}"
        reports = keyboard_reports(nec)
        assert reports and reports[0] >= 17, f"keys did not come through the NEC controller: {out}"

        # A flood through the USB keyboard: whatever arrives is one line,
        # drops (if any) are counted, and the shell goes on.
        for i in range(300):
            m.command("send-key", keys=[{"type": "qcode", "data": "abcdefghij"[i % 10]}],
                      **{"hold-time": 1})
        time.sleep(1)
        # QEMU's keyboard drops events when its queue of 16 is full, a
        # release among them, and then believes that key still held (as
        # its reports then say). Key-up events for the flood's keys set
        # it right, as lifting every finger would on a real keyboard.
        m.command("input-send-event", events=[
            {"type": "key", "data": {"down": False, "key": {"type": "qcode", "data": k}}}
            for k in "abcdefghij"])
        time.sleep(0.2)
        m.send_key("ret")
        assert wait_for_count(m, PROMPT, prompts + 4, timeout=30), m.text()[-800:]
        out = run_command(m, "irq", prompts + 4)
        counter = re.search(r"usb keyboards: (\d+) scancodes dropped \(queue of 255\)", out)
        assert counter, out
        out = run_command(m, "echo alive", prompts + 5)
        assert "\nalive\n" in out, out
        print(f"    after a 300-key flood: {counter.group(0)}")
