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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import linux_peer  # noqa: E402

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


def pyrite_run(round_index, quick):
    """One round of the benchmark program on Pyrite: {name: (value, unit)},
    parsed from its BENCH lines with linux_peer.parse, or None while Pyrite
    cannot run it (it has no user mode yet).

    Once it can, this boots pyrite_iso() (built once per measure()) in
    qemu.Machine (128 MiB, default CPU, one CPU: linux_peer's machine),
    types `osbench quick|full /bin/true` at the prompt, waits (bounded)
    for BENCH-DONE and returns linux_peer.parse(output)[0], checked with
    the FIGURES test of linux_peer.problems."""
    del round_index, quick
    return None


def measure(runs, note, quick=False):
    """`runs` rounds, each one Linux boot then one Pyrite run; returns the
    `linux` and `pyrite` sections of bench.json (pyrite: figures, or the
    reason there are none)."""
    linux_peer.build_initramfs()
    linux, pyrite = [], []
    for i in range(runs):
        run = linux_peer.checked_boot(quick)
        linux.append(run)
        note(f"round {i + 1} of {runs}, Linux: /init after {run.init_s:.2f} s, "
             f"null syscall {run.figures['os_null_syscall'][0]:,.1f} ns")
        figures = pyrite_run(i, quick)
        if figures is not None:
            pyrite.append(figures)
            note(f"round {i + 1} of {runs}, Pyrite: null syscall "
                 f"{figures['os_null_syscall'][0]:,.1f} ns")
        else:
            note(f"round {i + 1} of {runs}, Pyrite: {PYRITE_MISSING}")
    return {"linux": linux_peer.section(linux),
            "pyrite_os": {"figures": linux_peer.summarise(pyrite)} if pyrite
            else {"missing": PYRITE_MISSING}}


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
    rows = []
    for name, human in linux_peer.FIGURES.items():
        theirs = linux["figures"][name]
        mine = ours[name]["median"] if ours and name in ours else None
        pyrite_text = f"{mine:,.1f}" if mine is not None else PYRITE_MISSING
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


def _self_test():
    linux = {"figures": {n: {"median": 100.0, "unit": "ns"} for n in linux_peer.FIGURES},
             "init_s": {"median": 2.0, "runs": 3}, "kernel_uptime_at_init_ms": {"median": 800.0},
             "kernel": "k", "memory": "128M", "cpus": 1}
    rows = table_rows({"linux": linux, "pyrite_os": {"missing": PYRITE_MISSING},
                       "boot_s_bios": {"median": 3.0}, "init_ms_bios": {"median": 20.0}})
    assert rows[0][1] == PYRITE_MISSING and rows[0][4:] == ("-", "-")
    assert rows[-2][4:] == ("1.50x", "MISSED") and rows[-1][4:] == ("0.03x", "met")
    ours = {"figures": {"os_null_syscall": {"median": 50.0}}}
    rows = table_rows({"linux": linux, "pyrite_os": ours})
    assert rows[0][1:] == ("50.0", "100.0", "ns", "0.50x", "met") and rows[1][1] == PYRITE_MISSING


if __name__ == "__main__":
    _self_test()
    linux_peer._self_test()
    print("os_bench: table tests passed")
