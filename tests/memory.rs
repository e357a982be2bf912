//! The frame allocator and our own page tables, in the running kernel after
//! the remap.
#![no_std]
#![no_main]

use pyrite::boot_info;
use pyrite::memory::paging::{EntryFlags, MapError, UnmapError};
use pyrite::memory::regions::{self, REGIONS, boot_data_address, kernel_address};
use pyrite::memory::{self, DeviceMapError, Frame, FrameAllocator, Page, PhysRange, audit};
use x86_64::{PhysAddr, VirtAddr};

pyrite::test_kernel!(
    translate_agrees_with_every_kernel_section,
    sections_have_their_flags,
    no_page_is_writable_and_executable,
    boot_identity_map_is_gone,
    lower_half_of_the_kernel_table_is_empty,
    every_kernel_p4_slot_has_its_p3,
    the_screen_buffer_moved_to_the_mmio_region,
    the_fault_describer_names_each_region,
    guard_page_below_boot_stack_is_unmapped,
    map_write_read_unmap_round_trip,
    mapping_a_mapped_page_is_an_error,
    unmapped_frames_come_back,
    unmapping_an_unmapped_page_is_an_error,
    recursive_region_cannot_be_mapped,
    stacks_have_guard_pages,
    exhausting_frames_returns_none_and_recovers,
    a_failed_device_map_spoils_no_later_one,
);

/// A page in a virtual range the kernel does not use: a higher-half P4
/// slot outside every region (the lower half must stay empty).
fn scratch_page(n: u64) -> Page {
    let start = regions::slot_start(300);
    assert!(REGIONS.iter().all(|r| !r.contains(start)));
    Page::containing(VirtAddr::new(start)) + n
}

fn translate_agrees_with_every_kernel_section() {
    let boot = boot_info().unwrap();
    let guard = boot_stack_guard();
    memory::with(|mem| {
        for section in boot.kernel_sections() {
            let mut addr = section.range.start.as_u64();
            while addr < section.range.end.as_u64() {
                let virt = kernel_address(PhysAddr::new(addr));
                if Page::containing(virt) == guard {
                    addr += 4096;
                    continue;
                }
                let phys = mem.tables.translate(virt + 123u64);
                assert_eq!(phys, Some(PhysAddr::new(addr + 123)), "{:#x}", addr);
                addr += 4096;
            }
        }
        // The boot information stays readable in the boot data region.
        let info = boot.info.start;
        assert_eq!(mem.tables.translate(boot_data_address(info)), Some(info));
        let flags = mem
            .tables
            .page_flags(Page::containing(boot_data_address(info)));
        assert!(!flags.unwrap().contains(EntryFlags::WRITABLE), "read-only");
    })
    .unwrap();
}

fn sections_have_their_flags() {
    let boot = boot_info().unwrap();
    memory::with(|mem| {
        let mut seen = (false, false, false);
        for section in boot.kernel_sections() {
            let page = Page::containing(kernel_address(section.range.start));
            let flags = mem.tables.page_flags(page).expect("section mapped");
            assert_eq!(flags.contains(EntryFlags::WRITABLE), section.writable);
            assert_eq!(!flags.contains(EntryFlags::NO_EXECUTE), section.executable);
            match (section.writable, section.executable) {
                (false, true) => seen.0 = true,
                (false, false) => seen.1 = true,
                (true, false) => seen.2 = true,
                (true, true) => panic!("a writable and executable section"),
            }
        }
        assert_eq!(
            seen,
            (true, true, true),
            "text, rodata and data all present"
        );
    })
    .unwrap();
}

fn no_page_is_writable_and_executable() {
    let report = memory::with(|mem| audit::audit(&mem.tables)).unwrap();
    assert!(report.mappings > 40, "{report:?}");
    assert!(report.executable > 0, "{report:?}");
    assert_eq!(report.writable_executable, 0, "{report:?}");
}

fn boot_identity_map_is_gone() {
    let boot = boot_info().unwrap();
    memory::with(|mem| {
        // Usable RAM beyond the kernel, the info and the bitmap is not
        // mapped. (A debug kernel reaches past 2 MiB: addresses inside the
        // image are left out, but most of these lie far beyond it.)
        let mut checked = 0;
        for addr in [
            0x40_0000u64,
            0x20_0000,
            0x7f0_0000,
            0x4000_0000,
            0xfff0_0000,
        ] {
            if boot.kernel.contains(PhysAddr::new(addr)) {
                continue;
            }
            assert_eq!(mem.tables.translate(VirtAddr::new(addr)), None, "{addr:#x}");
            checked += 1;
        }
        assert!(checked >= 3, "the kernel image is larger than expected");
        // Frame 0 neither, nor the kernel's load address.
        assert_eq!(mem.tables.translate(VirtAddr::new(0)), None);
        let load = boot.kernel.start.as_u64();
        assert_eq!(mem.tables.translate(VirtAddr::new(load)), None);
    })
    .unwrap();
}

