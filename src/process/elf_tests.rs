//! Host tests of the program checks: ELF byte images built here, good and
//! broken in every way the checks know.

use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use proptest::prelude::*;

use super::elf::{ElfError, Executable, MAX_PROGRAM_HEADERS, Permissions, parse};

const RANGE: Range<u64> = 0x1000..0x7fff_0000_0000;
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;

#[derive(Clone, Copy)]
struct Ph {
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
    Ph {
        kind: PT_LOAD,
        flags,
        offset,
        vaddr,
        filesz,
        memsz,
    }
}

/// A program as a linker lays it out: headers and read-only data, code,
/// then data with bss.
fn good_segments() -> Vec<Ph> {
    vec![
        load(R, 0, 0x40_0000, 0x200, 0x200),
        load(R | X, 0x1000, 0x40_1000, 0x1800, 0x1800),
        load(R | W, 0x3000, 0x40_3000, 0x98, 0x4_00a0),
    ]
}

struct Image {
    class: u8,
    data: u8,
    kind: u16,
    machine: u16,
    entry: u64,
    phnum: Option<u16>,
    segments: Vec<Ph>,
    len: usize,
}

impl Image {
    fn good() -> Self {
        Self {
            class: 2,
            data: 1,
            kind: 2,
            machine: 62,
            entry: 0x40_1010,
            phnum: None,
            segments: good_segments(),
            len: 0x3098,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut file = vec![0xAAu8; self.len.max(64 + 56 * self.segments.len())];
        file[..4].copy_from_slice(b"\x7fELF");
        file[4] = self.class;
        file[5] = self.data;
        file[6] = 1; // EI_VERSION
        file[7..16].fill(0);
        let mut put = |at: usize, bytes: &[u8]| file[at..at + bytes.len()].copy_from_slice(bytes);
        put(16, &self.kind.to_le_bytes());
        put(18, &self.machine.to_le_bytes());
        put(20, &1u32.to_le_bytes());
        put(24, &self.entry.to_le_bytes());
        put(32, &64u64.to_le_bytes()); // e_phoff
        put(40, &0u64.to_le_bytes()); // e_shoff: no sections
        put(48, &0u32.to_le_bytes());
        put(52, &64u16.to_le_bytes());
        put(54, &56u16.to_le_bytes());
        let phnum = self.phnum.unwrap_or(self.segments.len() as u16);
        put(56, &phnum.to_le_bytes());
        put(58, &64u16.to_le_bytes());
        put(60, &0u16.to_le_bytes());
        put(62, &0u16.to_le_bytes());
        for (i, ph) in self.segments.iter().enumerate() {
            let at = 64 + 56 * i;
            put(at, &ph.kind.to_le_bytes());
            put(at + 4, &ph.flags.to_le_bytes());
            put(at + 8, &ph.offset.to_le_bytes());
            put(at + 16, &ph.vaddr.to_le_bytes());
            put(at + 24, &ph.vaddr.to_le_bytes());
            put(at + 32, &ph.filesz.to_le_bytes());
            put(at + 40, &ph.memsz.to_le_bytes());
            put(at + 48, &0x1000u64.to_le_bytes());
        }
        file
    }

    fn parse(&self) -> Result<Executable, ElfError> {
        parse(&self.bytes(), RANGE)
    }

    fn with(mut self, change: impl FnOnce(&mut Self)) -> Self {
        change(&mut self);
        self
    }
}

#[test]
fn a_good_program_passes_with_its_segments() {
    let exe = Image::good().parse().unwrap();
    assert_eq!(exe.entry, 0x40_1010);
    assert_eq!(exe.segments.len(), 3);
    let perms: Vec<Permissions> = exe.segments.iter().map(|s| s.permissions).collect();
    let p = |write, execute| Permissions { write, execute };
    assert_eq!(perms, [p(false, false), p(false, true), p(true, false)]);
    let data = exe.segments[2];
    assert_eq!((data.filesz, data.memsz), (0x98, 0x4_00a0));
    assert_eq!(data.pages(), 0x403..0x444);
    // The headers lie in the first segment: AT_PHDR is their address there.
    assert_eq!(exe.phdr, Some(0x40_0040));
    assert_eq!((exe.phnum, exe.phent), (3, 56));
}

#[test]
fn pt_phdr_gives_the_header_address() {
    let phdr = Ph {
        kind: PT_PHDR,
        flags: R,
        offset: 64,
        vaddr: 0x40_0040,
        filesz: 56 * 4,
        memsz: 56 * 4,
    };
    let exe = Image::good()
        .with(|i| i.segments.insert(0, phdr))
        .parse()
        .unwrap();
    assert_eq!(exe.phdr, Some(0x40_0040));
    assert_eq!(exe.phnum, 4);
    // Without the headers in a segment, there is no AT_PHDR.
    let exe = Image::good()
        .with(|i| i.segments[0].offset = 0x3000)
        .with(|i| i.segments[0].filesz = 0x10)
        .with(|i| i.segments[0].vaddr = 0x40_0000)
        .parse()
        .unwrap();
    assert_eq!(exe.phdr, None);
}

#[test]
fn truncated_files_are_refused() {
    let good = Image::good().bytes();
    assert_eq!(parse(&[], RANGE), Err(ElfError::Truncated { len: 0 }));
    assert_eq!(
        parse(&good[..63], RANGE),
        Err(ElfError::Truncated { len: 63 })
    );
    // The header is whole, the program headers are not.
    assert!(matches!(
        parse(&good[..64 + 56 * 2], RANGE),
        Err(ElfError::Malformed(_))
    ));
    // Headers whole, a segment's bytes cut.
    assert_eq!(
        parse(&good[..0x3000], RANGE),
        Err(ElfError::PastEndOfFile(2))
    );
}

#[test]
fn wrong_kinds_of_file_are_refused() {
    assert_eq!(parse(&[0u8; 100], RANGE), Err(ElfError::NotElf));
    assert_eq!(
        Image::good().with(|i| i.class = 1).parse(),
        Err(ElfError::WrongClass(1))
    );
    assert_eq!(
        Image::good().with(|i| i.data = 2).parse(),
        Err(ElfError::WrongEndianness(2))
    );
    assert_eq!(
        Image::good().with(|i| i.machine = 183).parse(),
        Err(ElfError::WrongMachine(183))
    );
    assert_eq!(
        Image::good().with(|i| i.kind = 3).parse(),
        Err(ElfError::StaticPie)
    );
    assert_eq!(
        Image::good().with(|i| i.kind = 1).parse(),
        Err(ElfError::NotExecutable(1))
    );
    let interp = Ph {
        kind: PT_INTERP,
        flags: R,
        offset: 0x100,
        vaddr: 0x40_0100,
        filesz: 28,
        memsz: 28,
    };
    assert_eq!(
        Image::good().with(|i| i.segments.push(interp)).parse(),
        Err(ElfError::Interpreter)
    );
    // A dynamically linked PIE is refused for its interpreter.
    assert_eq!(
        Image::good()
            .with(|i| i.segments.push(interp))
            .with(|i| i.kind = 3)
            .parse(),
        Err(ElfError::Interpreter)
    );
}

#[test]
fn bad_segments_are_refused() {
    let bad = |change: fn(&mut Vec<Ph>)| Image::good().with(|i| change(&mut i.segments)).parse();
    assert_eq!(
        bad(|s| s[1].flags = R | W | X),
        Err(ElfError::WritableExecutable(1))
    );
    assert_eq!(
        bad(|s| s[2].filesz = s[2].memsz + 1),
        Err(ElfError::FileLargerThanMemory(2))
    );
    assert_eq!(bad(|s| s[1].offset = 0x1010), Err(ElfError::Misaligned(1)));
    assert_eq!(
        bad(|s| s[2].vaddr = 0xffff_8000_0000_3000),
        Err(ElfError::OutsideUserRange(2))
    );
    assert_eq!(bad(|s| s[0].vaddr = 0), Err(ElfError::OutsideUserRange(0)));
    assert_eq!(
        bad(|s| s[2].memsz = u64::MAX - 0x1000),
        Err(ElfError::OutsideUserRange(2))
    );
    assert_eq!(
        bad(|s| s[1].offset = u64::MAX - 0xfff),
        Err(ElfError::PastEndOfFile(1))
    );
    // Overlapping, and sharing a page without overlapping.
    assert_eq!(
        bad(|s| s[2].vaddr = 0x40_2000),
        Err(ElfError::Overlap(1, 2))
    );
    assert_eq!(
        bad(|s| {
            s[2].vaddr = 0x40_2800;
            s[2].offset = 0x2800;
            s[2].filesz = 0;
        }),
        Err(ElfError::Overlap(1, 2))
    );
    assert_eq!(bad(|s| s[2].memsz = 2 << 30), Err(ElfError::TooLarge));
    assert_eq!(bad(|s| s.clear()), Err(ElfError::NoLoadSegments));
}

#[test]
fn the_entry_must_be_in_executable_code() {
    for entry in [0x40_0010, 0x40_3010, 0x40_2800, 0x10] {
        assert_eq!(
            Image::good().with(|i| i.entry = entry).parse(),
            Err(ElfError::EntryNotExecutable(entry))
        );
    }
}

#[test]
fn huge_counts_are_refused_early() {
    let huge = Image::good().with(|i| i.phnum = Some(0xfff0)).parse();
    assert_eq!(huge, Err(ElfError::TooManyProgramHeaders(0xfff0)));
    let over = Image::good().with(|i| i.phnum = Some(MAX_PROGRAM_HEADERS + 1));
    assert_eq!(
        over.parse(),
        Err(ElfError::TooManyProgramHeaders(MAX_PROGRAM_HEADERS + 1))
    );
    // At the bound the count is read; the extra headers are of no known
    // type (the filler bytes) and ignored.
    let just = Image::good().with(|i| i.phnum = Some(MAX_PROGRAM_HEADERS));
    assert_eq!(just.parse().map(|e| e.phnum), Ok(MAX_PROGRAM_HEADERS));
    // A count whose table runs past the end: malformed, not a panic.
    let short = Image::good()
        .with(|i| i.phnum = Some(MAX_PROGRAM_HEADERS))
        .with(|i| i.len = 64 + 56 * 3);
    let bytes = short.bytes();
    assert!(matches!(
        parse(&bytes[..64 + 56 * 3], RANGE),
        Err(ElfError::Malformed(_))
    ));
}

#[test]
fn every_error_reads_as_a_sentence() {
    let errors = [
        ElfError::StaticPie,
        ElfError::WritableExecutable(1),
        ElfError::Truncated { len: 3 },
        ElfError::Overlap(0, 2),
    ];
    for err in errors {
        let text = std::format!("{err}");
        assert!(text.len() > 10, "{text}");
    }
    assert_eq!(
        std::format!("{}", ElfError::WritableExecutable(1)),
        "segment 1 is writable and executable (W^X)"
    );
    assert!(std::format!("{}", ElfError::StaticPie).contains("ET_DYN"));
}

proptest! {
    // Cheap cases; enough that a damaged flag byte lands often.
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Any damage to the headers gives an error or a program that still
    /// keeps every promise: never a panic, never W+X, never outside the
    /// range, never an entry outside the code.
    #[test]
    fn damaged_headers_never_pass_unchecked(
        damage in proptest::collection::vec((0usize..64 + 56 * 3, any::<u8>()), 1..4),
    ) {
        let mut file = Image::good().bytes();
        for (at, byte) in damage {
            file[at] = byte;
        }
        if let Ok(exe) = parse(&file, RANGE) {
            for (i, s) in exe.segments.iter().enumerate() {
                prop_assert!(!(s.permissions.write && s.permissions.execute));
                prop_assert!(s.vaddr >= RANGE.start && s.vaddr + s.memsz <= RANGE.end);
                prop_assert!(s.filesz <= s.memsz);
                prop_assert!(s.offset + s.filesz <= file.len() as u64);
                prop_assert_eq!(s.offset % 4096, s.vaddr % 4096);
                for t in &exe.segments[i + 1..] {
                    let (a, b) = (s.pages(), t.pages());
                    prop_assert!(a.end <= b.start || b.end <= a.start);
                }
            }
            prop_assert!(exe
                .segments
                .iter()
                .any(|s| s.permissions.execute && s.contains(exe.entry)));
        }
    }
}
