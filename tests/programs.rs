//! Boots with the user programs as boot modules (tools/run-test-kernel adds
//! them as the ISO carries them) and loads /bin/hello from the file tree
//! into fresh address spaces: segments with their permissions, file bytes
//! in place, bss zeroed, the stack and its System V contents, and every
//! frame back when the space is dropped or a load fails; and a hand-built
//! program whose segment starts part way into a page.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;

use pyrite::fs;
use pyrite::memory::paging::{AddressSpace, EntryFlags, MapError};
use pyrite::memory::{self, PAGE_SIZE, Page};
use pyrite::process::elf::ElfError;
use pyrite::process::initial_stack::auxv;
use pyrite::process::loader::{USER_STACK_BOTTOM, USER_STACK_TOP, segment_flags};
use pyrite::process::{self, LoadError, LoadedImage};
use pyrite::testing::FrameHoard;
use x86_64::VirtAddr;

pyrite::test_kernel!(
    the_modules_are_files,
    every_program_loads,
    hello_is_mapped_with_its_permissions,
    file_bytes_are_in_place_and_bss_is_zero,
    bytes_around_an_unaligned_segment_are_zero,
    the_stack_holds_argc_argv_envp_and_auxv,
    dropping_the_space_returns_every_frame,
    bad_programs_are_errors_that_leak_nothing,
    running_out_of_memory_is_an_error_that_leaks_nothing,
);

/// Loads in a row, to show that none leaks and to time one.
const LOADS: u32 = 100;
const ARGV: &[&[u8]] = &[b"/bin/hello", b"first", b"second argument"];
const ENVP: &[&[u8]] = &[b"TERM=pyrite", b"HOME=/"];

fn free_frames() -> u64 {
    memory::with(|mem| mem.frames.stats().free).unwrap()
}

fn hello_file() -> &'static [u8] {
    fs::files().unwrap().open("/bin/hello").unwrap().bytes()
}

fn load_hello() -> LoadedImage {
    process::load("/bin/hello", ARGV, ENVP).unwrap()
}

/// Reads `len` bytes of the space from `addr`, across pages.
fn read(space: &AddressSpace, addr: u64, len: u64) -> Vec<u8> {
    let mut out = vec![0u8; len as usize];
    let mut done = 0u64;
    while done < len {
        let at = addr + done;
        let chunk = (PAGE_SIZE - at % PAGE_SIZE).min(len - done);
        let buf = &mut out[done as usize..(done + chunk) as usize];
        space.read(VirtAddr::new(at), buf).unwrap();
        done += chunk;
    }
    out
}

fn word(space: &AddressSpace, addr: u64) -> u64 {
    u64::from_le_bytes(read(space, addr, 8).try_into().unwrap())
}

fn string(space: &AddressSpace, addr: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for at in addr.. {
        let byte = read(space, at, 1)[0];
        if byte == 0 {
            return out;
        }
        out.push(byte);
    }
    unreachable!()
}

fn the_modules_are_files() {
    let files = fs::files().unwrap();
    let bin: Vec<_> = files.list("/bin").unwrap();
    assert!(bin.iter().any(|e| e.name == "hello" && e.size.is_some()));
    assert!(
        files
            .open("/etc/motd")
            .unwrap()
            .bytes()
            .starts_with(b"Welcome")
    );
    assert_eq!(&hello_file()[..4], b"\x7fELF");
}

/// Every file in /bin is a program that loads, keeps W^X, and gives its
/// frames back.
fn every_program_loads() {
    let before = free_frames();
    let programs = fs::files().unwrap().list("/bin").unwrap();
    assert!(programs.len() >= 2, "hello and args at least");
    for program in programs {
        let path = alloc::format!("/bin/{}", program.name);
        let image = process::load(&path, &[path.as_bytes()], &[])
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        assert_eq!(image.space.audit().writable_executable, 0, "{path}");
        assert_eq!(image.stack_pointer.as_u64() % 16, 0);
        drop(image);
        assert_eq!(free_frames(), before, "{path}");
    }
}

