//! Address spaces in the running kernel: made, filled, checked and dropped
//! in numbers, with the frame count as the witness that nothing leaks.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use pyrite::memory::paging::{AddressSpace, EntryFlags, MapError, UnmapError};
use pyrite::memory::{self, Page, audit, regions};
use pyrite::testing::FrameHoard;
use x86_64::VirtAddr;

pyrite::test_kernel!(
    a_fresh_space_costs_one_frame,
    thousand_spaces_hold_their_own_pages_and_give_every_frame_back,
    kernel_half_is_refused,
    kernel_mapping_made_later_is_visible,
    kernel_mapping_made_while_a_space_is_active_is_shared,
    audit_ignores_an_open_window,
    w_xor_x_is_checked_in_every_space,
    running_out_of_frames_is_an_error_and_leaks_nothing,
);

const SPACES: usize = 1000;
const PAGES: u64 = 16;

fn free_frames() -> u64 {
    memory::with(|mem| mem.frames.stats().free).unwrap()
}

/// The `i`th user page of the tests: low in the user half, past page 0.
fn user_page(i: u64) -> Page {
    Page::containing(VirtAddr::new(0x40_0000)) + i
}

/// What page `page` of space `space` holds.
fn tag(space: usize, page: u64) -> u64 {
    0x5A5A_0000_0000_0000 | ((space as u64) << 16) | page
}

fn a_fresh_space_costs_one_frame() {
    let before = free_frames();
    let space = AddressSpace::new().unwrap();
    assert_eq!(free_frames(), before - 1);
    drop(space);
    assert_eq!(free_frames(), before);
}

fn fill(space: &mut AddressSpace, index: usize) {
    for i in 0..PAGES {
        let page = user_page(i);
        space
            .map(page, EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE)
            .unwrap();
        let addr = page.start_address();
        space.write(addr, &tag(index, i).to_le_bytes()).unwrap();
        space
            .write(addr + 4088u64, &(!tag(index, i)).to_le_bytes())
            .unwrap();
    }
}

/// Activates `space` and reads its pages at their own (lower-half)
/// addresses; the kernel's own table does not map them.
fn check_active(space: &AddressSpace, index: usize) {
    let kernel_p4 = memory::with(|mem| mem.tables.p4_frame()).unwrap();
    let active = space.activate();
    assert_eq!(
        memory::with(|mem| mem.tables.p4_frame()).unwrap(),
        space.p4_frame()
    );
    for i in 0..PAGES {
        let addr = user_page(i).start_address();
        // SAFETY: the active space maps the page, writable, and only this
        // test uses it.
        let (head, tail) = unsafe {
            (
                addr.as_ptr::<u64>().read_volatile(),
                (addr + 4088u64).as_ptr::<u64>().read_volatile(),
            )
        };
        assert_eq!((head, tail), (tag(index, i), !tag(index, i)));
    }
    drop(active);
    memory::with(|mem| {
        assert_eq!(mem.tables.p4_frame(), kernel_p4);
        assert_eq!(mem.tables.translate_page(user_page(0)), None);
    })
    .unwrap();
}

fn check(space: &AddressSpace, index: usize) {
    for i in 0..PAGES {
        let addr = user_page(i).start_address();
        let (mut head, mut tail) = ([0; 8], [0; 8]);
        space.read(addr, &mut head).unwrap();
        space.read(addr + 4088u64, &mut tail).unwrap();
        assert_eq!(u64::from_le_bytes(head), tag(index, i));
        assert_eq!(u64::from_le_bytes(tail), !tag(index, i));
        let flags = space.page_flags(user_page(i)).unwrap();
        assert!(flags.contains(EntryFlags::USER_ACCESSIBLE | EntryFlags::WRITABLE));
    }
}

fn thousand_spaces_hold_their_own_pages_and_give_every_frame_back() {
    let before = free_frames();
    let mut spaces = Vec::with_capacity(SPACES);
    for index in 0..SPACES {
        let mut space = AddressSpace::new().unwrap();
        fill(&mut space, index);
        spaces.push(space);
    }
    // Each space: its P4, one P3, P2 and P1, and 16 pages.
    assert_eq!(free_frames(), before - SPACES as u64 * (4 + PAGES));
    for (index, space) in spaces.iter().enumerate() {
        check(space, index);
        check_active(space, index);
    }
    drop(spaces);
    assert_eq!(free_frames(), before);
}

fn kernel_half_is_refused() {
    let space = AddressSpace::new().unwrap();
    let kernel = Page::containing(VirtAddr::new(0xFFFF_8000_0000_0000));
    assert_eq!(
        space.map(kernel, EntryFlags::WRITABLE),
        Err(MapError::KernelHalf)
    );
    assert_eq!(space.unmap(kernel).err(), Some(UnmapError::KernelHalf));
    assert_eq!(
        space.unmap(user_page(0)).err(),
        Some(UnmapError::PageNotMapped)
    );
    space.map(user_page(0), EntryFlags::WRITABLE).unwrap();
    let frame = space.translate_page(user_page(0)).unwrap();
    assert_eq!(
        space.map(user_page(0), EntryFlags::WRITABLE),
        Err(MapError::PageAlreadyMapped(frame))
    );
}

