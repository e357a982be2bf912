//! Address spaces and the generic page-table code, run against the emulated
//! physical memory: a property test against a `BTreeMap` model, and the
//! failure paths.

use std::collections::{BTreeMap, BTreeSet};
use std::vec::Vec;

use super::emulated::EmulatedMemory;
use super::space::AddressSpace;
use super::{EntryFlags, MapError, UnmapError};
use crate::memory::frame::{Frame, FrameAllocator};
use crate::memory::page::Page;
use proptest::prelude::*;

type Space<'m> = AddressSpace<&'m EmulatedMemory>;

/// What a page holds: its space and page, so a mix-up shows.
fn tag(space: u64, page: Page) -> [u8; 16] {
    let mut tag = [0; 16];
    tag[..8].copy_from_slice(&space.to_le_bytes());
    tag[8..].copy_from_slice(&page.start_address().as_u64().to_le_bytes());
    tag
}

#[derive(Debug, Clone)]
enum Op {
    Map(usize, Page),
    Unmap(usize, Page),
    Translate(usize, Page),
    MapKernel(Page),
    Recreate(usize),
}

/// User pages crowded into few tables, so tables are shared and reused.
fn user_page() -> impl Strategy<Value = Page> {
    (0..3usize, 0..2usize, 0..3usize, 0..6usize)
        .prop_map(|(p4, p3, p2, p1)| Page::from_indices(p4, p3 * 200, p2, p1))
}

fn kernel_page() -> impl Strategy<Value = Page> {
    (256..260usize, 0..2usize, 0..4usize).prop_map(|(p4, p2, p1)| Page::from_indices(p4, 7, p2, p1))
}

const SPACES: usize = 4;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..SPACES, user_page()).prop_map(|(s, p)| Op::Map(s, p)),
        3 => (0..SPACES, user_page()).prop_map(|(s, p)| Op::Unmap(s, p)),
        3 => (0..SPACES, user_page()).prop_map(|(s, p)| Op::Translate(s, p)),
        1 => (0..SPACES, kernel_page()).prop_map(|(s, p)| Op::Map(s, p)),
        1 => kernel_page().prop_map(Op::MapKernel),
        1 => (0..SPACES).prop_map(Op::Recreate),
    ]
}

/// The model: per space, page -> (frame, tag); the kernel's pages.
struct Model {
    spaces: Vec<BTreeMap<Page, (Frame, [u8; 16])>>,
    ids: Vec<u64>,
    kernel: BTreeMap<Page, Frame>,
    next_id: u64,
}

fn check_translate(space: &Space<'_>, id: u64, model: &Model, s: usize, page: Page) {
    let expected = if page.p4_index() >= 256 {
        model.kernel.get(&page).copied()
    } else {
        model.spaces[s].get(&page).map(|(frame, _)| *frame)
    };
    assert_eq!(space.translate_page(page), expected, "{page}");
    if let Some((_, want)) = model.spaces[s].get(&page) {
        let mut got = [0; 16];
        space.read(page.start_address() + 8u64, &mut got).unwrap();
        assert_eq!(&got, want, "space {id} {page}");
    }
}

