"""The OS benchmarks side by side: Pyrite and Linux running the same
benchmark program (user/bench/bench.c) in the same QEMU, in the same run,
rounds alternating between the two kernels. Used by tools/bench.

The target for each figure: Pyrite's median at most Linux's (ratio <= 1.0).
Under QEMU's software emulation the absolute times mean little; the ratio
to Linux measured in the same emulator is the figure that counts.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import linux_peer  # noqa: E402
import qemu  # noqa: E402

ROOT = linux_peer.ROOT
KERNEL = ROOT / "target" / "x86_64-unknown-none" / "release" / "pyrite"
# What `make iso` packs of user/ (tools/user-programs), FILE=/NAME a line.
PROGRAMS = ROOT / "build" / "user-programs"
PYRITE_ISO = ROOT / "build" / "pyrite-osbench.iso"
# Where Pyrite's ISO carries the benchmark program and the one it starts.
BENCH_ON_PYRITE, TRUE_ON_PYRITE = "/bin/osbench", "/bin/true"

TARGET_RATIO = 1.0
# What the Pyrite column says while Pyrite cannot run the benchmark program.
PYRITE_MISSING = "not yet (no user mode)"


def pyrite_iso():
    """build/pyrite-osbench.iso: `make iso`'s kernel and user programs plus
    the benchmark program (the very binary Linux runs) as /bin/osbench and
    /bin/true. Returns its path."""
    if not PROGRAMS.exists() or not KERNEL.exists():
        sys.exit(f"{PROGRAMS} or {KERNEL} is missing: run `make iso` first")
    programs = linux_peer.build_programs()
    modules = PROGRAMS.read_text().split() + [f"{programs['bench']}={BENCH_ON_PYRITE}",
                                              f"{programs['true']}={TRUE_ON_PYRITE}"]
    subprocess.run([str(ROOT / "tools" / "mkiso"), str(KERNEL), str(PYRITE_ISO)], check=True,
                   env={**os.environ, "BOOT_MODULES": " ".join(modules)},
                   stdout=subprocess.DEVNULL)
    return PYRITE_ISO


# The shell's command that runs a program in the foreground, and what the
# shell says to a command it does not have (then Pyrite has no user mode).
RUN_COMMAND = "run"
NO_SUCH_COMMAND = "unknown command: " + RUN_COMMAND


def pyrite_run(iso, quick, timeout=300):
    """One round of the benchmark program on Pyrite: boots `iso`
    (pyrite_iso()) on the machine Linux gets (qemu.Machine: 128 MiB, the
    default CPU, one CPU), types `run osbench quick|full /bin/true` on
    serial and reads the BENCH lines as linux_peer does. Returns
    ({name: (value, unit)}, {name: reason skipped}), or None if the shell
    has no `run` (no user mode). Exits with the output if the program
    does not finish within `timeout` seconds."""
    line = f"{RUN_COMMAND} {BENCH_ON_PYRITE.removeprefix('/bin/')} " \
           f"{'quick' if quick else 'full'} {TRUE_ON_PYRITE}"
    with qemu.Machine(iso, firmware="bios", memory=linux_peer.MEMORY) as m:
        if m.wait_for(qemu.PROMPT, 60) is None:
            sys.exit(f"Pyrite never reached its prompt:\n{m.text()[-2000:]}")
        before = len(m.text())
        m.send_serial(line + "\r")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = m.text()[before:]
            if NO_SUCH_COMMAND in text:
                return None
            if any(ln.strip() == linux_peer.DONE for ln in text.splitlines()):
                break
            if m.process.poll() is not None:
                sys.exit(f"QEMU ended during `{line}`:\n{text[-2000:]}")
            time.sleep(0.05)
        else:
            sys.exit(f"`{line}` on Pyrite gave no {linux_peer.DONE} in {timeout} s:\n{text[-2000:]}")
    figures = linux_peer.parse(text)[0]
    return figures, linux_peer.skipped(text)


def measure(runs, note, quick=False):
    """`runs` rounds, each one Linux boot then one Pyrite run; returns the
    `linux` and `pyrite_os` sections of bench.json (pyrite_os: figures and
    skipped ones, or the reason there are none)."""
    linux_peer.build_initramfs()
    iso = pyrite_iso()
    linux, pyrite, skipped = [], [], {}
    for i in range(runs):
        run = linux_peer.checked_boot(quick)
        linux.append(run)
        note(f"round {i + 1} of {runs}, Linux: /init after {run.init_s:.2f} s, "
             f"null syscall {run.figures['os_null_syscall'][0]:,.1f} ns")
        ours = pyrite_run(iso, quick)
        if ours is None:
            note(f"round {i + 1} of {runs}, Pyrite: {PYRITE_MISSING}")
            continue
        pyrite.append(ours[0])
        skipped.update(ours[1])
        got = ", ".join(f"{n} {v:,.1f} {u}" for n, (v, u) in ours[0].items())
        note(f"round {i + 1} of {runs}, Pyrite: {got or 'no figures'}")
    return {"linux": linux_peer.section(linux),
            "pyrite_os": {"figures": linux_peer.summarise(pyrite), "skipped": skipped}
            if pyrite else {"missing": PYRITE_MISSING}}


def ratio_cells(pyrite, linux):
    """(ratio text, verdict text) of a Pyrite median beside Linux's."""
    if pyrite is None:
        return "-", "-"
    ratio = pyrite / linux if linux else float("inf")
    return f"{ratio:.2f}x", "met" if ratio <= TARGET_RATIO else "MISSED"


