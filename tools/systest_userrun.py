"""System tests of user mode: programs run in ring 3 from the shell
(`run`; Pyrite's own and a static C program built with musl), every kind
of fault ends only its process, bad pointers get
-EFAULT, a spinning program does not stall the shell and `kill` and
Ctrl-C end it, and many runs leave memory where it was.

tools/system_tests.py runs these with its own; see TESTS.
"""

import re
import time

import qemu
from systest_common import boot_to_prompt, run, wait_for_count
from systest_user import ISO

TESTS = []
PROMPT = qemu.PROMPT

# fault's argument -> what the one-line report must say.
FAULTS = {
    "null": r"page fault \(#PF\) at RIP 0x[0-9a-f]+, address 0x0 \(page 0: a null pointer; "
            r"page not present, read, user mode\)",
    "write-text": r"page fault \(#PF\) at RIP 0x[0-9a-f]+, address 0x[0-9a-f]+ "
                  r"\(code \(read-only, executable\); protection violation, write, user mode\)",
    "exec-data": r"page fault \(#PF\) at RIP (?P<rip>0x[0-9a-f]+), address (?P=rip) \([^;]*not executable\); "
                 r"protection violation, instruction fetch, user mode\)",
    "ud2": r"invalid opcode \(#UD\) at RIP 0x[0-9a-f]+",
    "div0": r"divide error \(#DE\) at RIP 0x[0-9a-f]+",
    "stack-overflow": r"page fault \(#PF\) at RIP 0x[0-9a-f]+, address 0x7ffffffde[0-9a-f]{3} "
                      r"\(the stack's guard page: a stack overflow; page not present, write, "
                      r"user mode\)",
    "kernel-read": r"page fault \(#PF\) at RIP 0x[0-9a-f]+, address 0xffffffff80100000 "
                   r"\(kernel space; protection violation, read, user mode\)",
}


def userrun_test(fn):
    TESTS.append(fn)
    return fn


def mem_raw(machine):
    line = run(machine, "mem --raw").strip()
    return dict(pair.split("=", 1) for pair in line.removeprefix("mem: ").split())


def pid_of(started):
    # The program may print before the shell says it started it.
    match = re.search(r"^\[(\d+)\] /bin/\w+ started; kill (\d+) ends it", started, re.M)
    assert match and match[1] == match[2], started
    return match[1]


@userrun_test
def programs_run_in_user_mode_and_faults_end_only_their_process():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        assert "system calls: syscall/sysret on" in m.text(), m.text()[-3000:]
        out = run(m, "run hello a b")
        assert out == "Hello from user space!\na b\n", repr(out)
        for what, report in FAULTS.items():
            out = run(m, f"run fault {what}")
            line = re.escape("process ") + r"(\d+) \(/bin/fault\): " + report
            found = re.search(line, out)
            assert found, f"{what}: no report matching {line!r} in:\n{out}"
            pid = found[1]
            assert f"[{pid}] /bin/fault: ended by a fault: " in out, out
            assert run(m, "echo next") == "next\n", f"after {what}: {m.text()[-500:]}"
        out = run(m, "run fault bad-syscall-ptr")
        assert out == "fault: bad-syscall-ptr\nwrite returned -14\n", repr(out)
        out = run(m, "run fault nt-sleep")
        assert out == "fault: nt-sleep\nslept with NT set: ok\n", repr(out)
        out = run(m, "run garbage")
        assert re.fullmatch(r"garbage: \d+ calls answered, \d+ refused; the kernel is still here\n",
                            out), repr(out)
        out = run(m, "run regs")
        assert out == "regs: changed mask 0x0, rcx/r11 as sysret leaves them: true\n", out
        out = run(m, "run chello a b")
        assert re.fullmatch(
            r"Hello from C on Pyrite! argc=3 \[a\] \[b\]\n"
            r"malloc: sum 499500 \(expect 499500\), 256 pages of a 1 MiB block\n"
            r"\[\d+\] /bin/chello: exit status 42\n", out), repr(out)
        out = run(m, "run bench")
        assert "heap: 10000 small blocks on brk, 1 MiB on mmap: ok\n" in out, out
        assert "exit status" not in out, out
        for line in out.splitlines()[:2]:
            print(f"    {line}")
        out = run(m, "run launch hello x")
        # The child may print before or after its parent says it started.
        child = re.search(r"launch: started child (\d+) \(I am \d+\)\n", out)
        assert child, repr(out)
        rest = out.replace(child[0], "")
        assert rest == f"Hello from user space!\nx\nlaunch: child {child[1]} exited with status 0\n", \
            repr(out)
        out = run(m, "run launch fault div0")
        assert re.search(r"launch: child \d+ ended by signal 8\n.*exit status 136\n$", out,
                         re.S), repr(out)
        out = run(m, "run nosuch")
        assert out == "run: /bin/nosuch: no such file or directory\n" or "nosuch" in out, out
        assert "EXCEPTION" not in m.text() and "panicked" not in m.text(), m.text()[-2000:]