fn hello_is_mapped_with_its_permissions() {
    let image = load_hello();
    let exe = &image.executable;
    assert!(exe.segments.iter().any(|s| s.permissions.execute));
    assert!(exe.segments.iter().any(|s| s.permissions.write));
    for segment in &exe.segments {
        let expected = segment_flags(segment) | EntryFlags::USER_ACCESSIBLE;
        for number in segment.pages() {
            let page = Page::containing(VirtAddr::new(number * PAGE_SIZE));
            let flags = image.space.page_flags(page).expect("segment page mapped");
            let checked =
                EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE | EntryFlags::USER_ACCESSIBLE;
            assert_eq!(flags & checked, expected, "page {page}");
            assert!(image.space.translate(page.start_address()).is_some());
        }
    }
    assert!(
        exe.segments
            .iter()
            .any(|s| s.contains(image.entry.as_u64()) && s.permissions.execute)
    );
    // Page 0, the stack's guard page and the top page stay unmapped; the
    // stack is writable, not executable.
    for unmapped in [0, USER_STACK_BOTTOM - PAGE_SIZE, USER_STACK_TOP] {
        assert_eq!(
            image.space.translate(VirtAddr::new(unmapped)),
            None,
            "{unmapped:#x}"
        );
    }
    for addr in [USER_STACK_BOTTOM, USER_STACK_TOP - PAGE_SIZE] {
        let flags = image
            .space
            .page_flags(Page::containing(VirtAddr::new(addr)))
            .unwrap();
        assert!(
            flags.contains(
                EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE | EntryFlags::USER_ACCESSIBLE
            )
        );
    }
    assert_eq!(image.space.audit().writable_executable, 0);
}

fn file_bytes_are_in_place_and_bss_is_zero() {
    let image = load_hello();
    let file = hello_file();
    let mut bss_bytes = 0;
    for segment in &image.executable.segments {
        let loaded = read(&image.space, segment.vaddr, segment.filesz);
        assert_eq!(
            loaded,
            segment.file_bytes(file),
            "segment at {:#x}",
            segment.vaddr
        );
        // From the end of the file bytes to the end of the last page: the
        // bss and the tail of the last page, which the file has other bytes
        // for (hello's symbol table follows its data).
        let end = segment.pages().end * PAGE_SIZE;
        let start = segment.vaddr + segment.filesz;
        let zeros = read(&image.space, start, end - start);
        assert!(
            zeros.iter().all(|&b| b == 0),
            "bss of segment at {:#x}",
            segment.vaddr
        );
        bss_bytes += segment.memsz - segment.filesz;
    }
    // The runtime's heap is on brk now, so hello's bss is small; what the
    // file does not fill is checked above to the end of its last page.
    assert!(bss_bytes > 0, "hello has a bss to check: {bss_bytes} bytes");
    let data = image
        .executable
        .segments
        .iter()
        .find(|s| s.permissions.write)
        .unwrap();
    let after = data.offset + data.filesz;
    assert!(
        file[after as usize..].iter().any(|&b| b != 0),
        "the file goes on after the data"
    );
}

fn the_stack_holds_argc_argv_envp_and_auxv() {
    let image = load_hello();
    let space = &image.space;
    let sp = image.stack_pointer.as_u64();
    assert_eq!(sp % 16, 0);
    assert!((USER_STACK_BOTTOM..USER_STACK_TOP).contains(&sp));
    assert_eq!(word(space, sp), ARGV.len() as u64);
    let mut at = sp + 8;
    for arg in ARGV {
        assert_eq!(string(space, word(space, at)), *arg);
        at += 8;
    }
    assert_eq!(word(space, at), 0);
    at += 8;
    for var in ENVP {
        assert_eq!(string(space, word(space, at)), *var);
        at += 8;
    }
    assert_eq!(word(space, at), 0);
    at += 8;
    let mut aux = Vec::new();
    loop {
        let (key, value) = (word(space, at), word(space, at + 8));
        at += 16;
        if key == auxv::AT_NULL {
            break;
        }
        aux.push((key, value));
    }
    let value = |key| {
        aux.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap()
    };
    let exe = &image.executable;
    assert_eq!(value(auxv::AT_ENTRY), image.entry.as_u64());
    assert_eq!(value(auxv::AT_PAGESZ), PAGE_SIZE);
    assert_eq!(value(auxv::AT_PHNUM), u64::from(exe.phnum));
    assert_eq!(value(auxv::AT_PHENT), 56);
    // AT_PHDR shows the program headers as the file has them.
    let file = hello_file();
    let phoff = u64::from_le_bytes(file[32..40].try_into().unwrap()) as usize;
    let table = read(space, value(auxv::AT_PHDR), 56 * u64::from(exe.phnum));
    assert_eq!(table, &file[phoff..phoff + table.len()]);
    let random = read(space, value(auxv::AT_RANDOM), 16);
    assert!(random.iter().any(|&b| b != 0), "AT_RANDOM's bytes");
}

fn dropping_the_space_returns_every_frame() {
    let before = free_frames();
    let image = load_hello();
    let pages: u64 = image
        .executable
        .segments
        .iter()
        .map(|s| s.pages().end - s.pages().start)
        .sum();
    let stack_pages = (USER_STACK_TOP - USER_STACK_BOTTOM) / PAGE_SIZE;
    // At least the pages and a P4; the tables depend on the layout.
    assert!(before - free_frames() > pages + stack_pages);
    drop(image);
    assert_eq!(free_frames(), before);
    let start = pyrite::time::since_boot();
    for _ in 0..LOADS {
        drop(load_hello());
    }
    let each = (pyrite::time::since_boot() - start) / LOADS;
    assert_eq!(free_frames(), before);
    log::info!(
        "load and drop of /bin/hello: {} us each ({LOADS} in a row)",
        each.as_micros()
    );
}

