//! Benchmarks that run inside the kernel in QEMU (not a test: `make bench`
//! runs it with `cargo test --release --test bench_kernel`). Prints
//! `BENCH <name> <median> <unit>` lines, medians of several runs.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use pyrite::memory::paging::{AddressSpace, EntryFlags};
use pyrite::memory::{self, FrameAllocator, Page};
use pyrite::task::executor::{self, Executor};
use pyrite::task::timer;
use pyrite::testing::{self, QemuExitCode};
use pyrite::{println, sched, time};
use x86_64::VirtAddr;

const RUNS: usize = 5;

/// Seconds taken by `f`, by the calibrated TSC.
fn seconds(f: impl FnOnce()) -> f64 {
    let start = pyrite::arch::read_tsc();
    f();
    let ticks = pyrite::arch::read_tsc() - start;
    time::ticks_to_duration(ticks, time::tsc_hz().expect("calibrated")).as_secs_f64()
}

fn median(mut samples: [f64; RUNS]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[RUNS / 2]
}

/// Runs `once` RUNS times; each returns operations per second.
fn report(name: &str, unit: &str, mut once: impl FnMut() -> f64) {
    let mut samples = [0.0; RUNS];
    for sample in &mut samples {
        *sample = once();
    }
    println!("BENCH {name} {:.0} {unit}", median(samples));
}

fn frames_alloc_free() -> f64 {
    const PAIRS: u64 = 100_000;
    let secs = seconds(|| {
        memory::with(|mem| {
            for _ in 0..PAIRS {
                let frame = mem.frames.allocate_frame().expect("a free frame");
                // SAFETY: the frame was just allocated and is not used.
                unsafe { mem.frames.deallocate_frame(frame) };
            }
        })
        .unwrap();
    });
    PAIRS as f64 / secs
}

fn pages_map_unmap() -> f64 {
    const PAIRS: u64 = 20_000;
    let base = Page::containing(VirtAddr::new(0x0000_2222_0000_0000));
    let secs = seconds(|| {
        memory::with(|mem| {
            for i in 0..PAIRS {
                let page = base + (i % 512);
                mem.tables
                    .map(
                        page,
                        EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE,
                        &mut mem.frames,
                    )
                    .expect("map")
                    .flush();
                // SAFETY: the page was just mapped and nothing uses it.
                unsafe { mem.tables.unmap_and_free(page, &mut mem.frames) }.expect("unmap");
            }
        })
        .unwrap();
    });
    PAIRS as f64 / secs
}

/// Maps fresh frames at fresh pages (new page tables as needed), as heap
/// growth does, then unmaps them all.
fn pages_map_fresh() -> f64 {
    const PAGES: u64 = 1024;
    static RUN: AtomicU64 = AtomicU64::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let base = Page::containing(VirtAddr::new(0x0000_3333_0000_0000 + run * 0x4000_0000));
    let secs = seconds(|| {
        memory::with(|mem| {
            for i in 0..PAGES {
                mem.tables
                    .map(
                        base + i,
                        EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE,
                        &mut mem.frames,
                    )
                    .expect("map")
                    .ignore();
            }
        })
        .unwrap();
    });
    memory::with(|mem| {
        for i in 0..PAGES {
            // SAFETY: mapped above, unused.
            unsafe { mem.tables.unmap_and_free(base + i, &mut mem.frames) }.expect("unmap");
        }
    })
    .unwrap();
    PAGES as f64 / secs
}

/// Creates and drops empty address spaces.
fn spaces_create_destroy() -> f64 {
    const SPACES: u64 = 2000;
    let secs = seconds(|| {
        for _ in 0..SPACES {
            drop(AddressSpace::new().expect("a space"));
        }
    });
    SPACES as f64 / secs
}

/// Maps a fresh (zeroed) page into a space that is not active and unmaps
/// it again, over 512 pages of one P1 table.
fn space_map_unmap() -> f64 {
    const PAIRS: u64 = 20_000;
    let mut space = AddressSpace::new().expect("a space");
    let base = Page::containing(VirtAddr::new(0x40_0000));
    let secs = seconds(|| {
        for i in 0..PAIRS {
            let page = base + (i % 512);
            space
                .map(page, EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE)
                .expect("map");
            space.unmap_and_free(page).expect("unmap");
        }
    });
    PAIRS as f64 / secs
}