def fresh_prompt(machine):
    """An empty line: a notice printed over the prompt is then behind us."""
    prompts = machine.text().count(PROMPT)
    machine.send_serial(b"\r")
    assert wait_for_count(machine, PROMPT, prompts + 1), machine.text()[-500:]


def answer_time(machine, line, needle):
    """Sends `line` on serial; seconds until `needle` appears after it."""
    seen = machine.text().count(needle)
    start = time.monotonic()
    machine.send_serial(line.encode() + b"\r")
    while machine.text().count(needle) <= seen:
        assert time.monotonic() - start < 10, machine.text()[-500:]
        time.sleep(0.002)
    return time.monotonic() - start


@userrun_test
def a_spinning_program_leaves_the_shell_responsive_and_dies_by_kill_or_ctrl_c():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        pid = pid_of(run(m, "run spin &"))
        assert wait_for_count(m, f"spinning (pid {pid})", 1), m.text()[-500:]
        # The shell prints its prompt again; wait until the spinner runs.
        time.sleep(0.3)
        took = min(answer_time(m, "echo still-here", "\nstill-here\n") for _ in range(3))
        print(f"    echo answered in {took * 1000:.0f} ms with spin running")
        assert took < 0.1, took
        ps = run(m, "ps")
        assert re.search(rf"^\s+{pid}\s+-\s+\d+\s+running\s+/bin/spin$", ps, re.M), ps
        out = run(m, f"kill {pid}")
        assert out == f"process {pid} ends at its next preemption point\n", out
        assert wait_for_count(m, f"[{pid}] killed", 1), m.text()[-500:]
        fresh_prompt(m)
        assert "/bin/spin" not in run(m, "ps"), m.text()[-500:]
        # In the foreground, Ctrl-C ends it.
        prompts = m.text().count(PROMPT)
        m.send_serial(b"run spin\r")
        assert wait_for_count(m, "spinning (pid", 2), m.text()[-500:]
        m.send_serial(b"\x03")
        assert wait_for_count(m, PROMPT, prompts + 1, timeout=5), m.text()[-500:]
        assert re.search(r"\^C: process \d+ killed", m.text()), m.text()[-500:]
        time.sleep(0.2)
        assert "/bin/spin" not in run(m, "ps"), m.text()[-500:]
        assert run(m, "echo alive") == "alive\n"


