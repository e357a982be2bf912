//! User mode in QEMU (on `-cpu max`, which has SMEP and SMAP): programs
//! from the boot modules run in ring 3 and end with their status; system
//! calls keep the registers the ABI says survive; SMEP and SMAP are on;
//! a bad pointer in a system call gets -EFAULT; the copy routine recovers
//! from a fault in user memory; a fault in ring 3 ends only its process,
//! and nothing leaks.
#![no_std]
#![no_main]

extern crate alloc;

use pyrite::memory;
use pyrite::process::user_access::{BadAddress, copy_from_user, copy_to_user};
use pyrite::process::{self, ExitStatus};
use pyrite::sched;
use x86_64::registers::control::{Cr4, Cr4Flags};

pyrite::test_kernel!(
    smep_and_smap_are_on,
    hello_runs_and_exits_with_zero,
    system_calls_keep_the_registers,
    a_kernel_pointer_in_write_gets_efault,
    the_copy_routine_recovers_from_a_fault,
    copies_without_a_process_or_into_the_kernel_are_refused,
    faults_end_the_process_and_leak_nothing,
    programs_spawn_and_wait_for_children_and_leak_nothing,
);

fn start() {
    sched::init("main").expect("the scheduler starts");
}

fn run(argv: &[&[u8]]) -> ExitStatus {
    let path = core::str::from_utf8(argv[0]).unwrap();
    let started = process::spawn(path, argv, &[]).expect("the program starts");
    process::wait(started)
}

fn smep_and_smap_are_on() {
    let ebx = core::arch::x86_64::__cpuid_count(7, 0).ebx;
    assert!(ebx & (1 << 7) != 0, "-cpu max has SMEP");
    assert!(ebx & (1 << 20) != 0, "-cpu max has SMAP");
    let cr4 = Cr4::read();
    assert!(cr4.contains(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION));
    assert!(cr4.contains(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION));
}

/// Runs of hello timed for the spawn+exit+wait figure.
const TIMED_RUNS: u32 = 20;

fn hello_runs_and_exits_with_zero() {
    start();
    assert_eq!(
        run(&[b"/bin/hello", b"from", b"a test"]),
        ExitStatus::Exited(0)
    );
    let began = pyrite::time::since_boot();
    for _ in 0..TIMED_RUNS {
        assert_eq!(run(&[b"/bin/hello"]), ExitStatus::Exited(0));
    }
    let each = (pyrite::time::since_boot() - began) / TIMED_RUNS;
    pyrite::println!(
        "spawn+exit+wait of /bin/hello: {} us each",
        each.as_micros()
    );
}

fn system_calls_keep_the_registers() {
    start();
    // regs exits 1 if a register that must survive changed, 100 if rcx
    // and r11 are not what sysret leaves.
    assert_eq!(run(&[b"/bin/regs"]), ExitStatus::Exited(0));
}

fn a_kernel_pointer_in_write_gets_efault() {
    start();
    // fault bad-syscall-ptr exits with 0 only if write returned -EFAULT.
    assert_eq!(
        run(&[b"/bin/fault", b"bad-syscall-ptr"]),
        ExitStatus::Exited(0)
    );
}

unsafe extern "C" {
    /// The copy routine (asm/user_copy.asm): 0, or -14 if it faulted.
    fn user_copy(dst: *mut u8, src: *const u8, len: usize) -> i64;
}

fn the_copy_routine_recovers_from_a_fault() {
    // The kernel's table maps nothing in the lower half: the copy faults,
    // and the page-fault handler resumes it at its recovery label.
    let mut buf = [0u8; 16];
    // SAFETY: `buf` is ours; the source is an unmapped user address.
    let got = unsafe { user_copy(buf.as_mut_ptr(), 0x1000_0000 as *const u8, 16) };
    assert_eq!(got, -14);
    // SAFETY: as above, the other way round.
    let got = unsafe { user_copy(0x1000_0000 as *mut u8, buf.as_ptr(), 16) };
    assert_eq!(got, -14);
}

fn copies_without_a_process_or_into_the_kernel_are_refused() {
    let mut buf = [0u8; 8];
    assert_eq!(
        copy_from_user(&mut buf, 0xffff_ffff_8010_0000),
        Err(BadAddress)
    );
    assert_eq!(copy_to_user(0xffff_ffff_8010_0000, &buf), Err(BadAddress));
    assert_eq!(copy_from_user(&mut buf, 0), Err(BadAddress), "page 0");
    assert_eq!(
        copy_from_user(&mut buf, u64::MAX - 3),
        Err(BadAddress),
        "wraps"
    );
    assert_eq!(
        copy_from_user(&mut buf, 0x40_0000),
        Err(BadAddress),
        "no process runs here"
    );
}

fn free_frames() -> u64 {
    memory::with(|m| m.frames.stats().free).unwrap()
}

fn faults_end_the_process_and_leak_nothing() {
    start();
    let fault = |what: &'static [u8]| run(&[b"/bin/fault", what]);
    // One of each first: what is made once is made now.
    assert_eq!(fault(b"null"), ExitStatus::Fault(14));
    sched::thread::reap();
    let before = free_frames();
    assert_eq!(fault(b"null"), ExitStatus::Fault(14));
    assert_eq!(fault(b"ud2"), ExitStatus::Fault(6));
    assert_eq!(fault(b"div0"), ExitStatus::Fault(0));
    assert_eq!(fault(b"kernel-read"), ExitStatus::Fault(14));
    assert_eq!(fault(b"stack-overflow"), ExitStatus::Fault(14));
    assert_eq!(fault(b"write-text"), ExitStatus::Fault(14));
    assert_eq!(fault(b"exec-data"), ExitStatus::Fault(14));
    sched::thread::reap();
    assert_eq!(
        free_frames(),
        before,
        "every frame of the processes is back"
    );
}

fn programs_spawn_and_wait_for_children_and_leak_nothing() {
    start();
    let launch = |args: &[&[u8]]| {
        let mut argv: alloc::vec::Vec<&[u8]> = alloc::vec![b"/bin/launch"];
        argv.extend_from_slice(args);
        run(&argv)
    };
    assert_eq!(launch(&[b"hello", b"child"]), ExitStatus::Exited(0));
    sched::thread::reap();
    let before = free_frames();
    // launch exits with its child's code, or 128 + the signal that ended it.
    assert_eq!(launch(&[b"hello"]), ExitStatus::Exited(0));
    assert_eq!(launch(&[b"fault", b"null"]), ExitStatus::Exited(128 + 11));
    assert_eq!(launch(&[b"fault", b"ud2"]), ExitStatus::Exited(128 + 4));
    assert_eq!(launch(&[b"nosuch"]), ExitStatus::Exited(127));
    assert_eq!(launch(&[b"launch", b"hello"]), ExitStatus::Exited(0));
    sched::thread::reap();
    assert_eq!(free_frames(), before, "every frame of the children is back");
    assert!(process::list().is_empty(), "every process was reaped");
}
