#!/usr/bin/env python3
"""Boots build/pyrite.iso and saves what the screen shows as a PNG.

  tools/screenshot.py [--firmware bios|uefi] [--wait TEXT] OUT.png
"""

import argparse
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402


def read_ppm(path):
    """A binary PPM (P6, maxval 255) as (width, height, RGB bytes)."""
    data = Path(path).read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P6" or maxval != 255:
        raise ValueError("expected a binary PPM with 8-bit channels")
    return width, height, data[pos + 1:pos + 1 + width * height * 3]


def ppm_to_png(ppm, png):
    """Converts QEMU's binary PPM (P6, maxval 255) to PNG."""
    width, height, pixels = read_ppm(ppm)
    row = width * 3
    raw = b"".join(b"\0" + pixels[y * row:(y + 1) * row] for y in range(height))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    Path(png).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
    parser.add_argument("--wait", default=qemu.PROMPT)
    parser.add_argument("--type", action="append", default=[],
                        help="a command line to type at the prompt first (repeatable)")
    parser.add_argument("out")
    options = parser.parse_args()
    with qemu.Machine(qemu.ROOT / "build" / "pyrite.iso", firmware=options.firmware) as m:
        if m.wait_for(options.wait, 60) is None:
            sys.exit(f"{options.wait!r} did not appear:\n{m.text()[-2000:]}")
        for line in options.type:
            m.type_line(line)
            time.sleep(1.0)
        time.sleep(0.5)
        with tempfile.TemporaryDirectory() as tmp:
            ppm = Path(tmp) / "screen.ppm"
            m.screendump(ppm)
            ppm_to_png(ppm, options.out)
    print(f"saved {options.out}")


if __name__ == "__main__":
    main()
