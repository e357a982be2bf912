//! Validating a program file: a static ELF64 executable for x86-64, read
//! with the `elf` crate (bounds-checked, zero-copy) and checked against
//! what the loader needs before a single page is mapped. Pure logic, tested
//! on the host (elf_tests.rs).
//!
//! What passes: ELF64, little-endian, x86-64, `ET_EXEC`, no `PT_INTERP`,
//! at most [`MAX_PROGRAM_HEADERS`] program headers, and `PT_LOAD` segments
//! that are each readable or executable but never writable and executable
//! (W^X), hold no more file bytes than memory bytes, lie in the file and in
//! the range the caller allows (the lower half, above page 0), have file
//! offsets congruent with their addresses modulo the page size, and share
//! no page with one another (a page has one set of permissions). The entry
//! point lies in an executable segment. Static-PIE (`ET_DYN`) is refused:
//! it would need relocating.

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use elf::ElfBytes;
use elf::abi::{EM_X86_64, ET_DYN, ET_EXEC, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_PHDR};
use elf::endian::LittleEndian;
use elf::parse::ParseError;

use crate::memory::PAGE_SIZE;

/// The most program headers a program may have: real programs have a
/// dozen; the bound keeps a hostile count from costing time.
pub const MAX_PROGRAM_HEADERS: u16 = 64;
/// The most memory a program's segments may span.
pub const MAX_IMAGE_BYTES: u64 = 1 << 30;

/// Why a file is not a program Pyrite can load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// The file is shorter than an ELF header.
    Truncated {
        /// The file's length.
        len: usize,
    },
    /// The file does not start with the ELF magic.
    NotElf,
    /// Not a 64-bit ELF file (the class byte).
    WrongClass(u8),
    /// Not little-endian (the data byte).
    WrongEndianness(u8),
    /// Not for x86-64 (the machine field).
    WrongMachine(u16),
    /// A position-independent executable, which would need relocating.
    StaticPie,
    /// Not an executable (the type field).
    NotExecutable(u16),
    /// The headers do not parse.
    Malformed(&'static str),
    /// More program headers than [`MAX_PROGRAM_HEADERS`].
    TooManyProgramHeaders(u16),
    /// A `PT_INTERP` segment: the program wants a dynamic linker.
    Interpreter,
    /// No `PT_LOAD` segment.
    NoLoadSegments,
    /// Segment `index` is writable and executable.
    WritableExecutable(usize),
    /// Segment `index` has more file bytes than memory bytes.
    FileLargerThanMemory(usize),
    /// Segment `index`'s file bytes lie past the end of the file.
    PastEndOfFile(usize),
    /// Segment `index`'s offset and address differ modulo the page size.
    Misaligned(usize),
    /// Segment `index` lies outside the range programs may use.
    OutsideUserRange(usize),
    /// Segments `.0` and `.1` share a page.
    Overlap(usize, usize),
    /// The segments span more than [`MAX_IMAGE_BYTES`].
    TooLarge,
    /// The entry point lies in no executable segment.
    EntryNotExecutable(u64),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { len } => {
                write!(f, "only {len} bytes: shorter than an ELF header")
            }
            Self::NotElf => write!(f, "not an ELF file (no ELF magic)"),
            Self::WrongClass(class) => write!(f, "not a 64-bit ELF file (class {class})"),
            Self::WrongEndianness(data) => {
                write!(f, "not a little-endian ELF file (data encoding {data})")
            }
            Self::WrongMachine(machine) => write!(f, "not an x86-64 program (machine {machine})"),
            Self::StaticPie => write!(
                f,
                "a position-independent executable (ET_DYN): Pyrite loads only \
                 static executables linked at a fixed address (ET_EXEC)"
            ),
            Self::NotExecutable(kind) => write!(f, "not an executable (ELF type {kind})"),
            Self::Malformed(what) => write!(f, "malformed ELF file: {what}"),
            Self::TooManyProgramHeaders(count) => write!(
                f,
                "{count} program headers: at most {MAX_PROGRAM_HEADERS} are accepted"
            ),
            Self::Interpreter => write!(
                f,
                "a dynamically linked program (PT_INTERP): only static programs run"
            ),
            Self::NoLoadSegments => write!(f, "no loadable segment"),
            Self::WritableExecutable(i) => {
                write!(f, "segment {i} is writable and executable (W^X)")
            }
            Self::FileLargerThanMemory(i) => {
                write!(f, "segment {i} has more file bytes than memory bytes")
            }
            Self::PastEndOfFile(i) => write!(f, "segment {i} lies past the end of the file"),
            Self::Misaligned(i) => write!(
                f,
                "segment {i}'s file offset and address differ modulo the page size"
            ),
            Self::OutsideUserRange(i) => {
                write!(f, "segment {i} lies outside user space (or in page 0)")
            }
            Self::Overlap(a, b) => write!(f, "segments {a} and {b} share a page"),
            Self::TooLarge => write!(
                f,
                "the segments span more than {}",
                crate::units::ByteSize(MAX_IMAGE_BYTES)
            ),
            Self::EntryNotExecutable(entry) => {
                write!(
                    f,
                    "the entry point {entry:#x} lies in no executable segment"
                )
            }
        }
    }
}

