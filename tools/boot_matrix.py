#!/usr/bin/env python3
"""The boot matrix: build/pyrite.iso booted on BIOS and UEFI, from a CD, a USB
stick and a hard disk, with several memory sizes, 4 CPUs and other CPU
models. Each cell must reach the prompt, and `mem` (typed through QMP) must
report usable memory within 10% of what QEMU was given.

Used by the system tests (each cell once) and by `make bench` (boot time,
median of 3). As a command: tools/boot_matrix.py [--runs N]
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402
from kernel_output import PROMPT, ask_mem  # noqa: E402

ISO = qemu.ROOT / "build" / "pyrite.iso"

# (name, firmware, media, memory in MiB, extra QEMU arguments)
CELLS = [
    ("bios-cd-128M", "bios", "cdrom", 128, []),
    ("bios-cd-1G", "bios", "cdrom", 1024, []),
    ("bios-cd-4G", "bios", "cdrom", 4096, []),
    ("uefi-cd-256M", "uefi", "cdrom", 256, []),
    ("uefi-cd-4G", "uefi", "cdrom", 4096, []),
    ("bios-usb-512M", "bios", "usb", 512, []),
    ("uefi-usb-512M", "uefi", "usb", 512, []),
    ("bios-disk-512M", "bios", "disk", 512, []),
    ("uefi-disk-512M", "uefi", "disk", 512, []),
    ("bios-smp4-512M", "bios", "cdrom", 512, ["-smp", "4"]),
    ("uefi-smp4-512M", "uefi", "cdrom", 512, ["-smp", "4"]),
    ("bios-qemu64-512M", "bios", "cdrom", 512, ["-cpu", "qemu64"]),
    ("uefi-qemu64-512M", "uefi", "cdrom", 512, ["-cpu", "qemu64"]),
    ("bios-cpumax-512M", "bios", "cdrom", 512, ["-cpu", "max"]),
    ("uefi-cpumax-512M", "uefi", "cdrom", 512, ["-cpu", "max"]),
]

def boot_cell(cell, timeout=90):
    """Boots one cell; returns (seconds to the prompt, usable MiB from
    `mem --raw`). Raises AssertionError with the serial output on failure."""
    name, firmware, media, mib, extra = cell
    with qemu.Machine(ISO, firmware=firmware, memory=f"{mib}M", media=media, extra=extra) as m:
        seconds = m.wait_for(PROMPT, timeout)
        assert seconds is not None, f"{name}: no prompt within {timeout} s:\n{m.text()[-1500:]}"
        figures = ask_mem(m)
        usable = figures["frames_total"] * figures["frame_bytes"] / (1 << 20)
        # Firmware reserves a little (and 4 GiB machines lose the PCI hole
        # above 3 GiB only in part: QEMU moves that RAM above 4 GiB).
        assert 0.9 * mib <= usable <= mib, f"{name}: {usable:.1f} MiB usable of {mib} MiB"
        return seconds, usable


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print(f"{'cell':<20}{'median s':>10}{'min s':>8}{'max s':>8}{'usable MiB':>12}")
    for cell in CELLS:
        runs = [boot_cell(cell) for _ in range(options.runs)]
        times = [s for s, _ in runs]
        print(f"{cell[0]:<20}{statistics.median(times):>10.2f}{min(times):>8.2f}"
              f"{max(times):>8.2f}{runs[0][1]:>12.1f}")


if __name__ == "__main__":
    main()
