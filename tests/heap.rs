//! The kernel heap in QEMU: `alloc`'s types work, the heap grows past its
//! initial size, and memory is reused. Run with the default design, and
//! with `--features heap-crate` for linked_list_allocator.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use pyrite::memory::heap::{self, INITIAL_SIZE};
use pyrite::println;

pyrite::test_kernel!(
    box_holds_a_value,
    large_vec_grows_the_heap,
    many_short_lived_boxes_reuse_memory,
    long_lived_and_short_lived_mix,
    btreemap_string_rc_and_arc,
    statistics_follow_allocations,
);

fn box_holds_a_value() {
    let a = Box::new(41);
    let b = Box::new([7u64; 64]);
    assert_eq!(*a + 1, 42);
    assert!(b.iter().all(|&x| x == 7));
}

fn large_vec_grows_the_heap() {
    let before = heap::stats().size;
    // 4 MiB of u64s: far past the 1 MiB the heap starts with.
    let n = 4 * INITIAL_SIZE / 8;
    let mut v = Vec::new();
    for i in 0..n {
        v.push(i as u64);
    }
    assert_eq!(v.len(), n);
    assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
    let after = heap::stats().size;
    println!("  heap grew from {before} to {after} bytes");
    assert!(after > 4 * INITIAL_SIZE && after > before);
}

fn many_short_lived_boxes_reuse_memory() {
    // More bytes in total than the whole heap limit, one at a time.
    let limit = heap::stats().limit;
    let mut total = 0usize;
    let mut i = 0u64;
    while total < 2 * limit {
        let b = Box::new([i; 512]);
        assert_eq!(b[511], i);
        total += 512 * 8;
        i += 1;
    }
}

fn long_lived_and_short_lived_mix() {
    let long_lived = Box::new(1234u64);
    let mut keep = Vec::new();
    for i in 0..20_000u64 {
        let short = Box::new(i);
        if i % 100 == 0 {
            keep.push(short);
        }
    }
    assert_eq!(*long_lived, 1234);
    assert_eq!(keep.len(), 200);
    assert!(keep.iter().enumerate().all(|(n, b)| **b == n as u64 * 100));
}

fn btreemap_string_rc_and_arc() {
    let mut map = BTreeMap::new();
    for i in 0..1000 {
        map.insert(i, format!("value {i}"));
    }
    assert_eq!(map.get(&500).map(String::as_str), Some("value 500"));
    let mut s = String::new();
    for word in ["Pyrite", "has", "a", "heap"] {
        s.push_str(word);
        s.push(' ');
    }
    assert_eq!(s.trim_end(), "Pyrite has a heap");
    let shared = Rc::new(5);
    let again = Rc::clone(&shared);
    assert_eq!(Rc::strong_count(&again), 2);
    let atomic = Arc::new(Vec::from([1, 2, 3]));
    assert_eq!(Arc::clone(&atomic).iter().sum::<i32>(), 6);
}

fn statistics_follow_allocations() {
    let before = heap::stats();
    let block = Box::new([0u8; 1000]);
    let during = heap::stats();
    assert_eq!(during.in_use, before.in_use + 1000);
    assert_eq!(during.live, before.live + 1);
    assert!(during.allocations > before.allocations);
    assert!(during.peak >= during.in_use);
    drop(block);
    let after = heap::stats();
    assert_eq!((after.in_use, after.live), (before.in_use, before.live));
    println!(
        "  {} design: {} in use, peak {}, {} allocations, heap {} of {}",
        heap::design_name(),
        after.in_use,
        after.peak,
        after.allocations,
        after.size,
        after.limit
    );
}