/// The kernel's own table maps nothing below 0xFFFF_8000_0000_0000: its P4
/// entries 0-255 are all empty, so the lower half is free for user space.
fn lower_half_of_the_kernel_table_is_empty() {
    memory::with(|mem| {
        let p4 = mem.tables.p4();
        let used: usize = (0..256)
            .filter(|&i| p4[i].flags().contains(EntryFlags::PRESENT))
            .count();
        assert_eq!(used, 0, "P4 entries in the lower half are present");
        // And the walk agrees: no mapping below the higher half.
        assert!(
            p4.entries()
                .filter(|(i, e)| *i < 256 && !e.is_unused())
                .count()
                == 0
        );
    })
    .unwrap();
}

/// Every shared kernel P4 slot (256-507, 511) has its P3 from boot, so
/// address spaces that copy those entries see later kernel mappings; the
/// window slots have none (each table points them elsewhere at run time).
fn every_kernel_p4_slot_has_its_p3() {
    memory::with(|mem| {
        let p4 = mem.tables.p4();
        for slot in regions::shared_kernel_slots() {
            assert!(p4.next_table(slot).is_some(), "slot {slot} has no P3");
        }
        for window in [regions::FRAME_WINDOW, regions::SPACE_WINDOW] {
            let (slot, _) = window.p4_slots();
            assert!(p4[slot].is_unused(), "{} is not empty", window.name);
        }
    })
    .unwrap();
}

/// The console's buffer (VGA text on BIOS, the framebuffer on UEFI) is
/// mapped in the MMIO region and no longer in the boot data region.
fn the_screen_buffer_moved_to_the_mmio_region() {
    let boot = boot_info().unwrap();
    let screen = match boot.framebuffer {
        Some(fb) => fb.address,
        None => PhysAddr::new(0xB8000),
    };
    memory::with(|mem| {
        assert_eq!(mem.tables.translate(boot_data_address(screen)), None);
        let mmio = Page::containing(regions::MMIO.start_addr());
        let found = (0..4096u64)
            .any(|i| mem.tables.translate_page(mmio + i) == Some(Frame::containing(screen)));
        assert!(
            found,
            "no MMIO page maps the screen at {:#x}",
            screen.as_u64()
        );
    })
    .unwrap();
}

fn the_fault_describer_names_each_region() {
    use memory::AddressKind;
    let boot = boot_info().unwrap();
    let cases = [
        (0, AddressKind::Unmapped),
        (0x20_0000, AddressKind::Unmapped),
        (memory::HEAP_START, AddressKind::Heap),
        (regions::MMIO.start, AddressKind::Mmio),
        (regions::PER_CPU.start, AddressKind::PerCpu),
        (regions::TEMPORARY_PAGE.start, AddressKind::TemporaryPage),
        (regions::FRAME_WINDOW.start, AddressKind::FrameWindow),
        (regions::SPACE_WINDOW.start, AddressKind::SpaceWindow),
        (
            boot_data_address(boot.info.start).as_u64(),
            AddressKind::BootData,
        ),
        (regions::KERNEL_IMAGE.start, AddressKind::KernelImage),
        (regions::PAGE_TABLES_START, AddressKind::PageTables),
    ];
    for (addr, kind) in cases {
        assert_eq!(memory::describe_address(addr), kind, "{addr:#x}");
    }
    let text = kernel_address(boot.kernel_sections()[0].range.start).as_u64();
    assert!(matches!(
        memory::describe_address(text),
        AddressKind::KernelSection { .. }
    ));
}

unsafe extern "C" {
    /// The lowest byte of the boot stack (asm/boot.asm).
    static boot_stack_bottom: u8;
}

fn boot_stack_bottom_address() -> u64 {
    &raw const boot_stack_bottom as u64
}

/// The page below the boot stack, in the kernel's .bss: the boot P4 was there.
/// (`boot_stack_bottom` is its linked, higher-half address.)
fn boot_stack_guard() -> Page {
    Page::containing(VirtAddr::new(boot_stack_bottom_address() - 1))
}

