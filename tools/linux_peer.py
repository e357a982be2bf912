#!/usr/bin/env python3
"""The OS benchmarks (user/bench/bench.c) on Linux, the peer Pyrite is
measured against in the same QEMU.

Linux is Debian's packaged kernel, unpacked into build/linux/vmlinuz by
tools/setup. The benchmark is built static (musl-gcc, else gcc) and booted
as /init of an initramfs made here, beside /true (the program the
process-start figure runs). QEMU gets the machine Pyrite's benchmarks get
(tools/qemu.py: 128 MiB, QEMU's default CPU model, one CPU, TCG).

Kernel init time is measured from outside: QEMU's start to the benchmark's
first line (`bench: start`), the same measure as Pyrite's boot to prompt.

As a command:
  tools/linux_peer.py [--runs N]   full runs, the median of each figure
  tools/linux_peer.py --smoke      one quick run (bench.quick=1): every
                                   figure must come, then BENCH-DONE and
                                   power off; exits 1 otherwise
"""

import argparse
import gzip
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402

ROOT = qemu.ROOT
SOURCES = ROOT / "user" / "bench"
OUT = ROOT / "build" / "linux"
VMLINUZ = OUT / "vmlinuz"
INITRAMFS = OUT / "initramfs.cpio.gz"
# The memory Pyrite's benchmarks boot with (qemu.base_args' default); no
# -cpu and no -smp there either, so QEMU's defaults hold for both.
MEMORY = "128M"
APPEND = "console=ttyS0 quiet panic=-1"
START = "bench: start"
DONE = "BENCH-DONE"
BENCH_LINE = re.compile(r"^BENCH (\S+) (\S+) (\S+)\s*$")
SKIP_LINE = re.compile(r"^BENCH-SKIP (\S+) (.*?)\s*$", re.M)
START_LINE = re.compile(re.escape(START) + r" uptime_ms=([0-9.]+)")

# Every figure the benchmark program prints, for people. The smoke test
# checks the program prints exactly these.
FIGURES = {
    "os_null_syscall": "null system call (getpid)",
    "os_thread_switch_futex": "thread switch, token through a futex",
    "os_sched_yield_switch": "thread switch, two threads in sched_yield",
    "os_page_fault": "page fault, first touch of an anonymous page",
    "os_spawn_exit_wait": "spawn + exit + wait (Linux: posix_spawn)",
    "os_fork_exec_exit_wait": "process start: fork + exec + exit + wait",
    "os_nanosleep_1ms_oversleep_median": "nanosleep(1 ms): oversleep, median",
    "os_nanosleep_1ms_oversleep_max": "nanosleep(1 ms): oversleep, max",
}


def compiler():
    """musl-gcc (tools/setup installs musl-tools), else glibc's gcc."""
    for cc in ("musl-gcc", "gcc"):
        if shutil.which(cc):
            return cc
    sys.exit("no C compiler: run tools/setup (it installs musl-tools)")


def build_programs():
    """Compiles bench and true, static, into build/linux/; returns their paths."""
    OUT.mkdir(parents=True, exist_ok=True)
    cc = compiler()
    built = {}
    for name in ("bench", "true"):
        out = OUT / name
        subprocess.run([cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-static",
                        "-o", str(out), str(SOURCES / f"{name}.c"), "-lpthread"], check=True)
        built[name] = out
    return built


def _cpio_entry(name, mode, data=b"", rdev=(0, 0), ino=1):
    """One entry of a newc ("070701") cpio archive, the initramfs format."""
    name_bytes = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_bytes), 0]
    header = b"070701" + b"".join(b"%08X" % f for f in fields)

    def pad(b):
        return b + b"\0" * (-len(b) % 4)

    return pad(header + name_bytes) + pad(data)


def cpio_newc(entries):
    """A newc archive of (name, mode, data, rdev) entries, trailer included."""
    out = b"".join(_cpio_entry(name, mode, data, rdev, ino)
                   for ino, (name, mode, data, rdev) in enumerate(entries, start=1))
    return out + _cpio_entry("TRAILER!!!", 0, ino=0)


def build_initramfs():
    """build/linux/initramfs.cpio.gz: the benchmark as /init, /true, /proc
    to mount, and /dev/console (so /init has its output before any /dev)."""
    programs = build_programs()
    directory, regular, char_device = 0o040755, 0o100755, 0o020600
    entries = [
        ("dev", directory, b"", (0, 0)),
        ("dev/console", char_device, b"", (5, 1)),
        ("proc", directory, b"", (0, 0)),
        ("init", regular, programs["bench"].read_bytes(), (0, 0)),
        ("true", regular, programs["true"].read_bytes(), (0, 0)),
    ]
    INITRAMFS.write_bytes(gzip.compress(cpio_newc(entries), mtime=0))
    return INITRAMFS


def qemu_args(quick):
    if not VMLINUZ.exists():
        sys.exit(f"{VMLINUZ} is missing: run tools/setup (it fetches Debian's kernel)")
    append = APPEND + (" bench.quick=1" if quick else "")
    return [qemu.qemu_binary(), "-m", MEMORY, "-no-reboot", "-display", "none",
            "-serial", "stdio", "-monitor", "none",
            "-kernel", str(VMLINUZ), "-initrd", str(INITRAMFS), "-append", append]


class Run:
    """One boot's outcome: figures {name: (value, unit)}, seconds from QEMU's
    start to /init's first line, the kernel's own uptime then, the output."""

    def __init__(self, figures, init_s, uptime_ms, done, status, text):
        self.figures, self.init_s, self.uptime_ms = figures, init_s, uptime_ms
        self.done, self.status, self.text = done, status, text


