//! Property tests shared by every design: random sequences of allocate,
//! reallocate and free against a model, checking alignment, bounds,
//! overlap and that data survives.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::bump::BumpDesign;
use super::crate_list::CrateDesign;
use super::fixed_block::FixedBlockDesign;
use super::linked_list::LinkedListDesign;
use super::{Heap, HeapDesign};

const ARENA: usize = 256 * 1024;

/// 16-byte aligned memory for a design.
fn arena(bytes: usize) -> Vec<u128> {
    vec![0u128; bytes / 16]
}

#[derive(Debug, Clone)]
enum Op {
    Alloc { size: usize, align_shift: u32 },
    Free(usize),
    Realloc(usize, usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (1usize..3000, 0u32..8).prop_map(|(size, align_shift)| Op::Alloc { size, align_shift }),
        3 => any::<usize>().prop_map(Op::Free),
        1 => (any::<usize>(), 1usize..3000).prop_map(|(i, size)| Op::Realloc(i, size)),
    ];
    prop::collection::vec(op, 1..300)
}

struct Live {
    ptr: NonNull<u8>,
    layout: Layout,
    fill: u8,
}

fn fill(block: &Live) {
    // SAFETY: the block is live and `layout.size()` long.
    unsafe { core::ptr::write_bytes(block.ptr.as_ptr(), block.fill, block.layout.size()) };
}

fn intact(block: &Live) -> bool {
    // SAFETY: the block is live and `layout.size()` long.
    let bytes = unsafe { core::slice::from_raw_parts(block.ptr.as_ptr(), block.layout.size()) };
    bytes.iter().all(|&b| b == block.fill)
}

