//! Measures, from user space, what the kernel's user-mode paths cost: a
//! null system call (getpid), a demand-zero page fault (first touch of
//! mmap memory), and the heap on brk and mmap. Prints one line each;
//! exits with 0 if the memory read back what was written.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;

use pyrite_rt::{println, sys};

pyrite_rt::main!(main);

const CALLS: u64 = 100_000;
const PAGES: usize = 1024;

fn now() -> u64 {
    sys::clock_gettime(sys::CLOCK_MONOTONIC).unwrap_or(0)
}

fn rdtsc() -> u64 {
    // SAFETY: rdtsc reads the time stamp counter; user mode may.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn main(_: &pyrite_rt::Env) -> i32 {
    let (start, tsc) = (now(), rdtsc());
    for _ in 0..CALLS {
        core::hint::black_box(sys::getpid());
    }
    let (ns, cycles) = (now() - start, rdtsc() - tsc);
    println!(
        "null system call (getpid): {} ns, {} TSC cycles",
        ns / CALLS,
        cycles / CALLS
    );

    let Ok(memory) = sys::mmap_anonymous(PAGES * 4096) else {
        println!("mmap failed");
        return 1;
    };
    let start = now();
    for page in 0..PAGES {
        // SAFETY: inside the mapping just made.
        unsafe { memory.add(page * 4096).write_volatile(page as u8) };
    }
    let ns = now() - start;
    // SAFETY: as above; every page was written once.
    let intact = (0..PAGES).all(|p| unsafe { memory.add(p * 4096).read_volatile() } == p as u8);
    println!(
        "demand-zero page fault: {} ns per page ({PAGES} pages)",
        ns / PAGES as u64
    );
    // SAFETY: nothing uses the mapping after this.
    let unmapped = unsafe { sys::munmap(memory, PAGES * 4096) }.is_ok();

    let small: Vec<Box<u64>> = (0..10_000).map(Box::new).collect();
    let large = alloc::vec![7u8; 1 << 20];
    let heap_ok =
        small.iter().enumerate().all(|(i, b)| **b == i as u64) && large.iter().all(|&b| b == 7);
    println!(
        "heap: 10000 small blocks on brk, 1 MiB on mmap: {}",
        if heap_ok { "ok" } else { "WRONG" }
    );
    if intact && unmapped && heap_ok { 0 } else { 1 }
}
