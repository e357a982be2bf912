//! Loading a checked program ([`Executable`]) into a new [`AddressSpace`]:
//! its segments with their permissions, a stack below a guard page, and
//! the System V initial stack on it. The space is not active meanwhile: it
//! is edited through the space's own map/write API.
//!
//! Every frame comes from the space, so an error at any step drops the
//! space and with it everything mapped so far: a failed load leaks nothing.

use core::fmt;
use core::ops::Range;

use x86_64::VirtAddr;

use super::elf::{self, ElfError, Executable, Segment};
use super::initial_stack::{self, StackContents, StackError, auxv};
use crate::memory::PAGE_SIZE;
use crate::memory::page::Page;
use crate::memory::paging::{AddressSpace, EntryFlags, MapError, UnmapError};

/// One past the highest byte of a program's stack. The top page of the
/// lower half stays unmapped, so user code never runs up to the edge of
/// canonical addresses (where `sysret` would return to a non-canonical
/// address on some CPUs).
pub const USER_STACK_TOP: u64 = 0x0000_7fff_ffff_f000;
/// The stack's size.
pub const USER_STACK_BYTES: u64 = 128 * 1024;
/// The lowest stack address; the page below is its guard, never mapped.
pub const USER_STACK_BOTTOM: u64 = USER_STACK_TOP - USER_STACK_BYTES;
/// How much of the stack the arguments and environment may take.
pub const MAX_ARGUMENT_BYTES: u64 = USER_STACK_BYTES / 4;
/// Where a program's segments may lie: above page 0 (a null pointer always
/// faults) and below the stack's guard page.
pub const USER_IMAGE_RANGE: Range<u64> = PAGE_SIZE..USER_STACK_BOTTOM - PAGE_SIZE;

/// Why a program could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// No file has this path (or it is a directory).
    File(crate::fs::FsError),
    /// The file is not a program Pyrite runs.
    Elf(ElfError),
    /// Out of memory for the space, its tables or its pages.
    Memory(MapError),
    /// The arguments or environment do not fit.
    Arguments(StackError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(err) => write!(f, "{err}"),
            Self::Elf(err) => write!(f, "{err}"),
            Self::Memory(MapError::FrameAllocationFailed) => {
                write!(f, "not enough memory for the program")
            }
            Self::Memory(err) => write!(f, "cannot map the program: {err}"),
            Self::Arguments(err) => write!(f, "{err}"),
        }
    }
}

impl From<ElfError> for LoadError {
    fn from(err: ElfError) -> Self {
        Self::Elf(err)
    }
}

impl From<MapError> for LoadError {
    fn from(err: MapError) -> Self {
        Self::Memory(err)
    }
}

impl From<StackError> for LoadError {
    fn from(err: StackError) -> Self {
        Self::Arguments(err)
    }
}

/// A program loaded into its own address space, ready to enter: jump to
/// `entry` in ring 3 with `rsp` = `stack_pointer` and the space active.
pub struct LoadedImage {
    /// The program's address space; dropping it frees every frame.
    pub space: AddressSpace,
    /// The entry point.
    pub entry: VirtAddr,
    /// `rsp` at entry: the System V initial stack, 16-byte aligned.
    pub stack_pointer: VirtAddr,
    /// The program as checked, segments and all.
    pub executable: Executable,
}

/// Checks `file` and loads it with `argv`, `envp` and the 16 `random`
/// bytes that AT_RANDOM points at.
pub fn load_image(
    file: &[u8],
    argv: &[&[u8]],
    envp: &[&[u8]],
    random: [u8; 16],
) -> Result<LoadedImage, LoadError> {
    let executable = elf::parse(file, USER_IMAGE_RANGE)?;
    let aux = [
        (auxv::AT_PHDR, executable.phdr.unwrap_or(0)),
        (auxv::AT_PHENT, u64::from(executable.phent)),
        (auxv::AT_PHNUM, u64::from(executable.phnum)),
        (auxv::AT_PAGESZ, PAGE_SIZE),
        (auxv::AT_ENTRY, executable.entry),
    ];
    // AT_PHDR only where the headers are loaded.
    let first = usize::from(executable.phdr.is_none());
    let contents = StackContents {
        argv,
        envp,
        aux: &aux[first..],
        random,
    };
    // The file and the arguments are checked before any frame is taken.
    let stack = initial_stack::build(USER_STACK_TOP, &contents, MAX_ARGUMENT_BYTES)?;

    let mut space = AddressSpace::new()?;
    for segment in &executable.segments {
        map_segment(&mut space, file, segment)?;
    }
    let stack_pages = USER_STACK_BOTTOM / PAGE_SIZE..USER_STACK_TOP / PAGE_SIZE;
    for number in stack_pages {
        space.map(page(number), EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE)?;
    }
    write(&mut space, stack.stack_pointer, &stack.bytes);
    Ok(LoadedImage {
        space,
        entry: VirtAddr::new(executable.entry),
        stack_pointer: VirtAddr::new(stack.stack_pointer),
        executable,
    })
}

fn page(number: u64) -> Page {
    Page::containing(VirtAddr::new(number * PAGE_SIZE))
}

/// The page flags of a segment: read-only unless writable, no-execute
/// unless executable (user access is added by the space).
pub fn segment_flags(segment: &Segment) -> EntryFlags {
    let mut flags = EntryFlags::empty();
    if segment.permissions.write {
        flags |= EntryFlags::WRITABLE;
    }
    if !segment.permissions.execute {
        flags |= EntryFlags::NO_EXECUTE;
    }
    flags
}

/// Maps `segment`'s pages, each to a new zeroed frame, and copies its file
/// bytes in. The rest (bss, and the tail of the last file page) stays zero.
fn map_segment(space: &mut AddressSpace, file: &[u8], segment: &Segment) -> Result<(), MapError> {
    let flags = segment_flags(segment);
    for number in segment.pages() {
        space.map(page(number), flags)?;
    }
    write(space, segment.vaddr, segment.file_bytes(file));
    Ok(())
}

/// Copies `data` into the space at `addr`, page by page. The pages are
/// mapped: the caller mapped them just before.
fn write(space: &mut AddressSpace, addr: u64, data: &[u8]) {
    let mut addr = addr;
    let mut rest = data;
    while !rest.is_empty() {
        let room = (PAGE_SIZE - addr % PAGE_SIZE) as usize;
        let (chunk, next) = rest.split_at(room.min(rest.len()));
        let written: Result<(), UnmapError> = space.write(VirtAddr::new(addr), chunk);
        // The caller mapped every page of the range.
        written.expect("a page just mapped is mapped");
        addr += chunk.len() as u64;
        rest = next;
    }
}