fn guard_page_below_boot_stack_is_unmapped() {
    let bottom = boot_stack_bottom_address();
    memory::with(|mem| {
        let guard = Page::containing(VirtAddr::new(bottom - 1));
        assert_eq!(mem.tables.translate_page(guard), None);
        assert!(mem.tables.translate(VirtAddr::new(bottom)).is_some());
    })
    .unwrap();
    // The stack we run on is above the guard.
    let here = 0u8;
    assert!((&raw const here as u64) > bottom);
}

fn map_write_read_unmap_round_trip() {
    let page = scratch_page(0);
    memory::with(|mem| {
        let free_before = mem.frames.stats().free;
        let flags = EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE;
        mem.tables
            .map(page, flags, &mut mem.frames)
            .unwrap()
            .flush();
        let frame = mem.tables.translate_page(page).expect("mapped");
        let ptr = page.start_address().as_mut_ptr::<u64>();
        for i in 0..512 {
            // SAFETY: the page was just mapped writable and is ours.
            unsafe { ptr.add(i).write_volatile(0xdead_beef_0000_0000 | i as u64) };
        }
        for i in 0..512 {
            // SAFETY: as above.
            let value = unsafe { ptr.add(i).read_volatile() };
            assert_eq!(value, 0xdead_beef_0000_0000 | i as u64);
        }
        // SAFETY: nothing refers to the page any more.
        let freed = unsafe { mem.tables.unmap_and_free(page, &mut mem.frames) }.unwrap();
        assert_eq!(freed, frame);
        assert_eq!(mem.tables.translate_page(page), None);
        // Page tables made for the mapping stay; the page's own frame came back.
        assert!(mem.frames.stats().free + 3 >= free_before);
    })
    .unwrap();
}

fn mapping_a_mapped_page_is_an_error() {
    let page = scratch_page(1);
    memory::with(|mem| {
        mem.tables
            .map(page, EntryFlags::WRITABLE, &mut mem.frames)
            .unwrap()
            .flush();
        let frame = mem.tables.translate_page(page).unwrap();
        let free = mem.frames.stats().free;
        let other = mem.frames.allocate_frame().unwrap();
        // SAFETY: `other` was just allocated: unused and ours.
        let result = unsafe {
            mem.tables
                .map_to(page, other, EntryFlags::WRITABLE, &mut mem.frames)
        };
        assert_eq!(result.err(), Some(MapError::PageAlreadyMapped(frame)));
        // `map` gives its frame back when the mapping fails.
        assert_eq!(
            mem.tables
                .map(page, EntryFlags::WRITABLE, &mut mem.frames)
                .err(),
            Some(MapError::PageAlreadyMapped(frame))
        );
        assert_eq!(mem.frames.stats().free, free - 1);
        // SAFETY: `other` was never mapped; the page is ours.
        unsafe {
            mem.frames.deallocate_frame(other);
            mem.tables.unmap_and_free(page, &mut mem.frames).unwrap();
        }
    })
    .unwrap();
}

fn unmapped_frames_come_back() {
    memory::with(|mem| {
        // Warm up: the tables for these pages exist after the first round.
        for round in 0..3 {
            let before = mem.frames.stats().free;
            for n in 0..64 {
                mem.tables
                    .map(scratch_page(16 + n), EntryFlags::WRITABLE, &mut mem.frames)
                    .unwrap()
                    .flush();
            }
            for n in 0..64 {
                // SAFETY: the pages were mapped above and are unused.
                unsafe {
                    mem.tables
                        .unmap_and_free(scratch_page(16 + n), &mut mem.frames)
                }
                .unwrap();
            }
            if round > 0 {
                assert_eq!(mem.frames.stats().free, before, "round {round}");
            }
        }
    })
    .unwrap();
}

fn unmapping_an_unmapped_page_is_an_error() {
    memory::with(|mem| {
        assert_eq!(
            mem.tables.unmap(scratch_page(200)).err(),
            Some(UnmapError::PageNotMapped)
        );
        let far = Page::containing(VirtAddr::new(0x0000_7000_0000_0000));
        assert_eq!(mem.tables.unmap(far).err(), Some(UnmapError::PageNotMapped));
    })
    .unwrap();
}

fn recursive_region_cannot_be_mapped() {
    memory::with(|mem| {
        let page = Page::from_indices(510, 3, 4, 5);
        let frame = Frame::containing(PhysAddr::new(0x1000));
        // SAFETY: the call is refused before anything is mapped.
        let result = unsafe {
            mem.tables
                .map_to(page, frame, EntryFlags::WRITABLE, &mut mem.frames)
        };
        assert_eq!(result.err(), Some(MapError::RecursiveRegion));
    })
    .unwrap();
}