def table_rows(results):
    """(figure, Pyrite text, Linux text, unit, ratio, verdict) rows."""
    linux = results["linux"]
    ours = results["pyrite_os"].get("figures")
    skipped = results["pyrite_os"].get("skipped", {})
    rows = []
    for name, human in linux_peer.FIGURES.items():
        theirs = linux["figures"][name]
        mine = ours[name]["median"] if ours and name in ours else None
        if mine is not None:
            pyrite_text = f"{mine:,.1f}"
        elif ours is None:
            pyrite_text = PYRITE_MISSING
        else:
            pyrite_text = "skipped" if name in skipped else "not printed"
        rows.append((human, pyrite_text, f"{theirs['median']:,.1f}", theirs["unit"],
                     *ratio_cells(mine, theirs["median"])))
    # Kernel init apart: to /init (Linux, straight from QEMU's -kernel) and to
    # the prompt (Pyrite, through SeaBIOS and GRUB, which Linux skips here);
    # and by each kernel's own clock.
    boot = results.get("boot_s_bios", {}).get("median")
    rows.append(("kernel init, QEMU start to /init | prompt *",
                 f"{boot:,.2f}" if boot else "-", f"{linux['init_s']['median']:,.2f}", "s",
                 *ratio_cells(boot, linux["init_s"]["median"])))
    init = results.get("init_ms_bios", {}).get("median")
    uptime = linux["kernel_uptime_at_init_ms"]["median"]
    rows.append(("kernel init by its own clock", f"{init:,.1f}" if init else "-",
                 f"{uptime:,.1f}", "ms", *ratio_cells(init, uptime)))
    return rows


def print_table(results):
    linux = results["linux"]
    print()
    rounds = linux["init_s"]["runs"]
    print(f"Pyrite beside Linux ({linux['kernel']}), the same benchmark program in the same QEMU"
          f" ({linux['memory']}, {linux['cpus']} CPU, TCG); median of {rounds}"
          f" round{'s' if rounds > 1 else ''}; target: Pyrite / Linux at most {TARGET_RATIO:.1f}x")
    print(f"{'figure':<46}{'Pyrite':>24}{'Linux':>12}  {'unit':<11}{'ratio':>7}  target")
    for figure, pyrite, theirs, unit, ratio, verdict in table_rows(results):
        print(f"{figure:<46}{pyrite:>24}{theirs:>12}  {unit:<11}{ratio:>7}  {verdict}")
    print("* Pyrite boots through SeaBIOS and GRUB from a CD; Linux is loaded by QEMU's -kernel")
    for name, reason in results["pyrite_os"].get("skipped", {}).items():
        print(f"skipped on Pyrite: {linux_peer.FIGURES.get(name, name)}: {reason}")


def _self_test():
    linux = {"figures": {n: {"median": 100.0, "unit": "ns"} for n in linux_peer.FIGURES},
             "init_s": {"median": 2.0, "runs": 3}, "kernel_uptime_at_init_ms": {"median": 800.0},
             "kernel": "k", "memory": "128M", "cpus": 1}
    rows = table_rows({"linux": linux, "pyrite_os": {"missing": PYRITE_MISSING},
                       "boot_s_bios": {"median": 3.0}, "init_ms_bios": {"median": 20.0}})
    assert rows[0][1] == PYRITE_MISSING and rows[0][4:] == ("-", "-")
    assert rows[-2][4:] == ("1.50x", "MISSED") and rows[-1][4:] == ("0.03x", "met")
    ours = {"figures": {"os_null_syscall": {"median": 50.0}},
            "skipped": {"os_thread_switch_futex": "Function not implemented"}}
    rows = table_rows({"linux": linux, "pyrite_os": ours})
    assert rows[0][1:] == ("50.0", "100.0", "ns", "0.50x", "met"), rows[0]
    assert rows[1][1] == "skipped" and rows[1][4:] == ("-", "-"), rows[1]
    assert rows[2][1] == "not printed", rows[2]


if __name__ == "__main__":
    _self_test()
    linux_peer._self_test()
    print("os_bench: table tests passed")