fn run(ops: &[Op]) {
    let memory = EmulatedMemory::new(4096);
    let kernel_tables = memory.kernel_tables();
    let free_at_start = memory.frames().free_count();
    let mut spaces: Vec<Space<'_>> = (0..SPACES)
        .map(|_| AddressSpace::new_in(&memory).unwrap())
        .collect();
    let mut model = Model {
        spaces: vec![BTreeMap::new(); SPACES],
        ids: (0..SPACES as u64).collect(),
        kernel: BTreeMap::new(),
        next_id: SPACES as u64,
    };
    for op in ops {
        match *op {
            Op::Map(s, page) => {
                let result = spaces[s].map(page, EntryFlags::WRITABLE);
                if page.p4_index() >= 256 {
                    assert_eq!(result, Err(MapError::KernelHalf));
                } else if let Some((frame, _)) = model.spaces[s].get(&page) {
                    assert_eq!(result, Err(MapError::PageAlreadyMapped(*frame)));
                } else {
                    result.unwrap();
                    let frame = spaces[s].translate_page(page).unwrap();
                    let flags = spaces[s].page_flags(page).unwrap();
                    assert!(flags.contains(EntryFlags::USER_ACCESSIBLE | EntryFlags::WRITABLE));
                    let data = tag(model.ids[s], page);
                    spaces[s].write(page.start_address() + 8u64, &data).unwrap();
                    model.spaces[s].insert(page, (frame, data));
                }
            }
            Op::Unmap(s, page) => match model.spaces[s].remove(&page) {
                Some((frame, _)) => {
                    let owned = spaces[s].unmap(page).unwrap();
                    assert_eq!(owned.frame(), frame);
                    spaces[s].free_frame(owned);
                }
                None => assert_eq!(spaces[s].unmap(page).err(), Some(UnmapError::PageNotMapped)),
            },
            Op::Translate(s, page) => check_translate(&spaces[s], model.ids[s], &model, s, page),
            Op::MapKernel(page) => {
                let result = memory
                    .kernel()
                    .map(page, EntryFlags::WRITABLE, &mut *memory.frames());
                match model.kernel.get(&page) {
                    Some(frame) => {
                        assert_eq!(result.err(), Some(MapError::PageAlreadyMapped(*frame)))
                    }
                    None => {
                        result.unwrap().ignore();
                        let frame = memory.kernel().translate_page(page).unwrap();
                        model.kernel.insert(page, frame);
                    }
                }
                // A kernel mapping made after the spaces shows in all of them.
                for space in &spaces {
                    assert_eq!(space.translate_page(page), model.kernel.get(&page).copied());
                }
            }
            Op::Recreate(s) => {
                spaces[s] = AddressSpace::new_in(&memory).unwrap();
                model.spaces[s].clear();
                model.ids[s] = model.next_id;
                model.next_id += 1;
            }
        }
    }
    for (s, space) in spaces.iter().enumerate() {
        for page in model.spaces[s].keys() {
            check_translate(space, model.ids[s], &model, s, *page);
        }
    }
    drop(spaces);
    // Every frame the spaces took came back; the kernel's did not: its
    // pages, and the P2 and P1 tables made for them under the shared P3s.
    let kernel = &model.kernel;
    let p2_tables: BTreeSet<_> = kernel.keys().map(|p| p.p4_index()).collect();
    let p1_tables: BTreeSet<_> = kernel
        .keys()
        .map(|p| (p.p4_index(), p.p2_index()))
        .collect();
    let frames = memory.frames();
    assert!(kernel_tables.iter().all(|frame| frames.is_used(*frame)));
    assert!(kernel.values().all(|frame| frames.is_used(*frame)));
    assert_eq!(
        frames.free_count() + kernel.len() + p2_tables.len() + p1_tables.len(),
        free_at_start
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// 48 cases of 210-260 operations: over 10,000 in all.
    #[test]
    fn spaces_agree_with_a_model(ops in proptest::collection::vec(op(), 210..260)) {
        run(&ops);
    }
}

#[test]
fn running_out_of_frames_is_an_error_and_leaks_nothing() {
    let memory = EmulatedMemory::new(400);
    let free_at_start = memory.frames().free_count();
    // Take all but `left` frames, then try to create a space and map into it.
    for left in 0..8 {
        let mut taken = Vec::new();
        while memory.frames().free_count() > left {
            taken.push(memory.frames().allocate_frame().unwrap());
        }
        match AddressSpace::new_in(&memory) {
            Err(err) => assert_eq!((left, err), (0, MapError::FrameAllocationFailed)),
            Ok(space) => {
                // Mapping needs a P3, a P2, a P1 and the page: 4 frames.
                let page = Page::from_indices(1, 2, 3, 4);
                let result = space.map(page, EntryFlags::WRITABLE);
                if left >= 5 {
                    result.unwrap();
                } else {
                    assert_eq!(result, Err(MapError::FrameAllocationFailed));
                    assert_eq!(space.translate_page(page), None);
                }
            }
        }
        assert_eq!(memory.frames().free_count(), left, "left {left}");
        for frame in taken {
            // SAFETY: taken above, never used.
            unsafe { memory.frames().deallocate_frame(frame) };
        }
        assert_eq!(memory.frames().free_count(), free_at_start);
    }
}

#[test]
fn kernel_half_is_refused_and_shared() {
    let memory = EmulatedMemory::new(600);
    let space = AddressSpace::new_in(&memory).unwrap();
    let kernel_page = Page::from_indices(300, 1, 2, 3);
    assert_eq!(
        space.map(kernel_page, EntryFlags::WRITABLE),
        Err(MapError::KernelHalf)
    );
    assert_eq!(space.unmap(kernel_page).err(), Some(UnmapError::KernelHalf));
    // Mapped in the kernel after the space was made: visible in it.
    memory
        .kernel()
        .map(kernel_page, EntryFlags::WRITABLE, &mut *memory.frames())
        .unwrap()
        .ignore();
    let frame = memory.kernel().translate_page(kernel_page);
    assert!(frame.is_some());
    assert_eq!(space.translate_page(kernel_page), frame);
    // Slot 510 of the space is its own P4; the kernel's is the kernel's.
    let p4 = space.p4_frame();
    assert_eq!(
        space.translate_page(Page::from_indices(510, 510, 510, 510)),
        Some(p4)
    );
    assert_ne!(
        memory
            .kernel()
            .translate_page(Page::from_indices(510, 510, 510, 510)),
        Some(p4)
    );
}
