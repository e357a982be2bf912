"""System test of the OS benchmark program on Pyrite's ISO: the static
binary Linux runs as /init (user/bench/bench.c) is carried as /bin/osbench,
beside /bin/true, by tools/os_bench.py's pyrite_iso().

tools/system_tests.py runs these with its own; see TESTS.
"""

import os

import os_bench
import qemu
from systest_common import boot_to_prompt, run

TESTS = []


def osbench_test(fn):
    TESTS.append(fn)
    return fn


@osbench_test
def the_os_benchmark_program_is_on_the_iso():
    iso = os_bench.pyrite_iso()
    bench = os_bench.linux_peer.OUT / "bench"
    with qemu.Machine(iso, firmware="bios") as m:
        boot_to_prompt(m)
        listing = run(m, "ls /bin").splitlines()
        for name, path in (("osbench", bench), ("true", os_bench.linux_peer.OUT / "true")):
            line = f"{os.path.getsize(path):>10}  {name}"
            assert line in listing, f"{line!r} not in:\n{listing}"
        dump = run(m, "cat -x " + os_bench.BENCH_ON_PYRITE).splitlines()
        assert dump[0].startswith("00000000  7f 45 4c 46 02 01 01"), dump[:2]