fn stacks_have_guard_pages() {
    memory::with(|mem| {
        let a = mem
            .stacks
            .alloc_stack(&mut mem.tables, &mut mem.frames, 4)
            .unwrap();
        let b = mem
            .stacks
            .alloc_stack(&mut mem.tables, &mut mem.frames, 2)
            .unwrap();
        assert_eq!(a.top() - a.bottom(), 4 * 4096);
        assert_eq!(b.top() - b.bottom(), 2 * 4096);
        assert!(b.bottom() > a.top(), "stacks do not overlap");
        for stack in [a, b] {
            assert_eq!(mem.tables.translate_page(stack.guard_page()), None);
            let top = Page::containing(stack.top() - 1u64);
            let flags = mem.tables.page_flags(top).unwrap();
            assert!(flags.contains(EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE));
            // SAFETY: the stack's top word is mapped and unused.
            unsafe { (stack.top() - 8u64).as_mut_ptr::<u64>().write_volatile(7) };
        }
    })
    .unwrap();
}

fn exhausting_frames_returns_none_and_recovers() {
    memory::with(|mem| {
        let before = mem.frames.stats();
        // Record what was taken as runs of consecutive frames (the bitmap
        // hands frames out in address order, so there are few runs).
        let mut runs = [(0u64, 0u64); 256];
        let mut run_count: usize = 0;
        let mut taken = 0u64;
        while let Some(frame) = mem.frames.allocate_frame() {
            taken += 1;
            let n = frame.number();
            match run_count.checked_sub(1).map(|i| &mut runs[i]) {
                Some((start, len)) if *start + *len == n => *len += 1,
                _ => {
                    assert!(run_count < runs.len(), "too fragmented to record");
                    runs[run_count] = (n, 1);
                    run_count += 1;
                }
            }
        }
        assert_eq!(taken, before.free);
        assert_eq!(mem.frames.stats().free, 0);
        assert_eq!(mem.frames.allocate_frame(), None);
        // Mapping now fails cleanly instead of faulting.
        assert_eq!(
            mem.tables
                .map(
                    scratch_page(300 * 512),
                    EntryFlags::WRITABLE,
                    &mut mem.frames
                )
                .err(),
            Some(MapError::FrameAllocationFailed)
        );
        for &(start, len) in &runs[..run_count] {
            for number in start..start + len {
                mem.frames.free(Frame::from_number(number)).unwrap();
            }
        }
        assert_eq!(mem.frames.stats(), before);
    })
    .unwrap();
    pyrite::println!("  (the kernel still runs after running out of frames)");
}

/// The VGA text buffer's first `pages` frames: device memory, never handed
/// out by the frame allocator.
fn text_buffer(pages: u64) -> PhysRange {
    PhysRange::new(
        PhysAddr::new(0xb8000),
        PhysAddr::new(0xb8000 + pages * 4096),
    )
}

fn a_failed_device_map_spoils_no_later_one() {
    // SAFETY: the text buffer is device memory (see `text_buffer`).
    let at = unsafe { memory::map_device(text_buffer(1)) }.unwrap();
    // The next request starts after this page and its unmapped guard; its
    // second page is taken by hand so that request fails part way.
    let next = Page::containing(at) + 2;
    let blocker = next + 1;
    let frame = Frame::containing(text_buffer(1).start);
    memory::with(|mem| {
        // SAFETY: a device frame, mapped read-only at a free MMIO page.
        unsafe {
            mem.tables
                .map_to(blocker, frame, EntryFlags::NO_EXECUTE, &mut mem.frames)
        }
        .unwrap()
        .flush();
    })
    .unwrap();
    // SAFETY: as above.
    let failed = unsafe { memory::map_device(text_buffer(2)) };
    assert_eq!(
        failed,
        Err(DeviceMapError::Map(MapError::PageAlreadyMapped(frame)))
    );
    // Its first page was unmapped again.
    memory::with(|mem| assert_eq!(mem.tables.translate_page(next), None)).unwrap();
    // SAFETY: as above.
    let later = unsafe { memory::map_device(text_buffer(2)) }.expect("a later map works");
    assert!(Page::containing(later) > blocker);
    memory::with(|mem| {
        let (_, flush) = mem.tables.unmap(blocker).unwrap();
        flush.flush();
    })
    .unwrap();
    // SAFETY: nothing uses these mappings any more.
    unsafe {
        memory::unmap_device(at, text_buffer(1));
        memory::unmap_device(later, text_buffer(2));
    }
}