fn bad_programs_are_errors_that_leak_nothing() {
    let before = free_frames();
    let load = |path| process::load(path, ARGV, ENVP).err().unwrap();
    assert_eq!(load("/etc/motd"), LoadError::Elf(ElfError::NotElf));
    assert_eq!(load("/bin/nothing"), LoadError::File(fs::FsError::NotFound));
    assert_eq!(load("/bin"), LoadError::File(fs::FsError::IsADirectory));
    let file = hello_file();
    let truncated = process::load_image(&file[..file.len() / 2], ARGV, ENVP, [1; 16]);
    assert!(matches!(truncated, Err(LoadError::Elf(_))));
    let nul = process::load_image(file, &[b"a\0b"], ENVP, [1; 16]);
    assert!(
        matches!(nul, Err(LoadError::Arguments(_))),
        "{:?}",
        nul.err()
    );
    assert_eq!(free_frames(), before);
}

fn running_out_of_memory_is_an_error_that_leaks_nothing() {
    let before = free_frames();
    // The frames a load of hello takes while its space lives.
    let image = load_hello();
    let needed = before - free_frames();
    drop(image);
    let mut hoard = FrameHoard::new();
    // Short of frames by one, by half, and with none at all.
    for left in [needed - 1, needed / 2, 0] {
        hoard.take_all_but(left);
        let result = process::load("/bin/hello", ARGV, ENVP);
        assert_eq!(
            result.err(),
            Some(LoadError::Memory(MapError::FrameAllocationFailed)),
            "{left} frames left"
        );
        assert_eq!(free_frames(), left, "{left} frames left");
        hoard.give_back();
    }
    assert_eq!(free_frames(), before);
}

/// Where the one segment of [`unaligned_program`] starts, in the file and
/// in memory: not at a page boundary.
const UNALIGNED_AT: u64 = 0x100;
const UNALIGNED_VADDR: u64 = 0x40_1000 + UNALIGNED_AT;
const UNALIGNED_LEN: u64 = 0x20;

/// A program of one executable segment that starts part way into its page,
/// after file bytes that are not zero (the ELF header, then 0xAA filler):
/// a loader that copied whole pages from the file would bring those along.
fn unaligned_program() -> Vec<u8> {
    let mut file = vec![0xAAu8; (UNALIGNED_AT + UNALIGNED_LEN) as usize];
    let mut put = |at: usize, bytes: &[u8]| file[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    put(16, &2u16.to_le_bytes()); // an executable
    put(18, &62u16.to_le_bytes()); // x86-64
    put(20, &1u32.to_le_bytes());
    put(24, &UNALIGNED_VADDR.to_le_bytes()); // entry
    put(32, &64u64.to_le_bytes()); // program headers
    put(40, &0u64.to_le_bytes()); // no sections
    put(48, &0u32.to_le_bytes());
    put(52, &64u16.to_le_bytes());
    put(54, &56u16.to_le_bytes());
    put(56, &1u16.to_le_bytes());
    put(58, &64u16.to_le_bytes());
    put(60, &0u32.to_le_bytes());
    put(64, &1u32.to_le_bytes()); // PT_LOAD
    put(68, &5u32.to_le_bytes()); // read, execute
    put(72, &UNALIGNED_AT.to_le_bytes());
    put(80, &UNALIGNED_VADDR.to_le_bytes());
    put(88, &UNALIGNED_VADDR.to_le_bytes());
    put(96, &UNALIGNED_LEN.to_le_bytes());
    put(104, &UNALIGNED_LEN.to_le_bytes());
    put(112, &PAGE_SIZE.to_le_bytes());
    // The segment's bytes: hlt, then filler it never reaches.
    file[UNALIGNED_AT as usize] = 0xf4;
    file
}

fn bytes_around_an_unaligned_segment_are_zero() {
    let file = unaligned_program();
    let image = process::load_image(&file, ARGV, ENVP, [7; 16]).unwrap();
    let page = UNALIGNED_VADDR - UNALIGNED_VADDR % PAGE_SIZE;
    let end = UNALIGNED_VADDR + UNALIGNED_LEN;
    assert_eq!(
        read(&image.space, UNALIGNED_VADDR, UNALIGNED_LEN),
        &file[UNALIGNED_AT as usize..]
    );
    let before = read(&image.space, page, UNALIGNED_AT);
    assert!(
        before.iter().all(|&b| b == 0),
        "before the segment: {before:x?}"
    );
    let after = read(&image.space, end, page + PAGE_SIZE - end);
    assert!(after.iter().all(|&b| b == 0), "after the segment");
}