def parse(text):
    """{name: (value, unit)} of the BENCH lines in `text`, whether BENCH-DONE
    came, and the kernel's uptime at /init's start (ms) or None."""
    figures = {}
    for line in text.replace("\r", "").splitlines():
        match = BENCH_LINE.match(line)
        if match:
            figures[match.group(1)] = (float(match.group(2)), match.group(3))
    start = START_LINE.search(text)
    done = any(line.strip() == DONE for line in text.splitlines())
    return figures, done, float(start.group(1)) if start else None


def skipped(text):
    """{name: reason} of the figures the program could not measure."""
    return dict(SKIP_LINE.findall(text.replace("\r", "")))


def boot(quick, timeout):
    """Boots Linux with the benchmark as /init; returns a Run. QEMU is
    killed after `timeout` seconds (the Run then has status None)."""
    started = time.monotonic()
    process = subprocess.Popen(qemu_args(quick), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines, first = [], []

    def read():
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace")
            if not first and START in line:
                first.append(time.monotonic() - started)
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        status = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        status = None
    reader.join(5)
    text = "".join(lines)
    figures, done, uptime_ms = parse(text)
    return Run(figures, first[0] if first else None, uptime_ms, done, status, text)


def problems(run):
    """What is wrong with a run, as a list of sentences (empty if nothing)."""
    found = []
    if run.status is None:
        found.append("QEMU did not end (no power off) in time")
    elif run.status != 0:
        found.append(f"QEMU ended with status {run.status}")
    if run.init_s is None:
        found.append(f"/init never printed {START!r}")
    missing = sorted(set(FIGURES) - set(run.figures))
    unknown = sorted(set(run.figures) - set(FIGURES))
    if missing:
        found.append(f"figures missing: {', '.join(missing)}")
    for name, reason in skipped(run.text).items():
        found.append(f"{name} skipped: {reason}")
    if unknown:
        found.append(f"figures unknown to tools/linux_peer.py: {', '.join(unknown)}")
    if not run.done:
        found.append(f"no {DONE} line")
    return found


def checked_boot(quick, timeout=300):
    """A boot whose output must be whole (else exits with what is wrong)."""
    run = boot(quick, timeout)
    wrong = problems(run)
    if wrong:
        sys.exit("Linux benchmark run failed: " + "; ".join(wrong) + "\n" + run.text[-2000:])
    return run


def summarise(rounds):
    """[{name: (value, unit)}] per round -> {name: stats and unit}."""
    values = {}
    for figures in rounds:
        for name, (value, unit) in figures.items():
            values.setdefault(name, ([], unit))[0].append(value)
    return {name: {**stats(v), "unit": unit} for name, (v, unit) in values.items()}


def section(runs):
    """bench.json's `linux` section from several Runs."""
    version_file = OUT / "version"
    return {"figures": summarise([r.figures for r in runs]),
            "init_s": stats([r.init_s for r in runs]),
            "kernel_uptime_at_init_ms": stats([r.uptime_ms for r in runs]),
            "kernel": version_file.read_text().strip() if version_file.exists() else "unknown",
            "memory": MEMORY, "cpus": 1}


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": len(values)}


def _self_test():
    sample = ("bench: start uptime_ms=812.5\r\nBENCH os_null_syscall 812.3 ns/call\n"
              "BENCH os_page_fault 4000.0 ns/page\nBENCH-DONE\n")
    figures, done, uptime = parse(sample)
    assert figures == {"os_null_syscall": (812.3, "ns/call"), "os_page_fault": (4000.0, "ns/page")}
    assert done and uptime == 812.5
    assert parse("BENCH-DONE-not\n")[1] is False
    assert skipped("BENCH-SKIP os_page_fault Function not implemented\r\n") == {
        "os_page_fault": "Function not implemented"}
    archive = cpio_newc([("init", 0o100755, b"abc", (0, 0))])
    assert archive.startswith(b"070701") and archive.rstrip(b"\0").endswith(b"TRAILER!!!")
    assert len(archive) % 4 == 0
    run = Run(figures, 1.0, uptime, done, 0, sample)
    assert any("missing" in p for p in problems(run))
    run.text += "BENCH-SKIP os_spawn_exit_wait No such file or directory\n"
    assert any(p == "os_spawn_exit_wait skipped: No such file or directory" for p in problems(run))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true",
                        help="one quick run; fails unless every figure comes and Linux powers off")
    options = parser.parse_args()
    _self_test()
    if options.smoke:
        build_initramfs()
        started = time.monotonic()
        run = boot(quick=True, timeout=90)
        wrong = problems(run)
        for name, (value, unit) in run.figures.items():
            print(f"{FIGURES.get(name, name):<48}{value:>12,.1f} {unit}")
        print(f"smoke run in {time.monotonic() - started:.1f} s")
        if wrong:
            print("FAILED: " + "; ".join(wrong))
            print(run.text[-2000:])
            return 1
        return 0
    build_initramfs()
    runs = []
    for i in range(options.runs):
        runs.append(checked_boot(quick=False))
        print(f"run {i + 1} of {options.runs}: /init after {runs[-1].init_s:.2f} s", flush=True)
    result = section(runs)
    for name, s in result["figures"].items():
        print(f"{FIGURES.get(name, name):<48}{s['median']:>12,.1f} {s['unit']}")
    print(f"{'kernel init (QEMU start to /init)':<48}{result['init_s']['median']:>12.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