fn malformed(err: ParseError) -> ElfError {
    ElfError::Malformed(match err {
        ParseError::SliceReadError(_) => "a header table lies past the end of the file",
        ParseError::BadEntsize(_) => "a header table's entry size is wrong",
        ParseError::IntegerOverflow | ParseError::TryFromIntError(_) => "an offset overflows",
        ParseError::UnsupportedVersion(_) => "unknown ELF version",
        _ => "the headers do not parse",
    })
}

/// A segment's permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

/// One `PT_LOAD` segment, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Where it starts in memory.
    pub vaddr: u64,
    /// Its length in memory (the bytes past `filesz` are zero).
    pub memsz: u64,
    /// Where its bytes start in the file.
    pub offset: u64,
    /// How many bytes come from the file.
    pub filesz: u64,
    /// What user code may do with it.
    pub permissions: Permissions,
}

impl Segment {
    /// Its first and one-past-last page numbers (none if it is empty).
    pub fn pages(&self) -> Range<u64> {
        if self.memsz == 0 {
            return 0..0;
        }
        self.vaddr / PAGE_SIZE..(self.vaddr + self.memsz).div_ceil(PAGE_SIZE)
    }

    /// Whether `addr` lies in it.
    pub fn contains(&self, addr: u64) -> bool {
        (self.vaddr..self.vaddr + self.memsz).contains(&addr)
    }

    /// Its bytes in `file` (the file it was parsed from).
    pub fn file_bytes<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.offset as usize..(self.offset + self.filesz) as usize]
    }
}

/// A program file, checked: what the loader maps and tells the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executable {
    /// The entry point.
    pub entry: u64,
    /// The `PT_LOAD` segments, in file order.
    pub segments: Vec<Segment>,
    /// Where the program headers lie in memory (`AT_PHDR`), if loaded.
    pub phdr: Option<u64>,
    /// How many program headers (`AT_PHNUM`).
    pub phnum: u16,
    /// The size of one (`AT_PHENT`).
    pub phent: u16,
}

const EHDR_SIZE: usize = 64;
/// Offset of `e_phnum` in an ELF64 header.
const E_PHNUM: usize = 56;

/// Checks the identification bytes, which say how to read the rest.
fn check_ident(file: &[u8]) -> Result<(), ElfError> {
    if file.len() < EHDR_SIZE {
        return Err(ElfError::Truncated { len: file.len() });
    }
    if file[..4] != *b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    match (file[4], file[5]) {
        (2, 1) => {}
        (2, data) => return Err(ElfError::WrongEndianness(data)),
        (class, _) => return Err(ElfError::WrongClass(class)),
    }
    let phnum = u16::from_le_bytes([file[E_PHNUM], file[E_PHNUM + 1]]);
    if phnum > MAX_PROGRAM_HEADERS {
        return Err(ElfError::TooManyProgramHeaders(phnum));
    }
    Ok(())
}