/// Runs `ops` on a fresh `D` and checks every promise; `full_reuse` says the
/// design promises one large block after everything is freed.
fn exercise<D: HeapDesign>(ops: &[Op], full_reuse: bool) -> Result<(), TestCaseError> {
    let mut memory = arena(ARENA);
    let base = memory.as_mut_ptr() as usize;
    let mut design = D::EMPTY;
    // SAFETY: the arena is ours, aligned, and outlives the design.
    unsafe { design.init(NonNull::new(base as *mut u8).unwrap(), ARENA) };
    let mut live: Vec<Live> = Vec::new();
    let mut counter = 0u8;

    let place = |design: &mut D,
                 live: &mut Vec<Live>,
                 layout: Layout,
                 counter: &mut u8|
     -> Result<bool, TestCaseError> {
        let Some(ptr) = design.allocate(layout) else {
            return Ok(false);
        };
        let addr = ptr.as_ptr() as usize;
        prop_assert_eq!(addr % layout.align(), 0, "misaligned");
        prop_assert!(
            addr >= base && addr + layout.size() <= base + ARENA,
            "outside the heap"
        );
        for other in live.iter() {
            let o = other.ptr.as_ptr() as usize;
            prop_assert!(
                addr + layout.size() <= o || o + other.layout.size() <= addr,
                "overlap"
            );
        }
        *counter = counter.wrapping_add(1);
        let block = Live {
            ptr,
            layout,
            fill: *counter,
        };
        fill(&block);
        live.push(block);
        Ok(true)
    };

    for op in ops {
        match *op {
            Op::Alloc { size, align_shift } => {
                let layout = Layout::from_size_align(size, 1 << align_shift).unwrap();
                place(&mut design, &mut live, layout, &mut counter)?;
            }
            Op::Free(i) if !live.is_empty() => {
                let block = live.swap_remove(i % live.len());
                prop_assert!(intact(&block), "data changed while live");
                // SAFETY: the block came from this design with this layout.
                unsafe { design.deallocate(block.ptr, block.layout) };
            }
            Op::Realloc(i, size) if !live.is_empty() => {
                // What GlobalAlloc's default realloc does: new, copy, free.
                let index = i % live.len();
                let layout = Layout::from_size_align(size, live[index].layout.align()).unwrap();
                if place(&mut design, &mut live, layout, &mut counter)? {
                    let old = live.swap_remove(index);
                    prop_assert!(intact(&old), "data changed while live");
                    // SAFETY: the block came from this design with this layout.
                    unsafe { design.deallocate(old.ptr, old.layout) };
                }
            }
            _ => {}
        }
    }
    for block in live.drain(..) {
        prop_assert!(intact(&block), "data changed while live");
        // SAFETY: as above.
        unsafe { design.deallocate(block.ptr, block.layout) };
    }
    if full_reuse {
        let nearly_all = Layout::from_size_align(ARENA - 4096, 16).unwrap();
        prop_assert!(
            design.allocate(nearly_all).is_some(),
            "fragments left after freeing everything"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn bump_keeps_its_promises(ops in ops()) {
        exercise::<BumpDesign>(&ops, true)?;
    }

    #[test]
    fn linked_list_keeps_its_promises(ops in ops()) {
        exercise::<LinkedListDesign>(&ops, true)?;
    }

    #[test]
    fn fixed_block_keeps_its_promises(ops in ops()) {
        exercise::<FixedBlockDesign>(&ops, false)?;
    }

    #[test]
    fn crate_design_keeps_its_promises(ops in ops()) {
        exercise::<CrateDesign>(&ops, true)?;
    }
}

#[test]
fn bump_reuses_the_top_block_while_older_blocks_live() {
    let mut memory = arena(4096);
    let base = memory.as_mut_ptr() as usize;
    let mut design = BumpDesign::EMPTY;
    // SAFETY: the arena is ours and outlives the design.
    unsafe { design.init(NonNull::new(base as *mut u8).unwrap(), 4096) };
    let small = Layout::from_size_align(24, 8).unwrap();
    let page = Layout::from_size_align(1024, 8).unwrap();
    let _older = design.allocate(small).unwrap();
    // Ten times the arena, one block at a time, above a block that lives on.
    for _ in 0..40 {
        let block = design
            .allocate(page)
            .expect("the freed top block is reused");
        // SAFETY: freed once, with its layout.
        unsafe { design.deallocate(block, page) };
    }
}

#[test]
fn linked_list_merges_neighbours_back_into_one_region() {
    let mut memory = arena(64 * 1024);
    let base = memory.as_mut_ptr() as usize;
    let mut design = LinkedListDesign::EMPTY;
    // SAFETY: the arena is ours and outlives the design.
    unsafe { design.init(NonNull::new(base as *mut u8).unwrap(), 64 * 1024) };
    let layout = Layout::from_size_align(100, 8).unwrap();
    let blocks: Vec<_> = (0..10).map(|_| design.allocate(layout).unwrap()).collect();
    // Free every other block, then the rest: the list must end as one region.
    for block in blocks
        .iter()
        .step_by(2)
        .chain(blocks.iter().skip(1).step_by(2))
    {
        // SAFETY: each block is freed once, with its layout.
        unsafe { design.deallocate(*block, layout) };
    }
    assert_eq!(design.regions(), [(base, 64 * 1024)]);
}

#[test]
fn designs_grow_at_the_end() {
    fn grows<D: HeapDesign>() {
        let mut memory = arena(128 * 1024);
        let base = memory.as_mut_ptr() as usize;
        let mut design = D::EMPTY;
        // SAFETY: the arena is ours; only its first half is given at first.
        unsafe { design.init(NonNull::new(base as *mut u8).unwrap(), 64 * 1024) };
        let big = Layout::from_size_align(100 * 1024, 16).unwrap();
        assert!(design.allocate(big).is_none(), "{}", D::NAME);
        // SAFETY: the second half is ours too.
        unsafe { design.extend(64 * 1024) };
        let block = design.allocate(big).expect(D::NAME);
        assert!((block.as_ptr() as usize) + big.size() <= base + 128 * 1024);
    }
    grows::<BumpDesign>();
    grows::<LinkedListDesign>();
    grows::<FixedBlockDesign>();
    grows::<CrateDesign>();
}

/// The arena that `grow_from_arena` hands out, for the Heap growth test.
static GROW_ARENA: spin::Mutex<(usize, usize)> = spin::Mutex::new((0, 0));

fn grow_from_arena(end: usize, bytes: usize) -> usize {
    let (arena_start, arena_len) = *GROW_ARENA.lock();
    let available = (arena_start + arena_len).saturating_sub(end);
    bytes.min(available) & !4095
}

/// Serialises the tests that share GROW_ARENA (tests run in parallel).
static GROWTH_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A heap of design `D` over the first 64 KiB of `memory`, allowed to grow
/// over the rest of it (1 MiB in all) through `grow`.
fn growing_heap<D: HeapDesign>(memory: &mut [u128], grow: super::GrowFn) -> Heap<D> {
    let base = memory.as_mut_ptr() as usize;
    *GROW_ARENA.lock() = (base, memory.len() * 16);
    let heap = Heap::new();
    // SAFETY: the memory is ours; `grow` hands out only the rest of it.
    unsafe {
        heap.init(
            NonNull::new(base as *mut u8).unwrap(),
            64 * 1024,
            memory.len() * 16,
            Some(grow),
        )
    };
    heap
}

#[test]
fn heap_grows_on_demand_counts_and_reports_exhaustion() {
    let _serial = GROWTH_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let mut memory = arena(1 << 20);
    let heap: Heap<FixedBlockDesign> = growing_heap(&mut memory, grow_from_arena);

    let layout = Layout::from_size_align(100 * 1024, 8).unwrap();
    // SAFETY: a valid, non-zero layout.
    let first = unsafe { heap.alloc(layout) };
    assert!(!first.is_null(), "grew to fit");
    let stats = heap.stats();
    assert!(
        stats.size >= 164 * 1024 && stats.size <= 1 << 20,
        "{stats:?}"
    );
    assert_eq!(
        (stats.in_use, stats.live, stats.allocations),
        (100 * 1024, 1, 1)
    );

    // More than the limit: refused, counted, heap intact.
    let huge = Layout::from_size_align(2 << 20, 8).unwrap();
    // SAFETY: as above.
    assert!(unsafe { heap.alloc(huge) }.is_null());
    assert_eq!(heap.stats().failed, 1);
    // SAFETY: `first` came from this heap with `layout`.
    unsafe { heap.dealloc(first, layout) };
    let stats = heap.stats();
    assert_eq!((stats.in_use, stats.live, stats.peak), (0, 0, 100 * 1024));
}

/// Grows by at most 16 KiB per call, as a kernel low on frames would.
fn grow_a_little(end: usize, bytes: usize) -> usize {
    if bytes > 16 * 1024 {
        0
    } else {
        grow_from_arena(end, bytes)
    }
}

#[test]
fn heap_falls_back_to_a_small_growth_step() {
    let _serial = GROWTH_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let mut memory = arena(1 << 20);
    let heap: Heap<LinkedListDesign> = growing_heap(&mut memory, grow_a_little);
    let layout = Layout::from_size_align(60 * 1024, 8).unwrap();
    // SAFETY: a valid, non-zero layout.
    let first = unsafe { heap.alloc(layout) };
    assert!(!first.is_null());
    let small = Layout::from_size_align(100, 8).unwrap();
    // SAFETY: as above.
    let second = unsafe { heap.alloc(small) };
    assert!(
        !second.is_null(),
        "a small request must not fail for want of a big step"
    );
    assert_eq!(heap.stats().failed, 0);
}