/// A shared kernel-half P4 slot that no region of the layout uses.
fn spare_kernel_slot() -> usize {
    regions::shared_kernel_slots()
        .filter(|&slot| slot != 511)
        .find(|&slot| {
            !regions::REGIONS.iter().any(|region| {
                let (first, last) = region.p4_slots();
                (first..=last).contains(&slot)
            })
        })
        .expect("the layout leaves a kernel slot free")
}

fn kernel_mapping_made_later_is_visible() {
    let spare = spare_kernel_slot();
    let first = Page::from_indices(spare, 1, 0, 0);
    let later = Page::from_indices(spare, 2, 0, 0);
    let flags = EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE;
    // The kernel's P3 for the slot exists before the space (the boot makes
    // them all), so the space shares it.
    memory::with(|mem| {
        mem.tables
            .map(first, flags, &mut mem.frames)
            .unwrap()
            .flush()
    })
    .unwrap();
    let space = AddressSpace::new().unwrap();
    memory::with(|mem| {
        mem.tables
            .map(later, flags, &mut mem.frames)
            .unwrap()
            .flush()
    })
    .unwrap();
    let frame = memory::with(|mem| mem.tables.translate_page(later)).unwrap();
    assert!(frame.is_some());
    assert_eq!(space.translate_page(later), frame);
    drop(space);
    // The kernel's tables survive the space.
    assert_eq!(
        memory::with(|mem| mem.tables.translate_page(later)).unwrap(),
        frame
    );
    memory::with(|mem| {
        for page in [first, later] {
            // SAFETY: mapped above, used by nothing.
            unsafe { mem.tables.unmap_and_free(page, &mut mem.frames) }.unwrap();
        }
    })
    .unwrap();
}

/// A heap-region mapping made while a space is active lands in the shared
/// kernel tables: the kernel's own table sees it once switched back.
fn kernel_mapping_made_while_a_space_is_active_is_shared() {
    let space = AddressSpace::new().unwrap();
    let (first, _) = regions::HEAP.p4_slots();
    let page = Page::from_indices(first, 511, 511, 511);
    let flags = EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE;
    let active = space.activate();
    let frame = memory::with(|mem| {
        mem.tables
            .map(page, flags, &mut mem.frames)
            .unwrap()
            .flush();
        mem.tables.translate_page(page)
    })
    .unwrap();
    drop(active);
    assert!(frame.is_some());
    memory::with(|mem| {
        assert_eq!(mem.tables.translate_page(page), frame);
        // SAFETY: mapped above, used by nothing.
        unsafe { mem.tables.unmap_and_free(page, &mut mem.frames) }.unwrap();
    })
    .unwrap();
    assert_eq!(space.translate_page(page), None);
}

/// The W^X walk of the active table counts the same whether or not the
/// address-space window shows another space (editing a space leaves the
/// window open on it).
fn audit_ignores_an_open_window() {
    let window = regions::SPACE_WINDOW.p4_slots().0;
    // Every space made so far was dropped, which closed the window.
    let closed = memory::with(|mem| {
        assert!(mem.tables.p4()[window].is_unused(), "the window is open");
        audit::audit(&mem.tables)
    })
    .unwrap();
    let mut space = AddressSpace::new().unwrap();
    fill(&mut space, 0);
    let open = memory::with(|mem| {
        assert!(!mem.tables.p4()[window].is_unused(), "the window is closed");
        audit::audit(&mem.tables)
    })
    .unwrap();
    assert_eq!(open, closed);
    assert_eq!(open.writable_executable, 0);
}

fn running_out_of_frames_is_an_error_and_leaks_nothing() {
    let before = free_frames();
    let mut hoard = FrameHoard::new();
    for left in 0..7 {
        hoard.take_all_but(left);
        match AddressSpace::new() {
            Err(err) => assert_eq!((left, err), (0, MapError::FrameAllocationFailed)),
            Ok(space) => {
                // A P3, a P2, a P1 and the page: four frames.
                let result = space.map(user_page(0), EntryFlags::WRITABLE);
                if left >= 5 {
                    result.unwrap();
                } else {
                    assert_eq!(result, Err(MapError::FrameAllocationFailed));
                }
            }
        }
        assert_eq!(free_frames(), left, "{left} frames left");
        hoard.give_back();
        assert_eq!(free_frames(), before);
    }
}

/// The W^X walk covers a space's own user half: a writable, executable user
/// page is found there, and only there.
fn w_xor_x_is_checked_in_every_space() {
    let clean = AddressSpace::new().expect("space");
    let bad = AddressSpace::new().expect("space");
    let data = EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE | EntryFlags::USER_ACCESSIBLE;
    clean.map(user_page(0), data).expect("map");
    bad.map(user_page(0), data).expect("map");
    bad.map(
        user_page(1),
        EntryFlags::WRITABLE | EntryFlags::USER_ACCESSIBLE,
    )
    .expect("map");
    let kernel = memory::with(|mem| audit::audit(&mem.tables)).unwrap();
    let clean_report = clean.audit();
    let bad_report = bad.audit();
    assert_eq!(kernel.writable_executable, 0, "{kernel:?}");
    assert_eq!(clean_report.writable_executable, 0, "{clean_report:?}");
    assert_eq!(bad_report.writable_executable, 1, "{bad_report:?}");
    assert_eq!(
        bad_report.first_offender,
        Some(user_page(1).start_address())
    );
    // Both walks see the shared kernel half and the space's own pages.
    assert_eq!(clean_report.mappings, bad_report.mappings - 1);
    assert!(clean_report.mappings > 1);
}