/// Checks `file` as a program whose segments must lie in `allowed`.
pub fn parse(file: &[u8], allowed: Range<u64>) -> Result<Executable, ElfError> {
    check_ident(file)?;
    let elf = ElfBytes::<LittleEndian>::minimal_parse(file).map_err(malformed)?;
    let header = &elf.ehdr;
    if header.e_machine != EM_X86_64 {
        return Err(ElfError::WrongMachine(header.e_machine));
    }
    // A dynamically linked program is usually ET_DYN too: name the cause
    // that matters, the missing dynamic linker.
    let interpreter = elf
        .segments()
        .is_some_and(|table| table.iter().any(|h| h.p_type == PT_INTERP));
    match header.e_type {
        ET_EXEC => {}
        ET_DYN if interpreter => return Err(ElfError::Interpreter),
        ET_DYN => return Err(ElfError::StaticPie),
        other => return Err(ElfError::NotExecutable(other)),
    }
    let table = elf.segments().ok_or(ElfError::NoLoadSegments)?;
    let mut segments = Vec::new();
    let mut phdr = None;
    for header in table.iter() {
        match header.p_type {
            PT_INTERP => return Err(ElfError::Interpreter),
            PT_PHDR => phdr = Some(header.p_vaddr),
            PT_LOAD => segments.push(check_segment(&header, segments.len(), file, &allowed)?),
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegments);
    }
    check_layout(&segments)?;
    let entry = header.e_entry;
    if !segments
        .iter()
        .any(|s| s.permissions.execute && s.contains(entry))
    {
        return Err(ElfError::EntryNotExecutable(entry));
    }
    let table_len = u64::from(header.e_phnum) * u64::from(header.e_phentsize);
    let phdr = phdr.or_else(|| mapped_at(&segments, header.e_phoff, table_len));
    Ok(Executable {
        entry,
        segments,
        phdr,
        phnum: header.e_phnum,
        phent: header.e_phentsize,
    })
}

/// Where the file bytes `offset..offset + len` appear in memory, if one
/// segment holds them all (the program headers, without `PT_PHDR`).
fn mapped_at(segments: &[Segment], offset: u64, len: u64) -> Option<u64> {
    segments
        .iter()
        .find(|s| s.offset <= offset && offset.saturating_add(len) <= s.offset + s.filesz)
        .map(|s| s.vaddr + (offset - s.offset))
}

/// Checks one `PT_LOAD` header, the `index`th.
fn check_segment(
    header: &elf::segment::ProgramHeader,
    index: usize,
    file: &[u8],
    allowed: &Range<u64>,
) -> Result<Segment, ElfError> {
    let flags = header.p_flags;
    let permissions = Permissions {
        write: flags & PF_W != 0,
        execute: flags & PF_X != 0,
    };
    if permissions.write && permissions.execute {
        return Err(ElfError::WritableExecutable(index));
    }
    // PF_R is not checked: x86 pages cannot be made unreadable, so every
    // segment is mapped readable.
    if header.p_filesz > header.p_memsz {
        return Err(ElfError::FileLargerThanMemory(index));
    }
    match header.p_offset.checked_add(header.p_filesz) {
        Some(end) if end <= file.len() as u64 => {}
        _ => return Err(ElfError::PastEndOfFile(index)),
    }
    if header.p_offset % PAGE_SIZE != header.p_vaddr % PAGE_SIZE {
        return Err(ElfError::Misaligned(index));
    }
    match header.p_vaddr.checked_add(header.p_memsz) {
        Some(end) if header.p_vaddr >= allowed.start && end <= allowed.end => {}
        _ => return Err(ElfError::OutsideUserRange(index)),
    }
    Ok(Segment {
        vaddr: header.p_vaddr,
        memsz: header.p_memsz,
        offset: header.p_offset,
        filesz: header.p_filesz,
        permissions,
    })
}

/// Checks that no two segments share a page and that together they are
/// not too large.
fn check_layout(segments: &[Segment]) -> Result<(), ElfError> {
    let mut pages = 0u64;
    for (i, a) in segments.iter().enumerate() {
        for (j, b) in segments.iter().enumerate().skip(i + 1) {
            let (pa, pb) = (a.pages(), b.pages());
            if pa.start < pb.end && pb.start < pa.end {
                return Err(ElfError::Overlap(i, j));
            }
        }
        pages += a.pages().end - a.pages().start;
    }
    if pages * PAGE_SIZE > MAX_IMAGE_BYTES {
        return Err(ElfError::TooLarge);
    }
    Ok(())
}