/// Frames a new, empty address space takes.
fn space_frames() -> f64 {
    let free = || memory::with(|mem| mem.frames.stats().free).unwrap();
    let before = free();
    let space = AddressSpace::new().expect("a space");
    let cost = before - free();
    drop(space);
    cost as f64
}

fn tasks_spawn_complete() -> f64 {
    const TASKS: u64 = 10_000;
    let done = Arc::new(AtomicU64::new(0));
    let mut executor = Executor::new();
    let secs = seconds(|| {
        for _ in 0..TASKS {
            let done = Arc::clone(&done);
            executor::spawn("bench", async move {
                done.fetch_add(1, Ordering::Relaxed);
            })
            .expect("spawn");
        }
        executor.run_until(|| done.load(Ordering::Relaxed) == TASKS);
    });
    TASKS as f64 / secs
}

fn timer_wakeups() -> f64 {
    const SLEEPERS: u64 = 2000;
    const TICKS: u64 = 20;
    let wakeups = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let mut executor = Executor::new();
    executor::spawn("timers", timer::run_timers()).expect("spawn");
    let secs = seconds(|| {
        for _ in 0..SLEEPERS {
            let (wakeups, finished) = (Arc::clone(&wakeups), Arc::clone(&finished));
            executor::spawn("sleeper", async move {
                for _ in 0..TICKS {
                    timer::sleep(Duration::from_millis(1)).await;
                    wakeups.fetch_add(1, Ordering::Relaxed);
                }
                finished.fetch_add(1, Ordering::Relaxed);
            })
            .expect("spawn");
        }
        executor.run_until(|| finished.load(Ordering::Relaxed) == SLEEPERS);
    });
    wakeups.load(Ordering::Relaxed) as f64 / secs
}

/// Nanoseconds per thread switch: two threads yield to each other.
fn thread_switch_ns() -> f64 {
    const YIELDS: u64 = 20_000;
    let yielder = || {
        for _ in 0..YIELDS {
            sched::yield_now();
        }
    };
    let a = sched::spawn("yield-a", yielder).expect("spawn");
    let b = sched::spawn("yield-b", yielder).expect("spawn");
    let secs = seconds(|| {
        a.join().expect("joined");
        b.join().expect("joined");
    });
    secs * 1e9 / (2 * YIELDS) as f64
}

/// Nanoseconds to spawn a thread and join it.
fn thread_spawn_join_ns() -> f64 {
    const THREADS: u64 = 2000;
    let secs = seconds(|| {
        for i in 0..THREADS {
            let handle = sched::spawn("brief", move || i).expect("spawn");
            assert_eq!(handle.join(), Ok(i));
        }
    });
    secs * 1e9 / THREADS as f64
}

#[unsafe(no_mangle)]
extern "C" fn kernel_main(multiboot_info_addr: u64) -> ! {
    pyrite::init(multiboot_info_addr);
    report(
        "kernel_frame_alloc_free_pairs_per_s",
        "/s",
        frames_alloc_free,
    );
    report("kernel_page_map_unmap_pairs_per_s", "/s", pages_map_unmap);
    report("kernel_fresh_pages_mapped_per_s", "/s", pages_map_fresh);
    report(
        "kernel_address_spaces_created_dropped_per_s",
        "/s",
        spaces_create_destroy,
    );
    report(
        "kernel_inactive_space_map_unmap_pairs_per_s",
        "/s",
        space_map_unmap,
    );
    report("kernel_address_space_frames", "frames", space_frames);
    report(
        "kernel_tasks_spawned_completed_per_s",
        "/s",
        tasks_spawn_complete,
    );
    report("kernel_timer_wakeups_per_s", "/s", timer_wakeups);
    // Threads last: from here the code above runs as a thread.
    sched::init("bench").expect("the scheduler starts");
    report("kernel_thread_switch_ns", "ns", thread_switch_ns);
    report("kernel_thread_spawn_join_ns", "ns", thread_spawn_join_ns);
    testing::exit_qemu(QemuExitCode::Success)
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    testing::test_panic(info)
}
