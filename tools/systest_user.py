"""System tests of the files the ISO carries (the user programs and
user/files, packed as boot modules by `make iso`): `ls` and `cat` at the
shell, and bad module names reported in the boot log.

tools/system_tests.py runs these with its own; see TESTS.
"""

import os
import subprocess
import tempfile
from pathlib import Path

import qemu
from systest_common import boot_to_prompt, run

ROOT = qemu.ROOT
ISO = ROOT / "build" / "pyrite.iso"
KERNEL = ROOT / "target" / "x86_64-unknown-none" / "release" / "pyrite"
# What `make iso` packed: FILE=/NAME a line (tools/user-programs).
PROGRAMS = ROOT / "build" / "user-programs"

TESTS = []


def user_test(fn):
    TESTS.append(fn)
    return fn


def packed():
    """The modules make iso packed: name -> local file."""
    assert PROGRAMS.exists(), f"{PROGRAMS} is missing: run make iso"
    entries = (line.split("=/", 1) for line in PROGRAMS.read_text().split())
    return {"/" + name: Path(path) for path, name in entries}


@user_test
def ls_lists_the_programs_and_cat_shows_text():
    modules = packed()
    programs = {name: path for name, path in modules.items() if name.startswith("/bin/")}
    assert "/bin/hello" in programs, modules
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        listing = run(m, "ls /bin")
        for name, path in programs.items():
            line = f"{os.path.getsize(path):>10}  {name.removeprefix('/bin/')}"
            assert line in listing.splitlines(), f"{line!r} not in:\n{listing}"
        root = run(m, "ls").splitlines()
        assert "       dir  bin/" in root and "       dir  etc/" in root, root
        motd = modules["/etc/motd"].read_text()
        assert run(m, "cat /etc/motd") == motd, m.text()[-500:]
        refused = run(m, "cat /bin/hello")
        assert refused.startswith("cat: /bin/hello is not text ("), refused
        dump = run(m, "cat -x /bin/hello").splitlines()
        assert dump[0].startswith("00000000  7f 45 4c 46 02 01 01"), dump[:2]
        assert dump[0].endswith("|.ELF............|"), dump[0]
        assert run(m, "ls /nope") == "ls: /nope: no such file or directory\n"
        assert run(m, "cat /bin") == "cat: /bin: is a directory\n"
        help_text = run(m, "help")
        assert "\n  ls [DIR]" in help_text and "\n  cat [-x] FILE" in help_text, help_text
        log = m.text()
        assert f"INFO  fs: {len(modules)} files from boot modules" in log, log[:3000]
        assert "PANIC" not in log and "EXCEPTION" not in log


@user_test
def bad_module_names_are_reported_in_the_boot_log():
    """Modules named twice, with an empty component, or with words after the
    name: each gets a warning with its reason; the rest are still files."""
    with tempfile.TemporaryDirectory(prefix="pyrite-mods-") as tmp:
        reported_with_modules_in(Path(tmp))


def reported_with_modules_in(workdir):
    one = workdir / "one"
    one.write_text("first\n")
    two = workdir / "two"
    two.write_text("second\n")
    iso = workdir / "pyrite.iso"
    mods = f"{one}=/etc/note {two}=/etc/note {two}=/etc//twice {one}=/etc/note/under"
    subprocess.run([str(ROOT / "tools" / "mkiso"), str(KERNEL), str(iso)], check=True,
                   env={**os.environ, "BOOT_MODULES": mods})
    with qemu.Machine(iso, firmware="bios") as m:
        boot_to_prompt(m)
        log = m.text()
        for warning in ('"/etc/note": a file of this name came earlier',
                        '"/etc//twice": the name has an empty component',
                        '"/etc/note/under": a directory on its path is a file'):
            assert f"WARN  fs: boot module {warning}" in log, log[-3000:]
        assert "INFO  fs: 1 files from boot modules" in log, log[-3000:]
        assert "3 rejected" in log
        # The first of the duplicates stays.
        assert run(m, "cat /etc/note") == "first\n"
