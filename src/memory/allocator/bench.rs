//! Host benchmarks of the designs beside `linked_list_allocator`, `talc`
//! and the host's malloc, on the same workloads and heap size. Run by
//! `make bench` (these tests are ignored by `cargo test`); each prints
//! `BENCH <name> <median> <unit>` lines.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use std::alloc::System;
use std::time::Instant;
use std::vec::Vec;
use std::{println, vec};

use talc::source::Manual;

use super::bump::BumpDesign;
use super::crate_list::CrateDesign;
use super::fixed_block::FixedBlockDesign;
use super::linked_list::LinkedListDesign;
use super::{Heap, HeapDesign};

const HEAP_BYTES: usize = 64 << 20;
const RUNS: usize = 11;

/// A tiny deterministic generator (xorshift), so every allocator sees the
/// same sizes and orders.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }
}

/// The allocators under test, each made fresh over the same arena.
#[derive(Clone, Copy, Debug)]
enum Subject {
    Design(&'static str),
    Talc,
    Malloc,
}

const SUBJECTS: [Subject; 6] = [
    Subject::Design("fixed-size blocks"),
    Subject::Design("linked list"),
    Subject::Design("bump"),
    Subject::Design("linked_list_allocator"),
    Subject::Talc,
    Subject::Malloc,
];

fn design_heap<D: HeapDesign>(arena: &mut [u128]) -> Heap<D> {
    let heap = Heap::new();
    // SAFETY: the arena is ours, aligned, and outlives the heap.
    unsafe {
        heap.init(
            NonNull::new(arena.as_mut_ptr().cast()).unwrap(),
            arena.len() * 16,
            arena.len() * 16,
            None,
        )
    };
    heap
}

/// Runs `work` on a fresh allocator of `subject`; returns what it returns.
fn with_subject<R>(
    subject: Subject,
    arena: &mut [u128],
    work: impl FnOnce(&dyn GlobalAlloc) -> R,
) -> R {
    match subject {
        Subject::Design("fixed-size blocks") => work(&design_heap::<FixedBlockDesign>(arena)),
        Subject::Design("linked list") => work(&design_heap::<LinkedListDesign>(arena)),
        Subject::Design("bump") => work(&design_heap::<BumpDesign>(arena)),
        Subject::Design(_) => work(&design_heap::<CrateDesign>(arena)),
        Subject::Talc => {
            let talc = talc::TalcCell::new(Manual);
            // SAFETY: the arena is ours and outlives the allocator.
            unsafe { talc.claim(arena.as_mut_ptr().cast(), arena.len() * 16) }.expect("claim");
            work(&talc)
        }
        Subject::Malloc => work(&System),
    }
}

fn name(subject: Subject) -> &'static str {
    match subject {
        Subject::Design(name) => name,
        Subject::Talc => "talc",
        Subject::Malloc => "malloc",
    }
}

/// Workload 1: alloc+free pairs of 16-64 bytes. Returns ns per pair.
fn small_pairs(heap: &dyn GlobalAlloc) -> f64 {
    let mut rng = Rng(1);
    let layouts: Vec<Layout> = (0..1024)
        .map(|_| Layout::from_size_align(rng.range(16, 64), 8).unwrap())
        .collect();
    let pairs = 200_000;
    let start = Instant::now();
    for i in 0..pairs {
        let layout = layouts[i % layouts.len()];
        // SAFETY: non-zero layout; the block is freed at once with it.
        unsafe {
            let p = heap.alloc(layout);
            assert!(!p.is_null());
            core::ptr::write_volatile(p, 1);
            heap.dealloc(p, layout);
        }
    }
    start.elapsed().as_nanos() as f64 / pairs as f64
}

/// Workload 2: 10 000 live objects of 8-4096 bytes, freed in random order.
/// Returns (ns per operation, peak requested / heap extent used).
fn mixed_live(heap: &dyn GlobalAlloc) -> (f64, f64) {
    let mut rng = Rng(2);
    let count = 10_000;
    let layouts: Vec<Layout> = (0..count)
        .map(|_| Layout::from_size_align(rng.range(8, 4096), 8).unwrap())
        .collect();
    let mut order: Vec<usize> = (0..count).collect();
    for i in (1..count).rev() {
        order.swap(i, rng.range(0, i));
    }
    let mut blocks = vec![core::ptr::null_mut::<u8>(); count];
    let start = Instant::now();
    for (block, layout) in blocks.iter_mut().zip(&layouts) {
        // SAFETY: non-zero layout.
        *block = unsafe { heap.alloc(*layout) };
        assert!(!block.is_null());
    }
    let (low, high) = blocks
        .iter()
        .zip(&layouts)
        .fold((usize::MAX, 0), |(lo, hi), (b, l)| {
            (lo.min(*b as usize), hi.max(*b as usize + l.size()))
        });
    for &i in &order {
        // SAFETY: each block is freed once, with its layout.
        unsafe { heap.dealloc(blocks[i], layouts[i]) };
    }
    let ns = start.elapsed().as_nanos() as f64 / (2 * count) as f64;
    let requested: usize = layouts.iter().map(|l| l.size()).sum();
    (ns, requested as f64 / (high - low) as f64)
}

/// Workload 3: a Vec's growth to 1 MiB by doubling (GlobalAlloc::realloc).
/// Returns ns per growth from 8 bytes to 1 MiB.
fn vec_growth(heap: &dyn GlobalAlloc) -> f64 {
    let rounds = 200;
    let start = Instant::now();
    for _ in 0..rounds {
        let mut layout = Layout::from_size_align(8, 8).unwrap();
        // SAFETY: non-zero layouts; each realloc gets the block's current layout.
        unsafe {
            let mut p = heap.alloc(layout);
            while layout.size() < 1 << 20 {
                let new_size = layout.size() * 2;
                p = heap.realloc(p, layout, new_size);
                assert!(!p.is_null());
                layout = Layout::from_size_align(new_size, 8).unwrap();
                core::ptr::write_volatile(p.add(new_size - 1), 1);
            }
            heap.dealloc(p, layout);
        }
    }
    start.elapsed().as_nanos() as f64 / rounds as f64
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[test]
#[ignore = "benchmark: run by make bench"]
fn bench_allocators() {
    let mut arena = vec![0u128; HEAP_BYTES / 16];
    for subject in SUBJECTS {
        let label = name(subject).replace([' ', '-'], "_");
        let w1 = median(
            (0..RUNS)
                .map(|_| with_subject(subject, &mut arena, small_pairs))
                .collect(),
        );
        let w2: Vec<(f64, f64)> = (0..RUNS)
            .map(|_| with_subject(subject, &mut arena, mixed_live))
            .collect();
        let w2_ns = median(w2.iter().map(|r| r.0).collect());
        let w2_eff = median(w2.iter().map(|r| r.1).collect());
        let w3 = median(
            (0..RUNS)
                .map(|_| with_subject(subject, &mut arena, vec_growth))
                .collect(),
        );
        println!("BENCH alloc_{label}_w1_small_pairs {w1:.1} ns/pair");
        println!("BENCH alloc_{label}_w2_mixed_live {w2_ns:.1} ns/op");
        if !matches!(subject, Subject::Malloc) {
            println!("BENCH alloc_{label}_w2_efficiency {:.1} %", 100.0 * w2_eff);
        }
        println!(
            "BENCH alloc_{label}_w3_vec_growth {:.1} us/growth",
            w3 / 1000.0
        );
    }
}
