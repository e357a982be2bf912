//! A process's open files: descriptors 0, 1 and 2 are the console; the
//! others are module files opened read-only from the file tree.

use alloc::vec::Vec;

use crate::fs::File;

/// The most descriptors a process may have open.
pub const MAX_FILES: usize = 64;
/// The first descriptor `open` hands out.
const FIRST_FILE: usize = 3;

/// What a descriptor refers to.
#[derive(Debug, Clone, Copy)]
pub enum Open {
    /// The console (0 reads, 1 and 2 write).
    Console,
    /// A file, and where the next read starts.
    File {
        /// The file.
        file: File<'static>,
        /// The offset.
        offset: u64,
    },
}

/// The descriptor table.
#[derive(Debug)]
pub struct FileTable {
    slots: Vec<Option<Open>>,
}

impl Default for FileTable {
    fn default() -> Self {
        Self::new()
    }
}

impl FileTable {
    /// 0, 1 and 2 open on the console.
    pub fn new() -> Self {
        Self {
            slots: alloc::vec![Some(Open::Console); FIRST_FILE],
        }
    }

    /// What `fd` refers to.
    pub fn get(&self, fd: u64) -> Option<Open> {
        self.slots.get(usize::try_from(fd).ok()?).copied().flatten()
    }

    /// Changes what `fd` refers to (its offset).
    pub fn set(&mut self, fd: u64, open: Open) {
        if let Some(slot) = usize::try_from(fd).ok().and_then(|i| self.slots.get_mut(i)) {
            *slot = Some(open);
        }
    }

    /// Opens `file` at the lowest free descriptor, if there is room.
    pub fn open(&mut self, file: File<'static>) -> Option<u64> {
        let open = Open::File { file, offset: 0 };
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(open);
            return Some(i as u64);
        }
        if self.slots.len() >= MAX_FILES {
            return None;
        }
        self.slots.push(Some(open));
        Some(self.slots.len() as u64 - 1)
    }

    /// Closes `fd`; false if it was not open.
    pub fn close(&mut self, fd: u64) -> bool {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::take)
            .is_some()
    }

    /// Closes every descriptor (at exit).
    pub fn close_all(&mut self) {
        self.slots = Vec::new();
    }
}