@userrun_test
def a_foreground_program_reads_a_line_from_the_console():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        prompts = m.text().count(PROMPT)
        m.send_serial(b"run greet\r")
        assert wait_for_count(m, "name? ", 1), m.text()[-500:]
        m.send_serial(b"Adx\x7fa\r")
        assert wait_for_count(m, "hello, Ada!\n", 1), m.text()[-500:]
        assert wait_for_count(m, PROMPT, prompts + 1), m.text()[-500:]
        assert "exit status" not in m.text(), m.text()[-500:]
        # Ctrl-C while it waits in read: killed, not reading end of file.
        m.send_serial(b"run greet\r")
        assert wait_for_count(m, "name? ", 2), m.text()[-500:]
        m.send_serial(b"\x03")
        assert wait_for_count(m, PROMPT, prompts + 2, timeout=5), m.text()[-500:]
        assert re.search(r"\^C: process \d+ killed", m.text()), m.text()[-500:]
        assert "(end of input)" not in m.text(), m.text()[-500:]
        # In the background it has no keys: end of file, status 1.
        pid = pid_of(run(m, "run greet &"))
        assert wait_for_count(m, f"[{pid}] exit status 1", 1), m.text()[-500:]
        fresh_prompt(m)
        assert "/bin/greet" not in run(m, "ps"), m.text()[-500:]


@userrun_test
def two_programs_preempting_each_other_keep_their_sse_registers():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        pids = [pid_of(run(m, "run fpu &")) for _ in range(2)]
        for pid in pids:
            assert wait_for_count(m, f"[{pid}] exit status 0", 1, timeout=120), m.text()[-500:]
        assert m.text().count("fpu: SSE registers kept") == 2, m.text()[-500:]
        assert "CHANGED" not in m.text(), m.text()[-500:]


@userrun_test
def nanosleep_sleeps_and_a_sleeping_program_dies_by_kill_soon():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        out = run(m, "run sleep 250")
        slept = re.fullmatch(r"slept (\d+) ms\n", out)
        assert slept and 250 <= int(slept[1]) < 400, out
        # Half a million years: it sleeps until killed.
        pid = pid_of(run(m, "run sleep 18446744073709551 &"))
        start = time.monotonic()
        run(m, f"kill {pid}")
        assert wait_for_count(m, f"[{pid}] killed", 1, timeout=5), m.text()[-500:]
        took = time.monotonic() - start
        print(f"    a sleeping program ended {took * 1000:.0f} ms after kill")
        assert took < 1, took


# How many runs the leak test makes (each a spawn, a run and a wait).
RUNS = 1000
# Of those, typed at the shell one by one (the rest by `launch -n`).
SHELL_RUNS = 100
# The shell keeps this many lines of history (src/task/shell/editor.rs),
# not repeating the line before: the warm-up fills it with the four lines
# each measurement types, so that history is the same at both.
HISTORY = 32


@userrun_test
def many_runs_leave_frames_and_heap_where_they_were():
    with qemu.Machine(ISO, firmware="bios") as m:
        boot_to_prompt(m)
        # Runs first: what is made once (tasks, logs) is made now, and the
        # history fills with the lines the test types.
        # The launch line of the warm-up has the same length as the
        # measured one, so the history holds the same sizes before and after.
        batch = RUNS - SHELL_RUNS
        warm_up = f"run launch -n {1:0{len(str(batch))}d} ok"
        for _ in range(HISTORY // 4 + 1):
            run(m, "run hello leak")
            run(m, warm_up)
            run(m, "sleep 100ms")
            before = mem_raw(m)
        start = time.monotonic()
        for _ in range(SHELL_RUNS):
            out = run(m, "run hello leak")
            assert out == "Hello from user space!\nleak\n", out
        # The rest started by a program: spawn and wait4, one at a time.
        out = run(m, f"run launch -n {batch} ok")
        assert out == f"launch: {batch} runs, every one exited with status 0\n", out
        took = time.monotonic() - start
        run(m, "sleep 100ms")
        after = mem_raw(m)
        print(f"    {RUNS} runs in {took:.1f} s; frames free {before['frames_free']} -> "
              f"{after['frames_free']}, heap in use {before['heap_in_use_bytes']} -> "
              f"{after['heap_in_use_bytes']}")
        assert after["frames_free"] == before["frames_free"], (before, after)
        assert after["heap_in_use_bytes"] == before["heap_in_use_bytes"], (before, after)
        assert after["heap_blocks"] == before["heap_blocks"], (before, after)
